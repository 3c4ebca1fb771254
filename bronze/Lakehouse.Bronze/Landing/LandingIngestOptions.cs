namespace Lakehouse.Bronze.Landing;

/// <summary>How a landing folder or container is ingested. Every property is validated when set; defaults are documented on each.</summary>
public sealed class LandingIngestOptions
{
    private TimeSpan _pollInterval = TimeSpan.FromSeconds(5);
    private TimeSpan _settleTime = TimeSpan.FromSeconds(2);
    private TimeSpan _maxSettleWait = TimeSpan.FromMinutes(1);
    private int _maxBatchFiles = 1000;
    private long _maxBatchEvents = 250_000;
    private long _maxBatchBytes = 64L << 20;
    private string? _file;
    private string? _captureHub;

    /// <summary>The format of every file, whatever its extension (<c>--format</c>); null (the default) decides by extension.</summary>
    public LandingFormat? Format { get; set; }

    /// <summary>Keep polling for new files until cancelled (<c>--follow</c>); false (the default) ingests what is there and returns.</summary>
    public bool Follow { get; set; }

    /// <summary>
    /// The event hub whose Capture files these are (<c>--capture-hub</c>): <c>hub</c> (the folders may be named anyhow; only the
    /// partition is read from the path) or <c>namespace/hub</c> (each file's path must name that hub). Null (the default): the
    /// hub is the <c>{Namespace}/{EventHub}</c> of Capture's default path. Capture records are landed only when bronze does not
    /// hold their (hub, partition, sequence number) yet, from the live stream or an earlier Capture file.
    /// </summary>
    public string? CaptureHub
    {
        get => _captureHub;
        set => _captureHub = value is null ? null : CaptureOrigin.Validate(value);
    }

    /// <summary>Throws <see cref="ArgumentException"/> saying what is wrong when <paramref name="value"/> is not a <see cref="CaptureHub"/> value.</summary>
    public static void CheckCaptureHub(string value) => CaptureOrigin.Validate(value);

    /// <summary>Only this file (a path relative to the landing root) instead of every file; null (the default) for all.</summary>
    public string? File
    {
        get => _file;
        set
        {
            if (value is not null) ArgumentException.ThrowIfNullOrWhiteSpace(value);
            _file = value;
        }
    }

    /// <summary>The time between two looks at the landing zone when following. 10 ms to 1 day; default 5 s.</summary>
    public TimeSpan PollInterval
    {
        get => _pollInterval;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.FromMilliseconds(10));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, TimeSpan.FromDays(1));
            _pollInterval = value;
        }
    }

    /// <summary>
    /// A file is taken only when it was last modified at least this long ago (a writer that pauses longer than this between two
    /// writes of one file should write to a temporary name and rename). 0 to 1 day; default 2 s.
    /// </summary>
    public TimeSpan SettleTime
    {
        get => _settleTime;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, TimeSpan.FromDays(1));
            _settleTime = value;
        }
    }

    /// <summary>
    /// Without <see cref="Follow"/>, how long to wait for files that are still being written before returning without them
    /// (they are reported as pending). 0 to 1 day; default 1 minute.
    /// </summary>
    public TimeSpan MaxSettleWait
    {
        get => _maxSettleWait;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.Zero);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, TimeSpan.FromDays(1));
            _maxSettleWait = value;
        }
    }

    /// <summary>At most this many files go into one bronze commit. 1 to 100,000; default 1000.</summary>
    public int MaxBatchFiles
    {
        get => _maxBatchFiles;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 100_000);
            _maxBatchFiles = value;
        }
    }

    /// <summary>
    /// A commit takes no further file once it holds this many events (a file is never split: one file alone may exceed it).
    /// Batches of a few hundred thousand events let the next batch be read while one is written. 1 to 1,000,000,000; default 250,000.
    /// </summary>
    public long MaxBatchEvents
    {
        get => _maxBatchEvents;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1_000_000_000);
            _maxBatchEvents = value;
        }
    }

    /// <summary>A commit takes no further file once its payloads add up to this many bytes. 1 KiB to 64 GiB; default 64 MiB.</summary>
    public long MaxBatchBytes
    {
        get => _maxBatchBytes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1024);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 64L << 30);
            _maxBatchBytes = value;
        }
    }
}

/// <summary>What a landing ingest has done so far (or in all, when it returns), for progress, the summary and <c>--json</c>.</summary>
/// <param name="FilesIngested">Files whose events were committed by this run.</param>
/// <param name="FilesSkipped">Files found already in bronze (by their listing or their content identity), each counted once.</param>
/// <param name="FilesPending">Files still being written at the last look (not ingested; a later run takes them).</param>
/// <param name="FilesFailed">Files that could not be ingested (unknown extension, unreadable, damaged); see <paramref name="Problems"/>.</param>
/// <param name="Events">Events committed.</param>
/// <param name="PayloadBytes">Bytes of the committed payloads.</param>
/// <param name="FileBytes">Bytes of the ingested files as stored (compressed or not).</param>
/// <param name="Commits">Bronze commits made.</param>
/// <param name="Elapsed">Time since the run started.</param>
/// <param name="Problems">One line per failed file: its location and what is wrong.</param>
public sealed record LandingIngestProgress(
    long FilesIngested, long FilesSkipped, long FilesPending, long FilesFailed, long Events, long PayloadBytes, long FileBytes, long Commits,
    TimeSpan Elapsed, IReadOnlyList<string> Problems)
{
    /// <summary>Capture records not landed because bronze already held their hub, partition and sequence number (from the live stream or another Capture file).</summary>
    public long EventsAlreadyHeld { get; init; }

    /// <summary>Events per second over <see cref="Elapsed"/>.</summary>
    public double EventsPerSecond => Elapsed.TotalSeconds > 0 ? Events / Elapsed.TotalSeconds : 0;
}
