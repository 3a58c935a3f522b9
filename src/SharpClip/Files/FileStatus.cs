using System.Runtime.InteropServices;

namespace SharpClip.Files;

/// <summary>What a path is, as the operating system says (<c>stat</c>/<c>lstat</c>), not as its name suggests.</summary>
public enum FileKind { Missing, Regular, Directory, SymbolicLink, Fifo, Socket, CharacterDevice, BlockDevice, Other }

/// <summary>
/// The kind, size, modification time and identity (device + inode) of a path. .NET's <see cref="FileInfo"/> cannot
/// tell a FIFO from an empty file (both "Normal", length 0) and reports a symbolic link's own size, so reading
/// folders safely needs the system's own answer: on Linux (x64, arm64) this calls libc's <c>stat</c>/<c>lstat</c>;
/// elsewhere it falls back to what .NET exposes (no FIFO detection there).
/// </summary>
public readonly record struct FileStatus(FileKind Kind, long Size, long ModifiedTicksUtc, ulong Device, ulong Inode)
{
    /// <summary>The status of what <paramref name="path"/> names, following symbolic links (a dangling link is Missing).</summary>
    public static FileStatus Of(string path) => Query(path, followLinks: true);

    /// <summary>The status of <paramref name="path"/> itself: a symbolic link is reported as one.</summary>
    public static FileStatus OfLink(string path) => Query(path, followLinks: false);

    /// <summary>A short human name for error messages ("a FIFO", "a directory").</summary>
    public string Describe() => Kind switch
    {
        FileKind.Missing => "missing", FileKind.Regular => "a file", FileKind.Directory => "a directory",
        FileKind.SymbolicLink => "a symbolic link", FileKind.Fifo => "a FIFO (named pipe)", FileKind.Socket => "a socket",
        FileKind.CharacterDevice => "a character device", FileKind.BlockDevice => "a block device", _ => "not a regular file",
    };

    static FileStatus Query(string path, bool followLinks)
    {
        if (OperatingSystem.IsLinux() && StatLayout.Current is { } layout && !s_noNativeStat)
        {
            try { return Native(path, followLinks, layout); }
            catch (EntryPointNotFoundException) { s_noNativeStat = true; } // glibc before 2.33 exports only __xstat
        }
        return Managed(path, followLinks);
    }

    // struct stat on glibc: st_dev @0, st_ino @8, st_size @48, st_mtim @88 on both x64 and arm64; st_mode @24 on x64
    // (after st_nlink, 8 bytes) and @16 on arm64 (the generic layout).
    sealed record StatLayout(int ModeOffset)
    {
        public static readonly StatLayout? Current = RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => new StatLayout(24),
            Architecture.Arm64 => new StatLayout(16),
            _ => null,
        };
    }

    static bool s_noNativeStat;

    const int Enoent = 2, Enotdir = 20, Eloop = 40;

    static unsafe FileStatus Native(string path, bool followLinks, StatLayout layout)
    {
        byte* buffer = stackalloc byte[256];
        int rc = followLinks ? stat(path, buffer) : lstat(path, buffer);
        if (rc != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is Enoent or Enotdir or Eloop) return new FileStatus(FileKind.Missing, 0, 0, 0, 0);
            throw new IOException($"{path}: cannot read its status ({Marshal.GetPInvokeErrorMessage(errno)})");
        }
        uint mode = *(uint*)(buffer + layout.ModeOffset);
        var kind = (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular, 0x4000 => FileKind.Directory, 0xA000 => FileKind.SymbolicLink, 0x1000 => FileKind.Fifo,
            0xC000 => FileKind.Socket, 0x2000 => FileKind.CharacterDevice, 0x6000 => FileKind.BlockDevice, _ => FileKind.Other,
        };
        long seconds = *(long*)(buffer + 88), nanoseconds = *(long*)(buffer + 96);
        long ticks = DateTime.UnixEpoch.Ticks + seconds * TimeSpan.TicksPerSecond + nanoseconds / 100;
        return new FileStatus(kind, *(long*)(buffer + 48), ticks, *(ulong*)buffer, *(ulong*)(buffer + 8));
    }

    static FileStatus Managed(string path, bool followLinks)
    {
        FileSystemInfo info = Directory.Exists(path) ? new DirectoryInfo(path) : new FileInfo(path);
        if (info.LinkTarget is not null)
        {
            if (!followLinks) return new FileStatus(FileKind.SymbolicLink, 0, info.LastWriteTimeUtc.Ticks, 0, 0);
            try { info = info.ResolveLinkTarget(returnFinalTarget: true) ?? info; }
            catch (IOException) { return new FileStatus(FileKind.Missing, 0, 0, 0, 0); }
        }
        if (!info.Exists) return new FileStatus(FileKind.Missing, 0, 0, 0, 0);
        return info is FileInfo f
            ? new FileStatus(FileKind.Regular, f.Length, f.LastWriteTimeUtc.Ticks, 0, 0)
            : new FileStatus(FileKind.Directory, 0, info.LastWriteTimeUtc.Ticks, 0, 0);
    }

    [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false)]
    static extern unsafe int stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte* buffer);

    [DllImport("libc", SetLastError = true, CharSet = CharSet.Ansi, BestFitMapping = false)]
    static extern unsafe int lstat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte* buffer);
}
