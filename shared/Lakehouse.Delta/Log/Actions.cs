namespace Lakehouse.Delta.Log;

/// <summary>One action of the Delta transaction log (PROTOCOL.md "Actions").</summary>
public abstract record DeltaAction;

/// <summary>The protocol versions and table features a reader or writer must support.</summary>
public sealed record ProtocolAction(int MinReaderVersion, int MinWriterVersion, IReadOnlyList<string>? ReaderFeatures, IReadOnlyList<string>? WriterFeatures) : DeltaAction
{
    /// <summary>True when the table lists <paramref name="feature"/> among its reader or writer features.</summary>
    public bool HasFeature(string feature) =>
        (ReaderFeatures?.Contains(feature) ?? false) || (WriterFeatures?.Contains(feature) ?? false);
}

/// <summary>The table's identity, schema, partition columns and configuration.</summary>
public sealed record MetadataAction(
    string Id,
    string? Name,
    string? Description,
    string FormatProvider,
    string SchemaString,
    IReadOnlyList<string> PartitionColumns,
    IReadOnlyDictionary<string, string> Configuration,
    long? CreatedTime) : DeltaAction;

/// <summary>Where a file's deletion vector lives and how many rows it deletes.</summary>
/// <param name="StorageType">'u' (relative UUID path), 'i' (inline Z85) or 'p' (absolute path).</param>
/// <param name="PathOrInlineDv">The encoded UUID (with optional prefix), the inline bitmap, or the path.</param>
/// <param name="Offset">Byte offset of the bitmap in an on-disk file.</param>
/// <param name="SizeInBytes">Size of the serialized bitmap.</param>
/// <param name="Cardinality">Number of deleted rows.</param>
public sealed record DeletionVectorDescriptor(string StorageType, string PathOrInlineDv, int? Offset, int SizeInBytes, long Cardinality)
{
    /// <summary>The identity of the vector, used with the file path as the key of a logical file.</summary>
    public string UniqueId => Offset is { } o ? $"{StorageType}{PathOrInlineDv}@{o}" : StorageType + PathOrInlineDv;
}

/// <summary>A data file added to the table.</summary>
public sealed record AddAction(
    string Path,
    IReadOnlyDictionary<string, string?> PartitionValues,
    long Size,
    long ModificationTime,
    bool DataChange,
    string? Stats,
    IReadOnlyDictionary<string, string>? Tags = null,
    DeletionVectorDescriptor? DeletionVector = null,
    long? BaseRowId = null,
    long? DefaultRowCommitVersion = null,
    string? ClusteringProvider = null) : DeltaAction
{
    /// <summary>Path and deletion-vector id: the key that add and remove actions reconcile on.</summary>
    public (string Path, string? DvId) Key => (Path, DeletionVector?.UniqueId);
}

/// <summary>A data file removed from the table (a tombstone kept until vacuum).</summary>
public sealed record RemoveAction(
    string Path,
    long? DeletionTimestamp,
    bool DataChange,
    bool? ExtendedFileMetadata = null,
    IReadOnlyDictionary<string, string?>? PartitionValues = null,
    long? Size = null,
    DeletionVectorDescriptor? DeletionVector = null,
    IReadOnlyDictionary<string, string>? Tags = null,
    string? Stats = null) : DeltaAction
{
    /// <summary>Path and deletion-vector id, as <see cref="AddAction.Key"/>.</summary>
    public (string Path, string? DvId) Key => (Path, DeletionVector?.UniqueId);
}

/// <summary>An idempotent writer's progress marker: application id and the last version it committed.</summary>
public sealed record TxnAction(string AppId, long Version, long? LastUpdated) : DeltaAction;

/// <summary>Provenance of a commit, kept as its raw JSON object.</summary>
/// <param name="Json">The commitInfo object as written.</param>
/// <param name="Timestamp">Its "timestamp" (ms since the epoch), when present.</param>
/// <param name="InCommitTimestamp">Its "inCommitTimestamp", when present.</param>
/// <param name="Operation">Its "operation", when present.</param>
public sealed record CommitInfoAction(string Json, long? Timestamp, long? InCommitTimestamp, string? Operation) : DeltaAction;

/// <summary>A named domain's configuration (writer feature domainMetadata).</summary>
public sealed record DomainMetadataAction(string Domain, string Configuration, bool Removed) : DeltaAction;

/// <summary>A change-data file; readers of the table's content skip it.</summary>
public sealed record CdcAction(string Path) : DeltaAction;

/// <summary>The header of a V2 checkpoint.</summary>
public sealed record CheckpointMetadataAction(long Version) : DeltaAction;

/// <summary>A V2 checkpoint's reference to a sidecar file of add/remove actions in _delta_log/_sidecars.</summary>
/// <param name="Path">The sidecar's path, relative to _delta_log/_sidecars (or absolute).</param>
/// <param name="SizeInBytes">The sidecar's size when the checkpoint was written (null when not recorded): a reader refuses a sidecar of another size.</param>
public sealed record SidecarAction(string Path, long? SizeInBytes) : DeltaAction;
