using System.Collections.Concurrent;
using Lakehouse.Core;
using Lakehouse.Delta.Log;

namespace Lakehouse.Delta.Write;

/// <summary>
/// Deletes expired log files after a checkpoint, as Delta's metadata cleanup does, so a table's <c>_delta_log</c> folder holds
/// about its log retention's worth of commits instead of every commit ever made (a stream commits several times a second).
/// The retention is <c>delta.logRetentionDuration</c> (30 days by default); <c>delta.enableExpiredLogCleanup = false</c> turns
/// the cleanup off.
/// </summary>
/// <remarks>
/// The newest complete checkpoint whose files and commit are older than the retention is where the log then starts. The log
/// files before it (commits, checkpoints, log compactions) are deleted oldest first, up to the first one younger than the
/// retention, so what is left, even after a cleanup cut short, is the log without its beginning, never a log with a hole.
/// Every version from that checkpoint on stays readable, which takes in every version younger than the retention; time travel
/// to an older version, or an incremental read from one (<see cref="DeltaTable.GetChangesAsync"/>), is refused with a message. A process cleans a table at most once an
/// hour (the listing of a long log is what it costs), in the background of the commit that wrote the checkpoint.
/// </remarks>
internal static class LogCleanup
{
    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);
    private static readonly ConcurrentDictionary<string, DateTimeOffset> LastRun = new(StringComparer.Ordinal);

    private static readonly ConcurrentDictionary<string, Task> Running = new(StringComparer.Ordinal);

    /// <summary>
    /// Starts the cleanup in the background when it is due, so the commit that triggered it does not wait: the first cleanup of
    /// an old table's log can have many thousands of files to delete. One runs at a time per table. A failure is logged; a process
    /// that ends meanwhile leaves the log without its beginning, which the next cleanup finishes.
    /// </summary>
    internal static void Start(DeltaTable table, IReadOnlyDictionary<string, string> configuration, DateTimeOffset now)
    {
        if (Running.ContainsKey(table.Location) || !Due(table, configuration, now)) return;
        var run = new Task<Task>(async () =>
        {
            try
            {
                await DeleteExpiredAsync(table, configuration, now, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e) when (e is LakehouseException or IOException or UnauthorizedAccessException)
            {
                LogEvents.ExpiredLogCleanupFailed(table.Logger, table.Location, e.Message, e);
            }
            finally
            {
                Running.TryRemove(table.Location, out _);
            }
        });
        if (!Running.TryAdd(table.Location, run.Unwrap())) return;
        run.Start(TaskScheduler.Default);
    }

    /// <summary>The cleanup running for <paramref name="location"/>, or a completed task when none runs (for tests that wait for it).</summary>
    internal static Task WhenDoneAsync(string location) => Running.TryGetValue(location, out var task) ? task : Task.CompletedTask;

    /// <summary>Deletes what has expired at <paramref name="now"/> and waits for it; the number of files deleted (0 when it is not yet due).</summary>
    internal static async Task<int> RunAsync(DeltaTable table, IReadOnlyDictionary<string, string> configuration, DateTimeOffset now, CancellationToken cancellationToken) =>
        Due(table, configuration, now) ? await DeleteExpiredAsync(table, configuration, now, cancellationToken).ConfigureAwait(false) : 0;

    /// <summary>True, and the table's hour started, when cleanup is on and the table's last one was an hour or more before <paramref name="now"/>.</summary>
    private static bool Due(DeltaTable table, IReadOnlyDictionary<string, string> configuration, DateTimeOffset now)
    {
        if (!TableProperties.IsExpiredLogCleanupEnabled(configuration)) return false;
        if (LastRun.TryGetValue(table.Location, out var last) && now - last < Interval) return false;
        LastRun[table.Location] = now;
        return true;
    }

    private static async Task<int> DeleteExpiredAsync(DeltaTable table, IReadOnlyDictionary<string, string> configuration, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var cutoff = now - TableProperties.LogRetentionOf(configuration);
        var listing = await table.ListLogAsync(cancellationToken).ConfigureAwait(false);
        var commits = listing.Where(f => f.Kind == LogFileKind.Commit).ToDictionary(f => f.Version);
        var start = LogSegment.CompleteCheckpoints(listing)
            .Where(c => c.Value.All(f => f.File.LastModified <= cutoff) && (!commits.TryGetValue(c.Key, out var commit) || commit.File.LastModified <= cutoff))
            .Select(c => c.Key)
            .DefaultIfEmpty(-1)
            .Max();
        if (start <= 0) return 0;

        // A prefix of the log: the first file younger than the retention (clocks and copies can make one) ends it, so what is
        // left never has a hole that a check of the log would report.
        var expired = listing
            .Where(f => (f.Kind == LogFileKind.Compaction ? f.EndVersion : f.Version) < start)
            .OrderBy(f => f.Version)
            .TakeWhile(f => f.File.LastModified <= cutoff)
            .ToList();
        foreach (var file in expired) await table.Storage.DeleteAsync(file.File.Path, cancellationToken).ConfigureAwait(false);
        if (expired.Count > 0) LogEvents.ExpiredLogDeleted(table.Logger, expired.Count, table.Location, start, cutoff);
        return expired.Count;
    }
}
