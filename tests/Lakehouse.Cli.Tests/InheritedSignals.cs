using System.Globalization;
using System.Runtime.InteropServices;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// A process started with SIGINT ignored (a background job of a non-interactive shell, nohup) passes SIG_IGN on to its
/// children, and a child that inherits it never sees Ctrl+C. The signal tests need their child to be started as from a
/// terminal, so the test process restores SIGINT's default before starting it when it finds it ignored.
/// </summary>
internal static partial class InheritedSignals
{
    private const int SigInt = 2;
    private static readonly IntPtr SigDefault = IntPtr.Zero;
    private static readonly Lock Gate = new();

    internal static void RestoreSigIntDefault()
    {
        if (!OperatingSystem.IsLinux() || !IsIgnored(SigInt)) return;
        lock (Gate) Signal(SigInt, SigDefault);
    }

    /// <summary>Whether this process ignores <paramref name="signal"/>: the SigIgn mask of /proc/self/status.</summary>
    private static bool IsIgnored(int signal)
    {
        var line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
        return line is not null && ulong.TryParse(line[7..].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var mask)
            && (mask & (1UL << (signal - 1))) != 0;
    }

    [LibraryImport("libc", EntryPoint = "signal")]
    private static partial IntPtr Signal(int signal, IntPtr handler);
}
