using Lakehouse.Bronze;

namespace Lakehouse.Serve.Ingest;

/// <summary>Limits of <c>POST /ingest/{dataset}</c>.</summary>
public sealed class HttpIngestOptions
{
    private long _maxBodyBytes = 32L << 20;
    private long _maxBufferedBytes = 512L << 20;

    /// <summary>The largest request body (default 32 MiB); a bigger one is answered 413 and nothing of it is landed.</summary>
    public long MaxBodyBytes
    {
        get => _maxBodyBytes;
        set => _maxBodyBytes = value is >= 1 and <= int.MaxValue - 64 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Between 1 byte and 2 GiB.");
    }

    /// <summary>
    /// The request bodies held in memory at once, being read or waiting for their commit (default 512 MiB), each event counting
    /// 256 bytes beside its bytes. A request that would go past it is answered 503 with Retry-After instead of buffering without
    /// end (413 when its events alone would). At least <see cref="MaxBodyBytes"/>.
    /// </summary>
    public long MaxBufferedBytes
    {
        get => _maxBufferedBytes;
        set => _maxBufferedBytes = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "At least 1 byte.");
    }

    /// <summary>How waiting requests are grouped into bronze commits, and how many may wait (past that: 503).</summary>
    public GroupCommitOptions GroupCommit { get; } = new();

    /// <summary>
    /// Whether a dataset exists (404 otherwise). Default: the lake's datasets as <c>DatasetCatalog.Lookup</c> sees them: the
    /// built-in ones (weblogs, sensors, accesslogs) and those with a definition file <c>&lt;lake&gt;/_lakehouse/datasets/&lt;name&gt;.json</c>,
    /// one added while the server runs included.
    /// </summary>
    public Func<string, bool>? IsKnownDataset { get; set; }

    /// <summary>
    /// The one dataset taken (default null: every dataset of the lake): <c>lakehouse stream --from http</c> sets its own, so a
    /// POST for another dataset is answered 404 instead of landing in a bronze table no layer of the stream follows.
    /// </summary>
    public string? OnlyDataset { get; set; }

    /// <summary>Refuses settings that contradict each other.</summary>
    internal void Validate()
    {
        if (MaxBufferedBytes < MaxBodyBytes)
            throw new ArgumentOutOfRangeException(nameof(MaxBufferedBytes), MaxBufferedBytes, $"The buffered bytes ({MaxBufferedBytes}) must be at least the largest body ({MaxBodyBytes}).");
    }
}
