namespace Lakehouse.Delta.Write;

/// <summary>
/// Retries reads that race with other writers on a local disk: a listing that meets a temporary file just renamed away,
/// or a commit file still held open by the writer creating it, fails with an <see cref="IOException"/> for an instant.
/// </summary>
internal static class TransientIo
{
    private const int Attempts = 50;

    internal static async Task<T> RetryAsync<T>(Func<Task<T>> read, CancellationToken cancellationToken)
    {
        for (var i = 1; ; i++)
        {
            try
            {
                return await read().ConfigureAwait(false);
            }
            catch (IOException) when (i < Attempts)
            {
                await Task.Delay(5 + Random.Shared.Next(0, 10 * Math.Min(i, 10)), cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
