using Lakehouse.Delta.Write;

namespace Lakehouse.Bronze.Landing;

/// <summary>A file staged in a batch: where it is, how its rows are labelled, and the identities its commit records.</summary>
internal sealed class StagedFile
{
    internal StagedFile(long source, LandingFileIdentity identity, string kind, string? partition)
    {
        Source = source;
        Identity = identity;
        Kind = kind;
        Partition = partition;
    }

    /// <summary>The file's number among the stage's sources.</summary>
    internal long Source { get; }

    internal LandingFileIdentity Identity { get; }

    /// <summary>The rows' source_kind.</summary>
    internal string Kind { get; }

    /// <summary>The rows' source_partition: a Capture file's event hub partition, a rewritten file's generation (<c>v2</c>…), or null.</summary>
    internal string? Partition { get; }

    /// <summary>The txn application ids the commit records for this file (its listing identity, and its content identity when read).</summary>
    internal List<string> AppIds { get; } = [];

    /// <summary>False when only the identity is recorded (its content was ingested before under another version).</summary>
    internal bool HasRows { get; set; }

    internal long Events { get; set; }

    internal long PayloadBytes { get; set; }

    /// <summary>The event hub partition of a Capture file that is reconciled with the live stream; null otherwise.</summary>
    internal CaptureOrigin? Origin { get; set; }

    /// <summary>The content identity's application id (set when the file is read).</summary>
    internal string? ContentId { get; set; }

    /// <summary>The file's generation at its location (its content identity's txn version; see <see cref="LandingVersions"/>).</summary>
    internal long Generation { get; set; } = 1;

    /// <summary>
    /// The location's guard as read with the versions the generation was taken from (-1: none yet), for a file read anew outside
    /// a Capture; null otherwise. The commit moves it by one (see <see cref="LandingVersions.GuardId"/>).
    /// </summary>
    internal long? LocationGuard { get; set; }

    /// <summary>The sequence numbers of a reconciled Capture file's records, in file order.</summary>
    internal List<long> Sequences { get; } = [];

    /// <summary>The runs of consecutive sequence numbers of a reconciled Capture file (what its commit records as held).</summary>
    internal List<(long First, long Last)> Runs { get; set; } = [];

    /// <summary>Records of a reconciled Capture file taken out because bronze holds them already.</summary>
    internal long Held { get; set; }
}

/// <summary>
/// The rows of one batch of files, staged in a <see cref="BronzeStage"/> (each file one of its sources) before they are committed
/// to bronze in one Delta commit, with the files' bookkeeping: counts, and the identities the commit records.
/// </summary>
internal sealed class LandingStage : IDisposable
{
    private readonly BronzeStage _stage;

    internal LandingStage(BronzeTable table) => _stage = table.CreateStage();

    internal List<StagedFile> Files { get; } = [];

    /// <summary>Events staged in files still in the batch.</summary>
    internal long Events => Files.Sum(f => f.Events);

    /// <summary>Payload bytes staged in files still in the batch.</summary>
    internal long PayloadBytes => Files.Sum(f => f.PayloadBytes);

    /// <summary>Bytes of the files in the batch as stored (compressed or not).</summary>
    internal long FileBytes => Files.Sum(f => f.Identity.Size);

    internal StagedFile Add(LandingFileIdentity identity, string kind, string? partition)
    {
        var file = new StagedFile(_stage.AddSource(kind, identity.Location, partition), identity, kind, partition);
        Files.Add(file);
        return file;
    }

    /// <summary>Appends a line, array element or CSV record of <paramref name="file"/>.</summary>
    internal void AddLine(StagedFile file, ReadOnlySpan<byte> payload, long offset, long line)
    {
        _stage.Add(file.Source, payload, offset, line);
        file.Events++;
        file.PayloadBytes += payload.Length;
    }

    /// <summary>Appends a captured event of <paramref name="file"/>.</summary>
    internal void AddCaptured(StagedFile file, ReadOnlySpan<byte> body, long sequenceNumber, long record, DateTimeOffset? enqueuedTime, string? key)
    {
        _stage.Add(file.Source, body, sequenceNumber, record, key, enqueuedTime);
        if (file.Origin is not null) file.Sequences.Add(sequenceNumber);
        file.Events++;
        file.PayloadBytes += body.Length;
    }

    /// <summary>Takes a file and its rows out of the batch (it changed while it was read, could not be read, or is already in bronze).</summary>
    internal void Remove(StagedFile file)
    {
        _stage.RemoveSource(file.Source);
        Files.Remove(file);
    }

    /// <summary>Ends appending: the rows are in the stage and its connection goes back to the pool.</summary>
    internal void Seal() => _stage.Seal();

    /// <summary>The bronze stage under this batch (reconciling takes rows out of it).</summary>
    internal BronzeStage Rows => _stage;

    /// <summary>
    /// Per event hub partition (normalized hub, partition) of the reconciled Capture files in the batch: the guard counter the
    /// reconciliation read (-1: none), which the commit moves by one.
    /// </summary>
    internal Dictionary<(string Hub, string Partition), long> Guards { get; } = [];

    /// <summary>Per event hub partition of the reconciled Capture files in the batch: the Capture landings' counter it read (-1: none).</summary>
    internal Dictionary<(string Hub, string Partition), long> CaptureGuards { get; } = [];

    /// <summary>The bronze snapshot the batch's Capture files were reconciled against (loaded by the first; null: not yet, or no table).</summary>
    internal Lakehouse.Delta.DeltaSnapshot? Snapshot { get; set; }

    /// <summary>True once <see cref="Snapshot"/> was loaded (it may be null: no table yet).</summary>
    internal bool SnapshotLoaded { get; set; }

    /// <summary>Commits the batch's rows with <paramref name="positions"/> (the files' identities), ingested now.</summary>
    internal Task<DeltaCommitResult> CommitAsync(BronzeTable table, IReadOnlyCollection<DeltaAppTransaction> positions, CancellationToken cancellationToken) =>
        table.CommitAsync(_stage, positions, cancellationToken: cancellationToken);

    /// <summary>Drops the stage's tables.</summary>
    public void Dispose() => _stage.Dispose();
}
