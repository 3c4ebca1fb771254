namespace Lakehouse.Serve.Ingest;

/// <summary>
/// The bytes of request bodies held at once (read, framed into events, waiting for their commit). A reservation past the
/// capacity is refused, so overload turns into 503 answers rather than unbounded memory.
/// </summary>
internal sealed class BodyMemory(long capacity)
{
    private long _used;

    internal long Used => Interlocked.Read(ref _used);

    internal bool TryReserve(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        while (true)
        {
            var used = Interlocked.Read(ref _used);
            if (used + bytes > capacity) return false;
            if (Interlocked.CompareExchange(ref _used, used + bytes, used) == used) return true;
        }
    }

    internal void Release(long bytes) => Interlocked.Add(ref _used, -bytes);
}
