using System.Buffers;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Schema;

namespace Lakehouse.Delta.Write;

/// <summary>
/// One optimistic transaction: the snapshot it read, what it read of it (the whole table, some partitions, some files),
/// the actions it stages, and the commit of version N+1 by put-if-absent. When another writer took the version first,
/// the winning commits are checked against what this transaction read (<see cref="ConflictChecker"/>, Delta's
/// WriteSerializable rules); without a conflict the same actions are retried at the next free version.
/// </summary>
internal sealed class DeltaTransaction
{
    /// <summary>The <c>engineInfo</c> written into every commitInfo.</summary>
    internal static readonly string EngineInfo = "Lakehouse/" + (typeof(DeltaTransaction).Assembly
        .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "1.0.0");

    internal DeltaTransaction(DeltaTable table, DeltaSnapshot? snapshot, string operation)
    {
        Table = table;
        Snapshot = snapshot;
        Operation = operation;
    }

    internal DeltaTable Table { get; }

    /// <summary>The snapshot read, or null when the transaction creates the table.</summary>
    internal DeltaSnapshot? Snapshot { get; private set; }

    /// <summary>The version read; -1 when creating the table.</summary>
    internal long ReadVersion => Snapshot?.Version ?? -1;

    internal string TxnId { get; } = Guid.NewGuid().ToString();

    internal string Operation { get; set; }

    /// <summary>operationParameters of commitInfo; values are strings as Spark writes them (JSON text where structured).</summary>
    internal Dictionary<string, string> Parameters { get; } = new(StringComparer.Ordinal);

    /// <summary>operationMetrics of commitInfo.</summary>
    internal Dictionary<string, long> Metrics { get; } = new(StringComparer.Ordinal);

    internal ProtocolAction? Protocol { get; set; }

    internal MetadataAction? Metadata { get; set; }

    internal List<AddAction> Adds { get; } = [];

    internal List<RemoveAction> Removes { get; } = [];

    internal List<TxnAction> AppTransactions { get; } = [];

    /// <summary>Application ids of <see cref="AppTransactions"/> written with the version each attempt commits at (<see cref="DeltaAppTransaction.RecordsCommitVersion"/>).</summary>
    internal HashSet<string> CommitVersionAppIds { get; } = new(StringComparer.Ordinal);

    /// <summary>True when the transaction's outcome depends on every file of the table (overwrite, unpartitioned merge/delete, restore).</summary>
    internal bool ReadWholeTable { get; set; }

    /// <summary>Partitions the transaction read, as <see cref="PartitionEncoding.TupleKey"/> keys.</summary>
    internal HashSet<string> ReadPartitions { get; } = new(StringComparer.Ordinal);

    /// <summary>A SQL predicate over partition columns describing what the transaction read (replaceWhere), or null.</summary>
    internal string? ReadPartitionPredicate { get; set; }

    /// <summary>Table-relative paths of the files the transaction read or removes.</summary>
    internal HashSet<string> ReadFiles { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// When the files this transaction adds came into being (ms since the epoch): for new data files, when the transaction began (before
    /// it wrote them); a restore sets it to when the files it adds back were removed. A VACUUM committed meanwhile whose retention
    /// reaches back past this time may have deleted them (see <see cref="ConflictChecker"/>).
    /// </summary>
    internal long AddsExistSince { get; set; } = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>A create-by-append may become a plain append when another writer created the same table first.</summary>
    internal bool AllowCreateRace { get; set; }

    /// <summary>Only adds new data: reads nothing, removes nothing, changes no metadata.</summary>
    internal bool IsBlindAppend =>
        !ReadWholeTable && ReadPartitions.Count == 0 && ReadPartitionPredicate is null && ReadFiles.Count == 0
        && Removes.Count == 0 && Metadata is null && Protocol is null && Adds.All(a => a.DataChange);

    /// <summary>Stages the removal of a live file (and records that the transaction read it).</summary>
    internal void Remove(AddAction file, bool dataChange, long timestamp)
    {
        Removes.Add(new RemoveAction(file.Path, timestamp, dataChange, true, file.PartitionValues, file.Size, file.DeletionVector, file.Tags));
        ReadFiles.Add(DeltaPaths.ToTableRelative(file.Path, Table.Storage));
    }

    /// <summary>Records that the transaction's result depends on these files.</summary>
    internal void Read(IEnumerable<AddAction> files)
    {
        foreach (var f in files) ReadFiles.Add(DeltaPaths.ToTableRelative(f.Path, Table.Storage));
    }

    /// <summary>
    /// Whether <see cref="CommitAsync"/> has tried to put the commit file: until then, a failure (a cancellation) means nothing was
    /// committed, so the transaction's new data files can be deleted; after, the put may have landed.
    /// </summary>
    internal bool MayHaveCommitted { get; private set; }

    /// <summary>
    /// Commits at the next free version. Returns the version and how many versions were tried. Throws Conflict
    /// (naming the winning commit and the reason) when a concurrent commit invalidates what this transaction read.
    /// </summary>
    internal async Task<(long Version, int Attempts)> CommitAsync(int maxAttempts, CancellationToken cancellationToken)
    {
        var storage = Table.Storage;
        var attempt = ReadVersion + 1;
        var checker = new ConflictChecker(this);
        for (var tries = 1; ; tries++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                MayHaveCommitted = true;
                await storage.PutIfAbsentAsync(LogFiles.CommitPath(attempt), Serialize(attempt), cancellationToken).ConfigureAwait(false);
                return (attempt, tries);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.AlreadyExists)
            {
                // Lost the race for this version: look at what won.
            }

            if (tries >= maxAttempts)
            {
                // Check what won anyway: a conflict is the better answer, and our own put may have landed after all.
                var (own, last) = await CatchUpAsync(attempt, checker, cancellationToken).ConfigureAwait(false);
                if (own is { } v) return (v, tries);
                throw new LakehouseException(LakehouseErrorReason.Conflict,
                    $"Gave up committing {Operation} to '{Table.Location}' after {tries} attempts: other writers committed first every time (latest version {last - 1}). Nothing was committed; retry later.");
            }

            // After a second loss in a row, back off a little (randomized, growing); then catch up with every commit that won in the meantime and
            // check it, so the next put goes to the version that is free right now rather than one that was free before the pause.
            if (tries > 1) await Task.Delay(Random.Shared.Next(0, Math.Min(250, 2 << Math.Min(tries, 7))), cancellationToken).ConfigureAwait(false);
            var (mine, next) = await CatchUpAsync(attempt, checker, cancellationToken).ConfigureAwait(false);
            if (mine is { } committed) return (committed, tries);
            LogEvents.CommitRaceLost(Table.Logger, Operation, Table.Location, attempt, next, tries + 1);
            attempt = next;
        }
    }

    /// <summary>Reads and checks every commit from <paramref name="from"/> on; returns our own version if one of them is ours, and the first free version.</summary>
    private async Task<(long? Own, long Next)> CatchUpAsync(long from, ConflictChecker checker, CancellationToken cancellationToken)
    {
        var version = from;
        while (await ReadCommitAsync(version, cancellationToken).ConfigureAwait(false) is { } winner)
        {
            if (IsOwnCommit(winner)) return (version, version); // A storage-level retry of our own put had already succeeded.
            await checker.CheckAsync(version, winner, cancellationToken).ConfigureAwait(false);
            version++;
        }
        return (null, version);
    }

    /// <summary>Turns a create-by-append into an append on the table another writer just created.</summary>
    internal void BecomeAppend(DeltaSnapshot created)
    {
        Snapshot = created;
        Metadata = null;
        Protocol = null;
        Operation = DeltaOperations.Write;
        Parameters.Clear();
        Parameters["mode"] = "Append";
        Parameters["partitionBy"] = JsonSerializer.Serialize(created.PartitionColumns, ActionSerializer.SerializerOptions);
    }

    private bool IsOwnCommit(List<DeltaAction> actions) =>
        actions.OfType<CommitInfoAction>().FirstOrDefault() is { } info
        && ConflictChecker.Property(info, "txnId") == TxnId;

    /// <summary>
    /// Reads a commit written by someone else; null when the version does not exist (yet). A commit that stays empty or unparseable
    /// after a short wait (a store that creates the file before writing it) is a damaged log, refused naming the file.
    /// </summary>
    internal async Task<List<DeltaAction>?> ReadCommitAsync(long version, CancellationToken cancellationToken)
    {
        var path = LogFiles.CommitPath(version);
        for (var i = 0; ; i++)
        {
            byte[] bytes;
            try
            {
                bytes = await Table.Storage.ReadAsync(path, cancellationToken).ConfigureAwait(false);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
            {
                return null;
            }
            catch (Exception e) when (e is UnauthorizedAccessException || (e is IOException && (i >= 100 || IsFolder(path))))
            {
                throw new LakehouseException(LakehouseErrorReason.CorruptLog, IsFolder(path)
                    ? $"Delta log of '{Table.Location}' is damaged: '{path}' is a folder, not a log file. Move it out of _delta_log (a commit file of that name cannot be written or read while it is there)."
                    : $"Delta log of '{Table.Location}': commit file '{path}' cannot be read: {e.Message}", e);
            }
            catch (IOException)
            {
                // Still held open by the writer creating it (local disk).
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
                continue;
            }
            // Stores that create a file before writing it (not ours: local commits are hard-linked into place whole) can show
            // an empty or cut-off commit for an instant; wait for it to be complete rather than miss its actions.
            if (bytes.Length == 0 && i < 100)
            {
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
                continue;
            }
            try
            {
                return LogReplay.ParseCommit(bytes, path, Table.Location);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.CorruptLog && i < 20 && bytes.Length > 0)
            {
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private bool IsFolder(string path) => Table.Storage.LocalPathOrNull(path) is { } local && Directory.Exists(local);

    private byte[] Serialize(long version)
    {
        var actions = new List<DeltaAction> { CommitInfo() };
        if (Protocol is not null) actions.Add(Protocol);
        if (Metadata is not null) actions.Add(Metadata);
        actions.AddRange(AppTransactions.Select(t => CommitVersionAppIds.Contains(t.AppId) ? t with { Version = version } : t));
        actions.AddRange(Removes);
        actions.AddRange(Adds);
        return ActionSerializer.ToCommitBytes(actions);
    }

    private CommitInfoAction CommitInfo()
    {
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, ActionSerializer.WriterOptions))
        {
            w.WriteStartObject();
            w.WriteNumber("timestamp", now);
            w.WriteString("operation", Operation);
            w.WriteStartObject("operationParameters");
            foreach (var (k, v) in Parameters) w.WriteString(k, v);
            w.WriteEndObject();
            if (ReadVersion >= 0) w.WriteNumber("readVersion", ReadVersion);
            w.WriteString("isolationLevel", "WriteSerializable");
            w.WriteBoolean("isBlindAppend", IsBlindAppend);
            w.WriteStartObject("operationMetrics");
            foreach (var (k, v) in Metrics) w.WriteString(k, v.ToString(CultureInfo.InvariantCulture));
            w.WriteEndObject();
            w.WriteString("engineInfo", EngineInfo);
            w.WriteString("txnId", TxnId);
            w.WriteEndObject();
        }
        return new CommitInfoAction(System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan), now, null, Operation);
    }

    /// <summary>The protocol of tables this writer creates: (1, 2) without table features, the profile Synapse serverless reads.</summary>
    internal static ProtocolAction Protocol12 { get; } = new(1, 2, null, null);

    /// <summary>True when a type is or contains timestamp_ntz (which needs the timestampNtz table feature).</summary>
    internal static bool UsesTimestampNtz(DeltaType type) => type switch
    {
        PrimitiveType { Name: "timestamp_ntz" } => true,
        StructType s => s.Fields.Any(f => UsesTimestampNtz(f.Type)),
        ArrayType a => UsesTimestampNtz(a.ElementType),
        MapType m => UsesTimestampNtz(m.KeyType) || UsesTimestampNtz(m.ValueType),
        _ => false,
    };
}

/// <summary>The commitInfo operation names.</summary>
internal static class DeltaOperations
{
    internal const string Write = "WRITE";
    internal const string CreateTable = "CREATE TABLE";
    internal const string CreateTableAsSelect = "CREATE TABLE AS SELECT";
    internal const string Merge = "MERGE";
    internal const string Delete = "DELETE";
    internal const string Optimize = "OPTIMIZE";
    internal const string VacuumStart = "VACUUM START";
    internal const string VacuumEnd = "VACUUM END";
    internal const string Restore = "RESTORE";
}
