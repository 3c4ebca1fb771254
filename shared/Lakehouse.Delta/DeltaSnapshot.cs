using Lakehouse.Delta.Log;
using Lakehouse.Delta.Schema;

namespace Lakehouse.Delta;

/// <summary>The state of a Delta table at one version: protocol, metadata, live files and application transactions.</summary>
public sealed class DeltaSnapshot
{
    internal DeltaSnapshot(
        long version,
        ProtocolAction protocol,
        MetadataAction metadata,
        IReadOnlyList<AddAction> files,
        IReadOnlyList<RemoveAction> tombstones,
        IReadOnlyDictionary<string, TxnAction> transactions,
        IReadOnlyDictionary<string, DomainMetadataAction> domains,
        DateTimeOffset timestamp,
        long checkpointVersion,
        bool filesLoaded = true)
    {
        FilesLoaded = filesLoaded;
        Version = version;
        Protocol = protocol;
        Metadata = metadata;
        Files = files;
        Tombstones = tombstones;
        Transactions = transactions;
        Domains = domains;
        Timestamp = timestamp;
        CheckpointVersion = checkpointVersion;
        Schema = StructType.ParseSchema(metadata.SchemaString);
    }

    /// <summary>The table version this snapshot shows.</summary>
    public long Version { get; }

    /// <summary>The protocol in force.</summary>
    public ProtocolAction Protocol { get; }

    /// <summary>The table metadata in force.</summary>
    public MetadataAction Metadata { get; }

    /// <summary>The logical schema.</summary>
    public StructType Schema { get; }

    /// <summary>Partition columns, in order.</summary>
    public IReadOnlyList<string> PartitionColumns => Metadata.PartitionColumns;

    /// <summary>Live data files (logical files: path plus deletion vector).</summary>
    public IReadOnlyList<AddAction> Files { get; }

    /// <summary>Files removed and not yet expired from the log (what vacuum must respect).</summary>
    public IReadOnlyList<RemoveAction> Tombstones { get; }

    /// <summary>The latest <c>txn</c> per application id.</summary>
    public IReadOnlyDictionary<string, TxnAction> Transactions { get; }

    /// <summary>Domain metadata per domain (removed domains excluded).</summary>
    public IReadOnlyDictionary<string, DomainMetadataAction> Domains { get; }

    /// <summary>When this version was committed.</summary>
    public DateTimeOffset Timestamp { get; }

    /// <summary>False for the state-only snapshots a blind append reads: <see cref="Files"/> and <see cref="Tombstones"/> are then empty.</summary>
    internal bool FilesLoaded { get; }

    /// <summary>The checkpoint the snapshot was rebuilt from, or -1.</summary>
    public long CheckpointVersion { get; }

    /// <summary>The column mapping mode: none, name or id.</summary>
    public string ColumnMappingMode => Metadata.Configuration.TryGetValue("delta.columnMapping.mode", out var m) ? m : "none";

    /// <summary>The last committed version of an idempotent writer, or null when it never committed.</summary>
    public long? TransactionVersion(string appId) => Transactions.TryGetValue(appId, out var t) ? t.Version : null;

    /// <summary>A table property, or null.</summary>
    public string? Property(string key) => Metadata.Configuration.TryGetValue(key, out var v) ? v : null;
}
