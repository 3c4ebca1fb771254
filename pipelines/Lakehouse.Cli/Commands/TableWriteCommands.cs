using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Lakehouse.Cli.Import;
using Lakehouse.Core;
using Lakehouse.Delta;
using Lakehouse.Delta.Schema;
using Lakehouse.Delta.Write;

namespace Lakehouse.Cli.Commands;

/// <summary>
/// What a command that changes a table prints with <c>--json</c>: one object of a stable shape. <c>committed</c> is false when
/// nothing was written (no rows, nothing to compact, a transaction the table already holds, a dry run); <c>version</c> is then the
/// table's current version. <c>metrics</c> are the commit's operation metrics (Delta's names, as <c>table history</c> shows them).
/// </summary>
internal sealed record TableChange(string Table, string Operation, bool Committed, long Version, IReadOnlyDictionary<string, long> Metrics)
{
    internal static readonly JsonSerializerOptions JsonOptions = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    internal static TableChange Of(DeltaTable table, DeltaCommitResult result) => new(table.Location, result.Operation, result.Committed, result.Version, result.Metrics);

    internal Task WriteAsync(TextWriter stdout) => stdout.WriteLineAsync(JsonSerializer.Serialize(this, JsonOptions));
}

/// <summary><c>lakehouse table import|vacuum|optimize|restore|set-properties</c>: the commands that commit to a table.</summary>
internal static partial class TableCommands
{
    private const string JsonResultHelp = "Print the result as one JSON object: table, operation, committed, version, metrics.";

    // ---- import -----------------------------------------------------------------------------------------------------------

    private static CliCommand CreateImport(CliSession session)
    {
        var command = new CliCommand("import", "Load NDJSON, CSV or Parquet files into a table, creating it from the files' columns on first use.")
        {
            Details = """
                Later imports must fit the table's schema: missing nullable columns become null, unknown columns are refused.
                The import is one commit: on any error, or Ctrl+C, the table is left as it was and the files written so far are removed
                (with the folders a first import created: a refused new table leaves nothing behind).
                A new table is refused inside another table's folder and in a folder holding tables (a lake or layer folder):
                the outer table's VACUUM would delete the inner one's files.
                --txn appId:version makes a scripted load exactly-once: a re-run with the same or a lower version is skipped.
                """,
            Examples =
            [
                "lakehouse table import landing/*.ndjson --to bronze.weblogs --partition-by event_date",
                "lakehouse table import events.csv --to ./events --mode overwrite",
                "lakehouse table import batch-42.json --to silver.orders --txn loader:42 --json",
            ],
        };
        var files = CommandLine.Files(command, "files",
            "The files: NDJSON (.json, .ndjson, .jsonl), a JSON array (.json), CSV (.csv, .tsv) or Parquet (.parquet), also .gz/.zst compressed; " +
            "- reads standard input; a quoted glob is expanded by DuckDB.");
        var to = new Option<string>("--to") { Description = TableHelp, HelpName = "table", Required = true };
        command.MissingOption = (parse, option) => option == to ? TableTypedAsAFile(parse, files) : null;
        var mode = CommandLine.Choice("--mode", "append adds the rows; overwrite replaces the table's rows (older versions stay readable).", "append", "append", "overwrite");
        var partitionBy = CommandLine.Text("--partition-by", "Partition a new table by these columns (Hive-style folders; a row with an empty string in one is refused, as Delta reads it back as null).", "col[,col]");
        var format = CommandLine.Text("--format", "The files' format when their extension does not tell it (json: NDJSON or one JSON array).", "ndjson|json|csv|parquet");
        var transaction = CommandLine.Text("--txn", "Commit a Delta txn (application id, version) with the rows; skipped if the table already holds it.", "appId:version");
        var maxObjectSize = CommandLine.Text("--max-object-size",
            $"The largest JSON record read (default {ImportOptions.FormatSize(ImportOptions.DefaultMaxObjectSize)}, at most {ImportOptions.FormatSize(ImportOptions.LargestMaxObjectSize)}).", "size");
        var json = JsonOption(JsonResultHelp);
        command.Add(files);
        command.Add(to);
        command.Add(mode);
        command.Add(partitionBy);
        command.Add(format);
        command.Add(transaction);
        command.Add(maxObjectSize);
        command.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var lake = session.OpenLake(parse);
            var options = new ImportOptions { Format = parse.GetValue(format), MaxObjectSize = MaxObjectSize(parse.GetValue(maxObjectSize)) };
            if (options.Format is not null) ImportInputs.ParseFormat(options.Format);
            return await ImportAsync(session, lake, [.. parse.GetValue(files)!], parse.GetValue(to)!, parse.GetValue(mode)!,
                parse.GetValue(partitionBy), options, parse.GetValue(transaction), parse.GetValue(json), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>
    /// Without --to, the table typed among the files, as a new user types it (<c>lakehouse table import bronze.x a.ndjson</c>):
    /// the usage error gives the command line to type, the table moved to --to. Only an argument that is a lake name
    /// (<c>layer.name</c>) and no file or folder here is taken for the table, and only when it is the one; else null (the plain
    /// "needs --to &lt;table&gt;"). The table is never taken from a file's place: one mistyped file name would import into it.
    /// </summary>
    private static string? TableTypedAsAFile(ParseResult parse, Argument<string[]> files)
    {
        var given = parse.GetResult(files)?.Tokens ?? [];
        var tables = given.Where(t => TableReference.IsLakeName(t.Value) && !Path.Exists(t.Value)).ToList();
        if (tables.Count != 1) return null;
        var table = tables[0];
        var words = new List<string> { CliHelp.ProgramName };
        foreach (var token in parse.Tokens)
        {
            if (ReferenceEquals(token, table)) continue;
            words.Add(CommandLine.ShellWord(token.Value));
            if (token.Type == TokenType.Command && token.Value == "import") words.AddRange(["--to", CommandLine.ShellWord(table.Value)]);
        }
        if (given.Count == 1) words.Add("<files>");
        return $"'lakehouse table import' needs --to <table>; to import into {table.Value}, type: {string.Join(' ', words)}";
    }

    /// <summary><c>--max-object-size</c>: a size such as 64MiB between 1 KiB and the largest the reader takes.</summary>
    private static long MaxObjectSize(string? text)
    {
        if (text is null) return ImportOptions.DefaultMaxObjectSize;
        return ImportOptions.ParseSize(text) is { } parsed and >= 1024 and <= ImportOptions.LargestMaxObjectSize
            ? parsed
            : throw CommandLine.Usage($"--max-object-size must be a size between 1KiB and {ImportOptions.FormatSize(ImportOptions.LargestMaxObjectSize)} (e.g. 64MiB), not '{text}'");
    }

    private static async Task<int> ImportAsync(CliSession session, LakeContext lake, IReadOnlyList<string> files, string to, string mode, string? partitionColumns,
        ImportOptions options, string? txn, bool json, CancellationToken cancellationToken)
    {
        var stdout = session.Out;
        var partitionBy = (partitionColumns ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var transaction = ParseTransaction(txn);
        if (TableReference.Parse(to) is { Layer: { } layer, Name: { } name } && LakeNames.OwnTables.Contains(layer + "." + name, StringComparer.Ordinal))
        {
            // Its rows are the lake's records (runs, quality counts, deliveries): rows imported there would pass for what the lake did.
            throw CommandLine.Usage($"'{to}' is one of the lake's own tables ({string.Join(", ", LakeNames.OwnTables)}), which only the lake writes; " +
                                    "import into a table of your own. It can be read, optimized, vacuumed and restored.");
        }
        var storage = lake.TableStorage(to);
        var writer = DeltaWriter.Create(lake.OpenTable(storage), new DeltaWriteOptions { PartitionColumns = partitionBy });
        var table = writer.Table;
        // The files are read with the table's schema when it exists; a snapshot that cannot be read stops the import here.
        StructType? schema;
        long version;
        try
        {
            var snapshot = await table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            (schema, version) = (snapshot.Schema, snapshot.Version);
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
        {
            (schema, version) = (null, -1);
        }
        if (schema is null) CheckNotNested(storage.LocalPathOrNull(""), table.Location);
        using var source = ImportSource.Open(lake.Engine, files, options, schema, table.Location, cancellationToken);
        if (source.Sql is null)
        {
            if (json)
            {
                await new TableChange(table.Location, "WRITE", false, version, new Dictionary<string, long>()).WriteAsync(stdout).ConfigureAwait(false);
                return CliApp.ExitOk;
            }
            await stdout.WriteLineAsync(
                $"nothing to import: {source.NothingReason}; {table.Location} was {(schema is null ? "not created" : "not changed")}").ConfigureAwait(false);
            return CliApp.ExitOk;
        }
        DeltaAppTransaction[]? transactions = transaction is null ? null : [transaction];
        var newFolders = schema is null ? FoldersToCreate(storage.LocalPathOrNull("")) : [];
        DeltaCommitResult? result = null;
        try
        {
            result = await session.Progress.RunAsync($"importing {files.Count} file(s) into {to}", _ => mode == "append"
                ? writer.AppendAsync(source.Sql, transactions, cancellationToken)
                : writer.OverwriteAsync(source.Sql, transactions, cancellationToken)).ConfigureAwait(false);
        }
        catch (LakehouseException e) when (source.Explain(e, table.Location) is { } explained)
        {
            throw explained;
        }
        finally
        {
            // Refused or stopped: a new table leaves no empty folder behind (the writer has deleted its files).
            if (result is null) RemoveEmptyFolders(newFolders);
        }
        if (json)
        {
            await TableChange.Of(table, result).WriteAsync(stdout).ConfigureAwait(false);
            return CliApp.ExitOk;
        }
        if (!result.Committed)
        {
            await stdout.WriteLineAsync(transaction is not null
                ? $"skipped: {table.Location} already holds transaction {transaction.AppId} at version {transaction.Version} or later (table version {result.Version})"
                : $"nothing to import: the files hold no rows (table version {result.Version})").ConfigureAwait(false);
            return CliApp.ExitOk;
        }
        await stdout.WriteLineAsync(
            $"imported {result.Metric("numOutputRows")} rows into {table.Location}: version {result.Version}, " +
            $"{result.Metric("numFiles")} files, {result.Metric("numOutputBytes")} bytes" +
            (mode == "overwrite" ? $", {result.Metric("numRemovedFiles")} files replaced" : "")).ConfigureAwait(false);
        return CliApp.ExitOk;
    }

    /// <summary>
    /// Refuses to create a local table inside another Delta table's folder (its log folder included), or in a folder that holds
    /// Delta tables a few levels down (a lake or layer folder typed as a path; deeper is not searched, so a large folder costs
    /// little): the outer table takes the inner one's files for stray files of its own, which its VACUUM deletes.
    /// </summary>
    private static void CheckNotNested(string? tableFolder, string location)
    {
        if (tableFolder is null) return;
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(tableFolder));
        for (var parent = Path.GetDirectoryName(full); parent is not null; parent = Path.GetDirectoryName(parent))
        {
            if (Directory.Exists(Path.Combine(parent, DeltaLogFolder)))
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Cannot create a table at '{location}': it is inside the Delta table '{parent}', whose VACUUM would delete the new table's files " +
                    "as files of its own that it no longer references. Give a folder outside it.");
        }
        if (!Directory.Exists(full)) return;
        var options = new EnumerationOptions
        {
            RecurseSubdirectories = true,
            MaxRecursionDepth = 3,
            IgnoreInaccessible = true,
            AttributesToSkip = FileAttributes.ReparsePoint,
        };
        if (Directory.EnumerateDirectories(full, DeltaLogFolder, options).FirstOrDefault(d => Path.GetDirectoryName(d) != full) is { } inner)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"Cannot create a table at '{location}': the folder holds the Delta table '{Path.GetDirectoryName(inner)}', whose files the new table's " +
                "VACUUM would delete as files it does not reference. Give a new or empty folder (a table in the lake is written layer.name, e.g. bronze.events).");
    }

    private const string DeltaLogFolder = "_delta_log";

    /// <summary>
    /// The folders of a new local table that do not exist yet, the table's own first and then its missing parents (a new layer
    /// folder, a new lake): what a first import creates, and so what it removes again when it is refused or stopped.
    /// </summary>
    private static List<string> FoldersToCreate(string? tableFolder)
    {
        var missing = new List<string>();
        for (var folder = tableFolder is null ? null : Path.TrimEndingDirectorySeparator(Path.GetFullPath(tableFolder));
             folder is not null && !Path.Exists(folder);
             folder = Path.GetDirectoryName(folder))
            missing.Add(folder);
        return missing;
    }

    /// <summary>
    /// Removes the folders a refused first import created (deepest first) while they are empty: the writer has already deleted its
    /// files, so an empty table folder would otherwise be left behind without a log. A folder that is not empty (another writer's
    /// table or files) is kept, and so are its parents.
    /// </summary>
    private static void RemoveEmptyFolders(List<string> folders)
    {
        foreach (var folder in folders)
        {
            try
            {
                if (!Directory.Exists(folder) || Directory.EnumerateFileSystemEntries(folder).Any()) return;
                Directory.Delete(folder, recursive: false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Filled or locked meanwhile: it is no longer only this import's.
                return;
            }
        }
    }

    /// <summary><c>--txn appId:version</c>: the import commits a Delta txn action and is skipped if the table already holds it.</summary>
    private static DeltaAppTransaction? ParseTransaction(string? text)
    {
        if (text is null) return null;
        var colon = text.LastIndexOf(':');
        return colon > 0 && long.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? new DeltaAppTransaction(text[..colon], version)
            : throw CommandLine.Usage($"--txn must be <appId>:<version> with a whole version, not '{text}'");
    }

    // ---- vacuum -----------------------------------------------------------------------------------------------------------

    /// <summary>Why a retention shorter than the table's needs --force (as Spark says it): the retention is all that protects in-flight writes.</summary>
    internal const string VacuumRetentionNote = """
        Files that a write still in flight has written but not yet committed (a running import, optimize or another
        writer's transaction) are protected only by the retention window: VACUUM cannot tell them from the files of
        writers that died, so it deletes both once they are older than the retention. A retention shorter than the
        table's (delta.deletedFileRetentionDuration, 7 days by default) is therefore refused unless --force is given,
        as Spark refuses it while spark.databricks.delta.retentionDurationCheck.enabled is on: use --force only when no
        write to the table can be running for longer than the retention you give, and no reader needs the older versions.
        """;

    private static CliCommand CreateVacuum(CliSession session)
    {
        var command = new CliCommand("vacuum", "Delete data files the table no longer references once they are older than the retention.")
        {
            Details = VacuumRetentionNote,
            Examples =
            [
                "lakehouse table vacuum silver.weblogs --dry-run          # list what would be deleted",
                "lakehouse table vacuum silver.weblogs                    # the table's retention (7 days by default)",
                "lakehouse table vacuum ./scratch --retention-hours 1 --force   # only when nothing writes to ./scratch",
            ],
        };
        var table = TableArgument();
        var hours = new Option<double?>("--retention-hours")
        {
            Description = "Keep unreferenced files younger than this many hours (default: the table's retention; shorter needs --force).",
            HelpName = "hours",
            CustomParser = result =>
            {
                var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
                if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var h) && h >= 0 && h < 1e6) return h;
                result.AddError($"--retention-hours must be a number from 0 to 999999 (about 114 years), not '{text}'");
                return null;
            },
        };
        var force = CommandLine.Flag("--force", "Allow a retention shorter than the table's (see below).");
        var dryRun = CommandLine.Flag("--dry-run", "List the files that would be deleted, delete nothing.");
        var json = JsonOption(JsonResultHelp + " A dry run adds the files.");
        command.Add(table);
        command.Add(hours);
        command.Add(force);
        command.Add(dryRun);
        command.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var lake = session.OpenLake(parse);
            var delta = lake.Table(parse.GetValue(table)!);
            var retention = parse.GetValue(hours) is { } h ? TimeSpan.FromHours(h) : (TimeSpan?)null;
            var dry = parse.GetValue(dryRun);
            var result = await session.Progress.RunAsync($"vacuuming {delta.Location}",
                _ => DeltaWriter.Create(delta).VacuumAsync(retention, dry, parse.GetValue(force), cancellationToken)).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                var version = (await delta.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Version;
                var metrics = new Dictionary<string, long>(StringComparer.Ordinal)
                {
                    [dry ? "numFilesToDelete" : "numDeletedFiles"] = result.Files.Count,
                    [dry ? "sizeOfDataToDelete" : "sizeOfDeletedData"] = result.Bytes,
                    ["retentionMillis"] = (long)result.Retention.TotalMilliseconds,
                };
                var change = new TableChange(delta.Location, "VACUUM", !dry && result.Files.Count > 0, version, metrics);
                await session.Out.WriteLineAsync(dry
                    ? JsonSerializer.Serialize(new { change.Table, change.Operation, change.Committed, change.Version, change.Metrics, files = result.Files }, TableChange.JsonOptions)
                    : JsonSerializer.Serialize(change, TableChange.JsonOptions)).ConfigureAwait(false);
                return CliApp.ExitOk;
            }
            if (dry)
            {
                foreach (var f in result.Files) await session.Out.WriteLineAsync(f).ConfigureAwait(false);
            }
            await session.Out.WriteLineAsync(
                $"{(dry ? "would delete" : "deleted")} {result.Files.Count} files ({result.Bytes} bytes) older than {result.Retention.TotalHours:0.##} hours that the table no longer references")
                .ConfigureAwait(false);
            return CliApp.ExitOk;
        });
        return command;
    }

    // ---- optimize ---------------------------------------------------------------------------------------------------------

    private static CliCommand CreateOptimize(CliSession session)
    {
        var command = new CliCommand("optimize", "Compact small files into larger ones (bin-packing), and rewrite a file whose deletion vector deletes more than 5% of its rows without them (as Spark's optimize.maxDeletedRowsRatio); the commit changes no data.")
        {
            Examples =
            [
                "lakehouse table optimize bronze.weblogs",
                "lakehouse table optimize bronze.weblogs --where \"ingest_date = '2024-05-01'\" --target-size-mb 256",
            ],
        };
        var table = TableArgument();
        var target = CommandLine.WholeNumber("--target-size-mb", "The size to aim for per file, in MiB (1 to 16384; default: the writer's).", min: 1, max: 16 * 1024, helpName: "MiB");
        var where = CommandLine.Text("--where", "Only the partitions this condition on partition columns selects.", "condition");
        var json = JsonOption(JsonResultHelp);
        command.Add(table);
        command.Add(target);
        command.Add(where);
        command.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(where) is { } condition && string.IsNullOrWhiteSpace(condition))
                throw CommandLine.Usage("--where is blank: give a condition on partition columns (e.g. --where \"ingest_date = '2024-05-01'\"), or leave it out to optimize every partition");
            using var lake = session.OpenLake(parse);
            var delta = lake.Table(parse.GetValue(table)!);
            var options = new DeltaWriteOptions();
            if (parse.GetValue(target) is { } mb) options.TargetFileSizeBytes = mb * 1024 * 1024;
            var result = await session.Progress.RunAsync($"optimizing {delta.Location}",
                _ => DeltaWriter.Create(delta, options).OptimizeAsync(parse.GetValue(where), cancellationToken: cancellationToken)).ConfigureAwait(false);
            return await ReportAsync(session, delta, result, parse.GetValue(json), result.Committed
                ? $"optimized {delta.Location}: version {result.Version}, {result.Metric("numRemovedFiles")} files compacted into {result.Metric("numAddedFiles")}"
                : $"nothing to optimize in {delta.Location}: no partition has two or more files below the target size, and no file has more than 5% of its rows deleted (version {result.Version})").ConfigureAwait(false);
        });
        return command;
    }

    // ---- restore ----------------------------------------------------------------------------------------------------------

    private static CliCommand CreateRestore(CliSession session)
    {
        var command = new CliCommand("restore", "Commit the content of an earlier version as a new version (history is kept).")
        {
            Details = """
                The table's progress markers (Delta txn: how far silver has read bronze, gold silver, a stream its partitions) are set
                back to those of that version with its content, so the next run of the job that writes the table takes up again from
                there: silver run reads the bronze versions again whose rows the restore took out, gold run recomputes the dates. A
                marker first recorded after that version cannot be taken back and stays (a landing file recorded as ingested is not
                ingested again); the command says how many.
                """,
            Examples = ["lakehouse table restore silver.weblogs --version 3", "lakehouse table restore ./events --version 0 --json"],
        };
        var table = TableArgument();
        var version = VersionOption("The version whose content to restore.");
        version.Required = true;
        var json = JsonOption(JsonResultHelp);
        command.Add(table);
        command.Add(version);
        command.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var lake = session.OpenLake(parse);
            var delta = lake.Table(parse.GetValue(table)!);
            var to = parse.GetValue(version)!.Value;
            var result = await session.Progress.RunAsync($"restoring {delta.Location} to version {to}",
                _ => DeltaWriter.Create(delta).RestoreAsync(to, cancellationToken)).ConfigureAwait(false);
            if (result.Metric("numKeptAppTransactions") is > 0 and var kept)
                await session.Error.WriteLineAsync($"warning: {kept} progress marker(s) of {delta.Location} were first recorded after version {to} and stay as they are: " +
                    "what their writers added after it is not written again by them (for example, landing files stay recorded as ingested).").ConfigureAwait(false);
            return await ReportAsync(session, delta, result, parse.GetValue(json), result.Committed
                ? $"restored {delta.Location} to version {to} as version {result.Version}: {result.Metric("numRestoredFiles")} files restored, {result.Metric("numRemovedFiles")} removed" +
                  (result.Metric("numRestoredAppTransactions") is > 0 and var markers ? $", {markers} progress marker(s) set back to version {to}'s" : "")
                : $"{delta.Location} already has the content and progress markers of version {to} (version {result.Version})").ConfigureAwait(false);
        });
        return command;
    }

    // ---- set-properties ---------------------------------------------------------------------------------------------------

    private static CliCommand CreateSetProperties(CliSession session)
    {
        var command = new CliCommand("set-properties", "Set or remove table properties (ALTER TABLE … SET/UNSET TBLPROPERTIES): one commit that changes no data.")
        {
            Details = """
                Properties this writer reads: delta.logRetentionDuration and delta.deletedFileRetentionDuration (intervals such as
                'interval 30 days'), delta.checkpointInterval, delta.appendOnly, delta.enableExpiredLogCleanup, and
                lakehouse.txnRetentionDuration.<appId prefix>, which forgets the txn markers whose application id starts with that
                prefix once a newer txn of the table is that much younger. Bronze tables created since 2026-12-04 carry
                lakehouse.txnRetentionDuration.http/idempotency- = 'interval 7 days': an HTTP Idempotency-Key is answered as a
                duplicate for 7 days, then forgotten. Set it on an older bronze table to bound its snapshots (1M keys cost 1.4 s
                and 370 MB per snapshot). Never give such a prefix to stream positions or landing files: their data would land again.
                Properties that need a table feature outside the Synapse profile (column mapping, deletion vectors, ...) are refused.
                """,
            Examples =
            [
                "lakehouse table set-properties bronze.weblogs 'lakehouse.txnRetentionDuration.http/idempotency-=interval 7 days'",
                "lakehouse table set-properties silver.weblogs delta.logRetentionDuration='interval 60 days' --json",
                "lakehouse table set-properties ./events --unset owner",
            ],
        };
        var table = TableArgument();
        var properties = new Argument<string[]>("properties")
        {
            Description = "Properties to set, each key=value (the value is everything after the first '=').",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var unset = new Option<string[]>("--unset") { Description = "Remove this property (repeat for more); one the table does not have is ignored.", HelpName = "key" };
        var json = JsonOption(JsonResultHelp);
        command.Add(table);
        command.Add(properties);
        command.Add(unset);
        command.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var set = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var given in parse.GetValue(properties) ?? [])
            {
                var eq = given.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0 || string.IsNullOrWhiteSpace(given[..eq]))
                    throw CommandLine.Usage($"'{CliErrors.Printable(given)}' is not key=value (e.g. delta.logRetentionDuration='interval 60 days')");
                if (!set.TryAdd(given[..eq], given[(eq + 1)..])) throw CommandLine.Usage($"property '{CliErrors.Printable(given[..eq])}' is given twice");
            }
            var removed = (parse.GetValue(unset) ?? []).Distinct(StringComparer.Ordinal).ToList();
            if (removed.FirstOrDefault(string.IsNullOrWhiteSpace) is not null) throw CommandLine.Usage("--unset needs a property name");
            if (set.Count == 0 && removed.Count == 0) throw CommandLine.Usage("give a property to set (key=value) or one to remove (--unset key)");
            if (removed.FirstOrDefault(set.ContainsKey) is { } both) throw CommandLine.Usage($"property '{CliErrors.Printable(both)}' is both set and removed");
            using var lake = session.OpenLake(parse);
            var delta = lake.Table(parse.GetValue(table)!);
            var result = await session.Progress.RunAsync($"setting properties of {delta.Location}",
                _ => DeltaWriter.Create(delta).SetPropertiesAsync(set, removed, cancellationToken)).ConfigureAwait(false);
            return await ReportAsync(session, delta, result, parse.GetValue(json), result.Committed
                ? $"{result.Metric("numChangedProperties")} properties set and {result.Metric("numRemovedProperties")} removed in {delta.Location} as version {result.Version}"
                : $"{delta.Location} already has these properties (version {result.Version})").ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>A write command's result: the <see cref="TableChange"/> object with --json, else <paramref name="text"/>.</summary>
    private static async Task<int> ReportAsync(CliSession session, DeltaTable table, DeltaCommitResult result, bool json, string text)
    {
        if (json) await TableChange.Of(table, result).WriteAsync(session.Out).ConfigureAwait(false);
        else await session.Out.WriteLineAsync(text).ConfigureAwait(false);
        return CliApp.ExitOk;
    }
}
