using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Delta;
using Lakehouse.Delta.Log;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;
using Lakehouse.Storage;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse table list|read|info|history|import|vacuum|optimize|restore|set-properties|check</c>.</summary>
internal static partial class TableCommands
{
    private const string TableHelp =
        "The table: layer.name in the lake (bronze, silver or gold; the name is " + LakeNames.TableNameRule + "), " +
        "a folder (with a '/' in it or starting with '.'; a bare name is a folder here), or an abfss:// URI.";

    internal static Command Create(CliSession session)
    {
        var table = new CliCommand("table", "List, read, inspect, load and maintain Delta tables.")
        {
            Examples =
            [
                "lakehouse table list",
                "lakehouse table read gold.page_performance_daily --limit 20",
                "lakehouse table import landing/*.ndjson --to bronze.weblogs",
                "lakehouse table history ./mytable --limit 5",
                "lakehouse table check silver.weblogs --deep",
            ],
        };
        table.Subcommands.Add(CreateList(session));
        table.Subcommands.Add(CreateRead(session));
        table.Subcommands.Add(CreateInfo(session));
        table.Subcommands.Add(CreateHistory(session));
        table.Subcommands.Add(CreateImport(session));
        table.Subcommands.Add(CreateVacuum(session));
        table.Subcommands.Add(CreateOptimize(session));
        table.Subcommands.Add(CreateRestore(session));
        table.Subcommands.Add(CreateSetProperties(session));
        table.Subcommands.Add(CreateCheck(session));
        return table;
    }

    private static Argument<string> TableArgument(string description = TableHelp) => new("table") { Description = description };

    private static Option<bool> JsonOption(string what) => CommandLine.Flag("--json", what);

    private static Option<long?> VersionOption(string description) => CommandLine.WholeNumber("--version", description, min: 0);

    // ---- read -------------------------------------------------------------------------------------------------------------

    private static CliCommand CreateRead(CliSession session)
    {
        var command = new CliCommand("read", "Print a table's rows as CSV or JSON lines, at its latest or an earlier version.")
        {
            Details = $"""
                Row order: a table of up to {OrderedReadRows.ToString("N0", CultureInfo.InvariantCulture)} rows (by its log's statistics), and any --limit, comes in file order. A larger
                table streams in the order DuckDB's threads read its row groups, which can differ from run to run: keeping file order
                would hold the rows read ahead in memory, about 100 MB per million rows. Sort with `lakehouse sql` when order matters.
                """,
            Examples =
            [
                "lakehouse table read silver.weblogs --limit 10",
                "lakehouse table read silver.weblogs --version 3 --format jsonl",
                "lakehouse table read ./events --timestamp 2024-05-01T12:00:00Z > events.csv",
                "lakehouse table read gold.page_performance_daily --format jsonl --out daily.jsonl",
            ],
        };
        var table = TableArgument();
        var version = VersionOption("Read the table as of this version (see table history).");
        var timestamp = CommandLine.Text("--timestamp", "Read the table as it was at this time (ISO-8601, e.g. 2024-05-01T12:00:00Z).", "time");
        var format = CommandLine.Choice("--format", "csv (with a header) or jsonl (one JSON object per row).", "csv", "csv", "jsonl");
        format.Validators.Clear();
        format.Validators.Add(CommandLine.OneOf("--format", ["csv", "jsonl"], alsoAccepted: ["json"])); // json: the older spelling of jsonl
        var limit = CommandLine.WholeNumber("--limit", "At most this many rows.", min: 0);
        var output = CommandLine.Text("--out", "Write the rows to this file (replacing what it held) instead of standard output: DuckDB writes it itself, a copy quicker than a redirection.", "file");
        command.Add(table);
        command.Add(version);
        command.Add(timestamp);
        command.Add(format);
        command.Add(limit);
        command.Add(output);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var file = parse.GetValue(output) is { } given ? OutputFile(given) : null;
            using var lake = session.OpenLake(parse);
            var storage = lake.TableStorage(parse.GetValue(table)!);
            var delta = lake.OpenTable(storage);
            if (file is not null && storage.LocalPathOrNull("") is { } root && IsWithin(file, root))
                throw CommandLine.Usage($"--out '{CliErrors.Printable(parse.GetValue(output)!)}' is inside the table it reads; give a file outside '{CliErrors.Printable(delta.Location)}'");
            if (file is not null) CheckWritable(file, parse.GetValue(output)!);
            var snapshot = await SnapshotAsync(delta, parse.GetValue(version), parse.GetValue(timestamp), cancellationToken).ConfigureAwait(false);
            await session.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            await CopyRowsAsync(lake.Engine, delta, snapshot, parse.GetValue(format)!, parse.GetValue(limit), file, cancellationToken).ConfigureAwait(false);
            return CliApp.ExitOk;
        });
        return command;
    }

    /// <summary>The snapshot a read asks for: --version N, --timestamp T, or the latest.</summary>
    private static async Task<DeltaSnapshot> SnapshotAsync(DeltaTable table, long? version, string? timestamp, CancellationToken cancellationToken)
    {
        if (version is not null && timestamp is not null) throw CommandLine.Usage("give --version or --timestamp, not both");
        if (timestamp is not null)
        {
            if (!DateTimeOffset.TryParse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
                throw CommandLine.Usage($"--timestamp '{timestamp}' is not a date/time (use ISO-8601, e.g. 2024-05-01T12:00:00Z)");
            return await table.GetSnapshotAsync(t, cancellationToken).ConfigureAwait(false);
        }
        return await table.GetSnapshotAsync(version, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The most rows <c>table read</c> writes in file order. A larger table is written in the order DuckDB's threads finish its row
    /// groups: to keep file order, DuckDB holds the rows of every row group that finished early, a memory that grows with the
    /// table (peak RSS of 1M web-log rows read into /dev/null: 271 MiB in file order, 116 MiB without; DuckDB alone copying 10M:
    /// 1,057 MiB and 104 MiB). With --limit the rows are always the table's first, in file order.
    /// </summary>
    internal const long OrderedReadRows = 100_000;

    /// <summary>
    /// What <c>table read</c> does once it has its snapshot: the scan's rows, written by DuckDB as <paramref name="format"/> (csv, or
    /// jsonl where NaN and infinities become strings so every line is JSON) into the file <paramref name="output"/>, or standard
    /// output when it is null (<see cref="DuckCopy.CopyToStandardOutputAsync"/>). Cancelling interrupts DuckDB, which ends its output.
    /// </summary>
    internal static async Task CopyRowsAsync(DuckEngine engine, DeltaTable table, DeltaSnapshot snapshot, string format, long? limit, string? output,
        CancellationToken cancellationToken)
    {
        using var lease = engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection, cancellationToken: cancellationToken).ConfigureAwait(false);
        var query = limit is { } n ? $"SELECT * FROM ({scan.Sql}) LIMIT {n}" : scan.Sql;
        if (format != "csv") query = Sql.LakeQuery.JsonSafe(lease.Connection, query, cancellationToken);
        var options = Output.CopyOptions(format);
        if (limit is null && !TableStatistics.HoldsAtMost(snapshot, OrderedReadRows)) options += ", PRESERVE_ORDER false";
        if (output is null) await lease.Connection.CopyToStandardOutputAsync(query, options, cancellationToken).ConfigureAwait(false);
        // Written in place, as a shell's > would: DuckDB's temporary-file-then-rename would replace a device such as /dev/null.
        else lease.Connection.Execute($"COPY ({query}) TO {SqlText.Literal(output)} ({options}, USE_TMP_FILE false)", cancellationToken);
    }

    /// <summary>
    /// Whether <paramref name="path"/> lies in <paramref name="folder"/>, as written or with their symbolic links resolved: a
    /// --out reaching a data file through a link (a linked lake or table folder) would otherwise be emptied by the read itself.
    /// </summary>
    private static bool IsWithin(string path, string folder)
    {
        static bool Under(string p, string f) => p.StartsWith(Path.TrimEndingDirectorySeparator(f) + "/", StringComparison.Ordinal);
        return Under(path, Path.GetFullPath(folder)) || Under(CliPaths.RealPath(path), CliPaths.RealPath(folder));
    }

    /// <summary>The full path of --out's file, refused with a usage error when it is blank, names a folder, or is in a folder that does not exist.</summary>
    private static string OutputFile(string given)
    {
        if (string.IsNullOrWhiteSpace(given)) throw CommandLine.Usage("--out needs a file name");
        var path = Path.GetFullPath(given);
        if (Directory.Exists(path)) throw CommandLine.Usage($"--out '{CliErrors.Printable(given)}' is a folder; give a file");
        if (Path.GetDirectoryName(path) is { } folder && !Directory.Exists(folder))
            throw CommandLine.Usage($"--out '{CliErrors.Printable(given)}': the folder '{CliErrors.Printable(folder)}' does not exist");
        return path;
    }

    /// <summary>
    /// Refuses an --out file that cannot be opened for writing (a read-only file or folder, /proc), naming it, before anything is
    /// read: DuckDB's COPY said 'IO Error: Cannot open file "/proc/x": No such file or directory' (the cause stays the inner
    /// exception, shown with --verbose). The probe truncates nothing, and deletes a file it created; devices and FIFOs are not
    /// probed (opening a FIFO waits for a reader, and the probe's close would end that reader's input).
    /// </summary>
    private static void CheckWritable(string path, string given)
    {
        if (!LocalFileType.IsRegularOrUnknown(path)) return;
        var existed = File.Exists(path);
        try
        {
            using (new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete)) { }
            if (!existed) File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"--out '{CliErrors.Printable(given)}': the output file cannot be written ({(e is UnauthorizedAccessException ? "permission denied" : "it cannot be opened or created there")})", e);
        }
    }

    // ---- info -------------------------------------------------------------------------------------------------------------

    private static CliCommand CreateInfo(CliSession session)
    {
        var command = new CliCommand("info", "Show a table's version, protocol, schema, partitions, files, rows and size.")
        {
            Examples = ["lakehouse table info silver.weblogs", "lakehouse table info ./events --version 0 --json"],
        };
        var table = TableArgument();
        var version = VersionOption("Describe this version instead of the latest.");
        var json = JsonOption("Print one JSON object instead of text.");
        command.Add(table);
        command.Add(version);
        command.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var lake = session.OpenLake(parse);
            return await InfoAsync(lake, lake.Table(parse.GetValue(table)!), parse.GetValue(version), parse.GetValue(json), session.Out, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> InfoAsync(LakeContext lake, DeltaTable table, long? version, bool json, TextWriter stdout, CancellationToken cancellationToken)
    {
        var snapshot = await table.GetSnapshotAsync(version, cancellationToken).ConfigureAwait(false);
        var rows = await TableStatistics.CountRowsAsync(lake.Engine, table, snapshot, cancellationToken).ConfigureAwait(false);
        var size = snapshot.Files.Sum(f => f.Size);
        var p = snapshot.Protocol;
        if (json)
        {
            var info = new
            {
                location = table.Location,
                version = snapshot.Version,
                timestamp = Output.Format(snapshot.Timestamp),
                protocol = new { minReaderVersion = p.MinReaderVersion, minWriterVersion = p.MinWriterVersion, readerFeatures = p.ReaderFeatures, writerFeatures = p.WriterFeatures },
                id = snapshot.Metadata.Id,
                name = snapshot.Metadata.Name,
                schema = snapshot.Schema.Fields.Select(f => new { name = f.Name, type = TypeText(f.Type), nullable = f.Nullable }),
                partitionColumns = snapshot.PartitionColumns,
                files = snapshot.Files.Count,
                rows,
                sizeBytes = size,
                checkpointVersion = snapshot.CheckpointVersion >= 0 ? snapshot.CheckpointVersion : (long?)null,
                properties = snapshot.Metadata.Configuration,
            };
            await stdout.WriteLineAsync(JsonSerializer.Serialize(info, JsonOptions)).ConfigureAwait(false);
            return CliApp.ExitOk;
        }
        var features = (p.ReaderFeatures ?? []).Concat(p.WriterFeatures ?? []).Distinct().ToList();
        await stdout.WriteLineAsync($"""
            location:   {table.Location}
            version:    {snapshot.Version} ({Output.Format(snapshot.Timestamp)})
            protocol:   reader {p.MinReaderVersion}, writer {p.MinWriterVersion}{(features.Count > 0 ? " [" + CliErrors.Printable(string.Join(", ", features)) + "]" : "")}
            partitions: {(snapshot.PartitionColumns.Count > 0 ? CliErrors.Printable(string.Join(", ", snapshot.PartitionColumns)) : "(none)")}
            files:      {snapshot.Files.Count}
            rows:       {rows}
            size:       {size} bytes
            schema:
            """).ConfigureAwait(false);
        foreach (var f in snapshot.Schema.Fields)
            await stdout.WriteLineAsync($"  {CliErrors.Printable(f.Name)} {CliErrors.Printable(TypeText(f.Type))}{(f.Nullable ? "" : " NOT NULL")}").ConfigureAwait(false);
        if (snapshot.Metadata.Configuration.Count > 0)
        {
            await stdout.WriteLineAsync("properties:").ConfigureAwait(false);
            // Another writer's names and values may hold control characters: shown escaped, they cannot drive the terminal.
            foreach (var (k, v) in snapshot.Metadata.Configuration) await stdout.WriteLineAsync($"  {CliErrors.Printable(k)} = {CliErrors.Printable(v)}").ConfigureAwait(false);
        }
        return CliApp.ExitOk;
    }

    private static string TypeText(Delta.Schema.DeltaType type) => type switch
    {
        Delta.Schema.PrimitiveType p => p.Name,
        Delta.Schema.DecimalType d => $"decimal({d.Precision},{d.Scale})",
        Delta.Schema.ArrayType a => $"array<{TypeText(a.ElementType)}>",
        Delta.Schema.MapType m => $"map<{TypeText(m.KeyType)},{TypeText(m.ValueType)}>",
        Delta.Schema.StructType s => "struct<" + string.Join(",", s.Fields.Select(f => f.Name + ":" + TypeText(f.Type))) + ">",
        _ => type.ToString(),
    };

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true };

    // ---- history ----------------------------------------------------------------------------------------------------------

    private static CliCommand CreateHistory(CliSession session)
    {
        var command = new CliCommand("history", "List a table's commits, newest first: version, time, operation, parameters and metrics.")
        {
            Examples = ["lakehouse table history bronze.weblogs --limit 5", "lakehouse table history ./events --json"],
        };
        var table = TableArgument();
        var limit = CommandLine.WholeNumber("--limit", "Only the newest N commits.", min: 1, max: int.MaxValue);
        var json = JsonOption("Print one JSON object per commit (JSON lines) instead of a text table.");
        command.Add(table);
        command.Add(limit);
        command.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var lake = session.OpenLake(parse);
            var history = await lake.Table(parse.GetValue(table)!).GetHistoryAsync((int?)parse.GetValue(limit), cancellationToken).ConfigureAwait(false);
            await WriteHistoryAsync(history, parse.GetValue(json), session.Out).ConfigureAwait(false);
            return CliApp.ExitOk;
        });
        return command;
    }

    private static async Task WriteHistoryAsync(IReadOnlyList<CommitSummary> history, bool json, TextWriter stdout)
    {
        if (json)
        {
            foreach (var h in history)
            {
                await stdout.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    version = h.Version,
                    timestamp = Output.Format(h.Timestamp),
                    operation = h.Operation,
                    operationParameters = h.OperationParameters is null ? (JsonElement?)null : JsonDocument.Parse(h.OperationParameters).RootElement,
                    operationMetrics = h.OperationMetrics is null ? (JsonElement?)null : JsonDocument.Parse(h.OperationMetrics).RootElement,
                    engineInfo = h.EngineInfo,
                })).ConfigureAwait(false);
            }
            return;
        }
        await Output.WriteTableAsync(stdout, ["version", "timestamp", "operation", "parameters", "metrics", "engine"],
            [.. history.Select(h => new[] { h.Version.ToString(CultureInfo.InvariantCulture), Output.Format(h.Timestamp), h.Operation, h.OperationParameters, h.OperationMetrics, h.EngineInfo })]).ConfigureAwait(false);
    }
}

/// <summary>Row counts of a snapshot: from file statistics when every file has them, else from parquet footers; less deleted rows.</summary>
internal static class TableStatistics
{
    internal static async Task<long> CountRowsAsync(DuckEngine engine, DeltaTable table, DeltaSnapshot snapshot, CancellationToken cancellationToken)
    {
        await table.CheckFilesAsync(snapshot, cancellationToken).ConfigureAwait(false); // stats count rows of files that may be gone
        long total = 0;
        var withoutStats = new List<AddAction>();
        foreach (var f in snapshot.Files)
        {
            if (StatsJson.NumRecords(f) is { } n) total += n;
            else withoutStats.Add(f);
            total -= f.DeletionVector?.Cardinality ?? 0;
        }
        if (withoutStats.Count == 0) return total;
        using var lease = engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection, new DeltaScanOptions { Files = withoutStats }, cancellationToken).ConfigureAwait(false);
        // The scan already applies deletion vectors, so add back what was subtracted for these files.
        return total + withoutStats.Sum(f => f.DeletionVector?.Cardinality ?? 0) + (long)lease.Connection.Scalar($"SELECT count(*) FROM ({scan.Sql})", cancellationToken)!;
    }

    /// <summary>
    /// The rows of a snapshot from its files' statistics (numRecords less deleted rows); null when a file has none. Counting stops
    /// once the total passes <paramref name="enough"/> (each file's statistics are parsed JSON): the result is then some number above it.
    /// </summary>
    internal static long? CountRowsFromStats(DeltaSnapshot snapshot, long enough = long.MaxValue)
    {
        long total = 0;
        foreach (var f in snapshot.Files)
        {
            if (StatsJson.NumRecords(f) is not { } n) return null;
            total += n - (f.DeletionVector?.Cardinality ?? 0);
            if (total > enough) return total;
        }
        return total;
    }

    /// <summary>Whether the snapshot's files' statistics say it holds at most <paramref name="rows"/> rows; false when a file has none.</summary>
    internal static bool HoldsAtMost(DeltaSnapshot snapshot, long rows) => CountRowsFromStats(snapshot, rows) is { } n && n <= rows;
}
