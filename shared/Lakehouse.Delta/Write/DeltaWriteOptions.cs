namespace Lakehouse.Delta.Write;

/// <summary>Settings of a <see cref="DeltaWriter"/>. Every property is validated when set; the defaults are documented on each.</summary>
public sealed class DeltaWriteOptions
{
    private long _targetFileSizeBytes = 128L * 1024 * 1024;
    private int _maxCommitAttempts = 20;
    private int? _compressionLevel;
    private int _conflictRetries;
    private IReadOnlyList<string> _partitionColumns = [];
    private IReadOnlyDictionary<string, string> _tableProperties = new Dictionary<string, string>();

    /// <summary>
    /// The size data files aim at (DuckDB rotates files at row-group boundaries, so files come out near it, not exactly);
    /// also the size below which OPTIMIZE compacts files. 1 KiB to 16 GiB; default 128 MiB.
    /// </summary>
    public long TargetFileSizeBytes
    {
        get => _targetFileSizeBytes;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1024);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 16L * 1024 * 1024 * 1024);
            _targetFileSizeBytes = value;
        }
    }

    /// <summary>
    /// The zstd level of the Parquet data files this writer writes, 1 (fastest) to 22 (smallest); null (the default) keeps
    /// DuckDB's default (3). Level 1 writes about a third faster than 3, at a few percent more bytes on typical data: write-heavy
    /// tables such as bronze use it. Files already in the table are not rewritten.
    /// </summary>
    public int? CompressionLevel
    {
        get => _compressionLevel;
        set
        {
            if (value is { } level)
            {
                ArgumentOutOfRangeException.ThrowIfLessThan(level, 1);
                ArgumentOutOfRangeException.ThrowIfGreaterThan(level, 22);
            }
            _compressionLevel = value;
        }
    }

    /// <summary>
    /// How many versions a commit tries before giving up when other writers keep winning the race for the next version
    /// (each lost race without a conflict is retried at the next free version, after a short randomized back-off). 1 to 1000; default 20.
    /// </summary>
    public int MaxCommitAttempts
    {
        get => _maxCommitAttempts;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 1000);
            _maxCommitAttempts = value;
        }
    }

    /// <summary>
    /// How many times a whole operation is re-run from a fresh snapshot after a real conflict (another writer changed what it
    /// read); 0 (the default) reports the conflict as a <see cref="Lakehouse.Core.LakehouseException"/> with reason Conflict. 0 to 100.
    /// Re-running is safe for operations whose source can be read again (overwrite, replace partitions, merge, delete).
    /// </summary>
    public int ConflictRetries
    {
        get => _conflictRetries;
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 100);
            _conflictRetries = value;
        }
    }

    /// <summary>Partition columns of a table that a write creates (ignored when the table exists). Default: none.</summary>
    public IReadOnlyList<string> PartitionColumns
    {
        get => _partitionColumns;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Any(string.IsNullOrWhiteSpace)) throw new ArgumentException("Partition column names may not be blank.", nameof(value));
            if (value.Distinct(StringComparer.OrdinalIgnoreCase).Count() != value.Count) throw new ArgumentException("Partition columns must be distinct.", nameof(value));
            _partitionColumns = [.. value];
        }
    }

    /// <summary>
    /// The table property that expires the <c>txn</c> actions whose application id starts with <paramref name="appIdPrefix"/>, set to an
    /// interval such as <c>interval 7 days</c>: a snapshot leaves out such a txn once its <c>lastUpdated</c> is that long before the
    /// newest <c>lastUpdated</c> of the table's txns (the table's own clock), and checkpoints no longer carry it. For markers that
    /// may be forgotten (an HTTP idempotency key); a stream position or landed-file marker must never expire.
    /// </summary>
    public static string TxnRetentionProperty(string appIdPrefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(appIdPrefix);
        return Write.TableProperties.TxnRetentionDurationPrefix + appIdPrefix;
    }

    /// <summary>
    /// Table properties (metaData.configuration) of a table that a write creates, e.g. <c>delta.checkpointInterval</c>
    /// or <c>delta.deletedFileRetentionDuration</c>; ignored when the table exists. Default: none. Properties that need table
    /// features outside protocol (1, 2) (column mapping, deletion vectors, change data feed, ...) are refused with an <see cref="ArgumentException"/>.
    /// </summary>
    public IReadOnlyDictionary<string, string> TableProperties
    {
        get => _tableProperties;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            try
            {
                Write.TableProperties.CheckForCreate(value);
            }
            catch (Lakehouse.Core.LakehouseException e)
            {
                throw new ArgumentException(e.Message, nameof(value), e);
            }
            _tableProperties = new Dictionary<string, string>(value, StringComparer.Ordinal);
        }
    }

    /// <summary>
    /// The sources of this writer's writes (append, overwrite, replace partitions; not merges) are staged (a DuckDB table, or
    /// local Parquet files), so reading them twice is cheap. A write into a partitioned table then reads the source's partition
    /// values first, and writes a source that falls into one partition with a plain COPY, which takes half the time of DuckDB's
    /// partitioned one (4.1M rows: 0.55 against 1.0 s); a source that reads differently the second time is refused rather than
    /// written into the wrong partition. Default false: a source that is a join, or reads a CSV file, would be joined or read twice.
    /// </summary>
    public bool StagedSource { get; set; }
}
