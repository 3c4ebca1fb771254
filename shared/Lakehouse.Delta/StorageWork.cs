using Lakehouse.Storage;

namespace Lakehouse.Delta;

/// <summary>Work done once per file of a table (a stat, a small read, a download).</summary>
internal static class StorageWork
{
    /// <summary>
    /// Runs <paramref name="body"/> for 0 to <paramref name="count"/> − 1: one at a time on local disk, where each is a stat or a small
    /// read and a parallel loop's cold start costs more (about 10 ms of a short command); up to 16 at once on a remote store, where
    /// each waits on the network.
    /// </summary>
    internal static async Task ForEachFileAsync(ILakeStorage storage, int count, Func<int, CancellationToken, ValueTask> body, CancellationToken cancellationToken)
    {
        if (storage.LocalPathOrNull("") is null)
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken }, body)
                .ConfigureAwait(false);
            return;
        }
        for (var i = 0; i < count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await body(i, cancellationToken).ConfigureAwait(false);
        }
    }
}
