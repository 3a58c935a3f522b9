using System.Runtime.InteropServices;

namespace SharpClip.Runtime;

/// <summary>
/// The process environment as native libraries read it. On Linux <see cref="Environment.SetEnvironmentVariable(string, string)"/>
/// changes only .NET's copy, so variables libtorch, libgomp or c10 read must go through libc's <c>setenv</c>.
/// </summary>
internal static class NativeEnvironment
{
    [DllImport("libc", EntryPoint = "setenv", CharSet = CharSet.Ansi)]
    static extern int SetNative(string name, string value, int overwrite);

    [DllImport("libc", EntryPoint = "getenv", CharSet = CharSet.Ansi)]
    static extern IntPtr GetNative(string name);

    /// <summary>Sets <paramref name="name"/> for native code unless it is already set (the user's choice wins). Linux only; false elsewhere or without glibc.</summary>
    public static bool SetDefault(string name, string value)
    {
        if (!OperatingSystem.IsLinux()) return false;
        try
        {
            return SetNative(name, value, overwrite: 0) == 0;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }
    }

    /// <summary>The value native code sees now (null when unset or not on Linux).</summary>
    public static string? Get(string name) =>
        OperatingSystem.IsLinux() && GetNative(name) is var p && p != IntPtr.Zero ? Marshal.PtrToStringAnsi(p) : null;
}
