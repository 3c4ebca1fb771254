using System.Diagnostics;
using System.Globalization;

namespace Lakehouse.Delta.Write;

/// <summary>
/// Crash points of the write path, for the crash harness (tests/Lakehouse.CrashHarness) only. Inert unless the environment variable
/// <c>LAKEHOUSE_FAULT_POINT=&lt;point&gt;:&lt;n&gt;</c> is set when the process starts: then the n-th time (1 = the first) the process
/// reaches that point it kills itself with SIGKILL, which no handler can catch, exactly as <c>kill -9</c> would. Points, in the order
/// of a commit: <c>before-data-files</c> (the snapshot is read, no data file written), <c>after-data-files</c> (every data file in
/// place, the commit not yet written), <c>after-commit</c> (committed, its checkpoint not yet written) and <c>mid-checkpoint</c> (the
/// checkpoint file in place, <c>_last_checkpoint</c> not yet pointing at it). A value that does not parse arms nothing.
/// </summary>
internal static class FaultPoint
{
    internal const string Variable = "LAKEHOUSE_FAULT_POINT";
    internal const string BeforeDataFiles = "before-data-files";
    internal const string AfterDataFiles = "after-data-files";
    internal const string AfterCommit = "after-commit";
    internal const string MidCheckpoint = "mid-checkpoint";

    private static readonly (string Point, int Hit)? Armed = Parse(Environment.GetEnvironmentVariable(Variable));
    private static int _hits;

    /// <summary>Kills this process when <paramref name="point"/> is the armed point and this is its n-th arrival there; else does nothing.</summary>
    internal static void Reach(string point)
    {
        if (Armed is not { } armed || !string.Equals(armed.Point, point, StringComparison.Ordinal)) return;
        if (Interlocked.Increment(ref _hits) != armed.Hit) return;
        using var self = Process.GetCurrentProcess();
        self.Kill(); // SIGKILL on Unix
        Thread.Sleep(Timeout.Infinite);
    }

    private static (string, int)? Parse(string? value)
    {
        if (string.IsNullOrEmpty(value)) return null;
        var colon = value.LastIndexOf(':');
        return colon > 0 && int.TryParse(value.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? (value[..colon], n) : null;
    }
}
