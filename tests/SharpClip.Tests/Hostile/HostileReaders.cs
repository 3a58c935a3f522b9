using System.Runtime.InteropServices;
using SharpClip.Checkpoints;
using SharpClip.Data;
using SharpClip.Files;
using SharpClip.Training;
using SharpClip.Vision;

namespace SharpClip.Tests.Hostile;

/// <summary>
/// The library entry points the corpus feeds, and how each one's inputs are judged. An exception type outside
/// <see cref="HostileReader.IsClear"/> (NullReference, IndexOutOfRange, ArgumentOutOfRange, Overflow, libtorch's
/// ExternalException, a raw JsonException ...) is a crash, whatever its message says.
/// </summary>
internal static class HostileReaders
{
    /// <summary>An image file, decoded as every command decodes it.</summary>
    public static readonly HostileReader Image = new("ImageDecoder.Decode",
        path => { ImageDecoder.Decode(path); return []; },
        e => e is ImageDecodeException or FileNotFoundException || e.GetType() == typeof(IOException));

    /// <summary>A weights file or model folder, read as <c>info</c>, <c>embed</c> and the rest read it.</summary>
    public static readonly HostileReader Checkpoint = new("CheckpointLoader.Read",
        path => { CheckpointLoader.Read(path).Dispose(); return []; },
        e => e.GetType() == typeof(InvalidDataException) || e is UnsafePickleException || e.GetType() == typeof(IOException)
            || e is FileNotFoundException or NotSupportedException);

    /// <summary>A training config file.</summary>
    public static readonly HostileReader TrainingConfigFile = new("TrainingConfig.Load",
        path => { TrainingConfig.Load(path); return []; },
        e => e.GetType() == typeof(InvalidDataException) || e is FileNotFoundException);

    /// <summary>A caption dataset (CSV, JSONL, folder), read to its end as training and evaluation read it.</summary>
    public static readonly HostileReader Captions = new("ImageTextSources.Open + ReadAll",
        path =>
        {
            var stats = new DataStats();
            ImageTextSources.Open(path).ReadAll(stats).Count();
            return stats.Examples;
        },
        e => e is DataFormatException or FileNotFoundException);

    /// <summary>A folder walked as <c>embed</c> and <c>index</c> walk it.</summary>
    public static readonly HostileReader Folder = new("FileTree.Walk",
        path => FileTree.Walk(path, _ => true).Skipped.Select(s => $"{s.Path}: {s.Reason}").ToList(),
        e => e is IOException or UnauthorizedAccessException);

    [DllImport("libc", SetLastError = true)]
    static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    [DllImport("libc")]
    static extern uint geteuid();

    /// <summary>Root reads files whatever their permissions, so an unreadable file can only be made by another user.</summary>
    public static bool CanMakeUnreadableFiles => geteuid() != 0;

    public static void MakeFifo(string path)
    {
        if (mkfifo(path, Convert.ToUInt32("644", 8)) != 0) throw new IOException($"mkfifo {path} failed: errno {Marshal.GetLastPInvokeError()}");
    }
}
