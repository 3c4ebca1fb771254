using System.Globalization;
using Lakehouse.Cli.Import;
using Lakehouse.Core;
using Lakehouse.Delta.Schema;
using Lakehouse.Delta.Write;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse table import|vacuum|optimize|restore</c>: the commands that commit to a table.</summary>
internal static partial class TableCommands
{
    private static partial Task<int> WriteCommandAsync(string command, LakeContext lake, CommandLine line, TextWriter stdout, CancellationToken cancellationToken) =>
        command switch
        {
            "import" => ImportAsync(lake, line, stdout, cancellationToken),
            "vacuum" => VacuumAsync(lake, line, stdout, cancellationToken),
            "optimize" => OptimizeAsync(lake, line, stdout, cancellationToken),
            "restore" => RestoreAsync(lake, line, stdout, cancellationToken),
            _ => throw CommandLine.Usage($"unknown table sub-command '{command}' (read, info, history, import, vacuum, optimize, restore)"),
        };

    private static async Task<int> ImportAsync(LakeContext lake, CommandLine line, TextWriter stdout, CancellationToken cancellationToken)
    {
        var to = line.Option("to") ?? throw CommandLine.Usage("import needs --to <table>");
        var mode = line.Option("mode") ?? "append";
        if (mode is not ("append" or "overwrite")) throw CommandLine.Usage($"--mode must be append or overwrite, not '{mode}'");
        var partitionBy = (line.Option("partition-by") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var transaction = ParseTransaction(line.Option("txn"));
        var format = line.Option("format");
        if (format is not null) ImportInputs.ParseFormat(format);
        var maxObjectSize = ImportOptions.DefaultMaxObjectSize;
        if (line.Option("max-object-size") is { } size)
        {
            maxObjectSize = ImportOptions.ParseSize(size) is { } parsed and >= 1024 and <= ImportOptions.LargestMaxObjectSize
                ? parsed
                : throw CommandLine.Usage($"--max-object-size must be a size between 1KiB and {ImportOptions.FormatSize(ImportOptions.LargestMaxObjectSize)} (e.g. 64MiB), not '{size}'");
        }
        line.RejectUnknownOptions();

        var writer = DeltaWriter.Create(lake.Table(to), new DeltaWriteOptions { PartitionColumns = partitionBy });
        var table = writer.Table;
        // The files are read with the table's schema when it exists; a snapshot that cannot be read stops the import here.
        StructType? schema;
        try
        {
            schema = (await table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false)).Schema;
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
        {
            schema = null;
        }
        using var source = ImportSource.Open(lake.Engine, line.Positionals, new ImportOptions { Format = format, MaxObjectSize = maxObjectSize }, schema, table.Location, cancellationToken);
        if (source.Sql is null)
        {
            await stdout.WriteLineAsync(
                $"nothing to import: {source.NothingReason}; {table.Location} was {(schema is null ? "not created" : "not changed")}").ConfigureAwait(false);
            return CliApp.ExitOk;
        }
        DeltaAppTransaction[]? transactions = transaction is null ? null : [transaction];
        DeltaCommitResult result;
        try
        {
            result = mode == "append"
                ? await writer.AppendAsync(source.Sql, transactions, cancellationToken).ConfigureAwait(false)
                : await writer.OverwriteAsync(source.Sql, transactions, cancellationToken).ConfigureAwait(false);
        }
        catch (LakehouseException e) when (source.Explain(e, table.Location) is { } explained)
        {
            throw explained;
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

    /// <summary><c>--txn appId:version</c>: the import commits a Delta txn action and is skipped if the table already holds it.</summary>
    private static DeltaAppTransaction? ParseTransaction(string? text)
    {
        if (text is null) return null;
        var colon = text.LastIndexOf(':');
        return colon > 0 && long.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var version)
            ? new DeltaAppTransaction(text[..colon], version)
            : throw CommandLine.Usage($"--txn must be <appId>:<version> with a whole version, not '{text}'");
    }

    private static async Task<int> VacuumAsync(LakeContext lake, CommandLine line, TextWriter stdout, CancellationToken cancellationToken)
    {
        var table = lake.Table(line.Positional(0, "the table to vacuum"));
        var hours = line.Option("retention-hours");
        TimeSpan? retention = null;
        if (hours is not null)
        {
            retention = double.TryParse(hours, NumberStyles.Float, CultureInfo.InvariantCulture, out var h) && h >= 0 && h < 1e6
                ? TimeSpan.FromHours(h)
                : throw CommandLine.Usage($"--retention-hours must be a non-negative number, not '{hours}'");
        }
        var force = line.Flag("force");
        var dryRun = line.Flag("dry-run");
        line.RejectUnknownOptions();

        var result = await DeltaWriter.Create(table).VacuumAsync(retention, dryRun, force, cancellationToken).ConfigureAwait(false);
        if (dryRun)
        {
            foreach (var f in result.Files) await stdout.WriteLineAsync(f).ConfigureAwait(false);
        }
        await stdout.WriteLineAsync(
            $"{(dryRun ? "would delete" : "deleted")} {result.Files.Count} files ({result.Bytes} bytes) older than {result.Retention.TotalHours:0.##} hours that the table no longer references")
            .ConfigureAwait(false);
        return CliApp.ExitOk;
    }

    private static async Task<int> OptimizeAsync(LakeContext lake, CommandLine line, TextWriter stdout, CancellationToken cancellationToken)
    {
        var table = lake.Table(line.Positional(0, "the table to optimize"));
        var targetMb = line.LongOption("target-size-mb");
        var where = line.Option("where");
        line.RejectUnknownOptions();
        var options = new DeltaWriteOptions();
        if (targetMb is { } mb)
        {
            if (mb is < 1 or > 16 * 1024) throw CommandLine.Usage("--target-size-mb must be between 1 and 16384");
            options.TargetFileSizeBytes = mb * 1024 * 1024;
        }
        var result = await DeltaWriter.Create(table, options).OptimizeAsync(where, cancellationToken).ConfigureAwait(false);
        await stdout.WriteLineAsync(result.Committed
            ? $"optimized {table.Location}: version {result.Version}, {result.Metric("numRemovedFiles")} small files compacted into {result.Metric("numAddedFiles")}"
            : $"nothing to optimize in {table.Location}: no partition has two or more files below the target size (version {result.Version})").ConfigureAwait(false);
        return CliApp.ExitOk;
    }

    private static async Task<int> RestoreAsync(LakeContext lake, CommandLine line, TextWriter stdout, CancellationToken cancellationToken)
    {
        var table = lake.Table(line.Positional(0, "the table to restore"));
        var version = line.LongOption("version") ?? throw CommandLine.Usage("restore needs --version N");
        line.RejectUnknownOptions();
        var result = await DeltaWriter.Create(table).RestoreAsync(version, cancellationToken).ConfigureAwait(false);
        await stdout.WriteLineAsync(result.Committed
            ? $"restored {table.Location} to version {version} as version {result.Version}: {result.Metric("numRestoredFiles")} files restored, {result.Metric("numRemovedFiles")} removed"
            : $"{table.Location} already has the content of version {version} (version {result.Version})").ConfigureAwait(false);
        return CliApp.ExitOk;
    }
}
