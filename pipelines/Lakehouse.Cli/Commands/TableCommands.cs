using System.Globalization;
using System.Text.Json;
using Lakehouse.Delta;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse table read|info|history|import|vacuum|optimize|restore</c>.</summary>
internal static partial class TableCommands
{
    private static readonly HashSet<string> Flags = new(StringComparer.Ordinal) { "json", "force", "dry-run" };

    internal static async Task<int> RunAsync(string[] args, TextWriter stdout, CancellationToken cancellationToken)
    {
        if (args.Length == 0) throw CommandLine.Usage("table needs a sub-command: read, info, history, import, vacuum, optimize, restore");
        var line = CommandLine.Parse(args[1..], Flags);
        using var lake = LakeContext.From(line);
        var task = args[0] switch
        {
            "read" => ReadAsync(lake, line, stdout, cancellationToken),
            "info" => InfoAsync(lake, line, stdout, cancellationToken),
            "history" => HistoryAsync(lake, line, stdout, cancellationToken),
            _ => WriteCommandAsync(args[0], lake, line, stdout, cancellationToken),
        };
        return await task.ConfigureAwait(false);
    }

    private static partial Task<int> WriteCommandAsync(string command, LakeContext lake, CommandLine line, TextWriter stdout, CancellationToken cancellationToken);

    /// <summary>The snapshot a read asks for: --version N, --timestamp T, or the latest.</summary>
    private static async Task<DeltaSnapshot> SnapshotAsync(DeltaTable table, CommandLine line, CancellationToken cancellationToken)
    {
        var version = line.LongOption("version");
        var timestamp = line.Option("timestamp");
        if (version is not null && timestamp is not null) throw CommandLine.Usage("give --version or --timestamp, not both");
        if (timestamp is not null)
        {
            if (!DateTimeOffset.TryParse(timestamp, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t))
                throw CommandLine.Usage($"--timestamp '{timestamp}' is not a date/time (use ISO-8601, e.g. 2024-05-01T12:00:00Z)");
            return await table.GetSnapshotAsync(t, cancellationToken).ConfigureAwait(false);
        }
        return await table.GetSnapshotAsync(version, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<int> ReadAsync(LakeContext lake, CommandLine line, TextWriter stdout, CancellationToken cancellationToken)
    {
        var table = lake.Table(line.Positional(0, "the table to read"));
        var format = line.Option("format") ?? "csv";
        var limit = line.LongOption("limit");
        var snapshot = await SnapshotAsync(table, line, cancellationToken).ConfigureAwait(false);
        line.RejectUnknownOptions();
        var options = Output.CopyOptions(format);
        await stdout.FlushAsync(cancellationToken).ConfigureAwait(false);
        using var destination = Console.OpenStandardOutput();
        await CopyRowsAsync(lake.Engine, table, snapshot, options, limit, destination, cancellationToken).ConfigureAwait(false);
        return CliApp.ExitOk;
    }

    /// <summary>What <c>table read</c> does once it has its snapshot: the scan's rows, written by DuckDB in <paramref name="copyOptions"/> into <paramref name="destination"/>.</summary>
    internal static async Task CopyRowsAsync(DuckEngine engine, DeltaTable table, DeltaSnapshot snapshot, string copyOptions, long? limit, Stream destination,
        CancellationToken cancellationToken)
    {
        using var lease = engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection, cancellationToken: cancellationToken).ConfigureAwait(false);
        var query = limit is { } n ? $"SELECT * FROM ({scan.Sql}) LIMIT {n}" : scan.Sql;
        // Not cancelled midway: a reader that stopped early would leave DuckDB blocked writing into the pipe.
        await lease.Connection.CopyToStreamAsync(query, copyOptions, destination, CancellationToken.None).ConfigureAwait(false);
    }

    private static async Task<int> InfoAsync(LakeContext lake, CommandLine line, TextWriter stdout, CancellationToken cancellationToken)
    {
        var table = lake.Table(line.Positional(0, "the table"));
        var json = line.Flag("json");
        var snapshot = await SnapshotAsync(table, line, cancellationToken).ConfigureAwait(false);
        line.RejectUnknownOptions();
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
            protocol:   reader {p.MinReaderVersion}, writer {p.MinWriterVersion}{(features.Count > 0 ? " [" + string.Join(", ", features) + "]" : "")}
            partitions: {(snapshot.PartitionColumns.Count > 0 ? string.Join(", ", snapshot.PartitionColumns) : "(none)")}
            files:      {snapshot.Files.Count}
            rows:       {rows}
            size:       {size} bytes
            schema:
            """).ConfigureAwait(false);
        foreach (var f in snapshot.Schema.Fields)
            await stdout.WriteLineAsync($"  {f.Name} {TypeText(f.Type)}{(f.Nullable ? "" : " NOT NULL")}").ConfigureAwait(false);
        if (snapshot.Metadata.Configuration.Count > 0)
        {
            await stdout.WriteLineAsync("properties:").ConfigureAwait(false);
            foreach (var (k, v) in snapshot.Metadata.Configuration) await stdout.WriteLineAsync($"  {k} = {v}").ConfigureAwait(false);
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

    private static async Task<int> HistoryAsync(LakeContext lake, CommandLine line, TextWriter stdout, CancellationToken cancellationToken)
    {
        var table = lake.Table(line.Positional(0, "the table"));
        var limit = line.LongOption("limit");
        var json = line.Flag("json");
        line.RejectUnknownOptions();
        var history = await table.GetHistoryAsync(limit is { } l ? (int)l : null, cancellationToken).ConfigureAwait(false);
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
            return CliApp.ExitOk;
        }
        await Output.WriteTableAsync(stdout, ["version", "timestamp", "operation", "parameters", "metrics", "engine"],
            [.. history.Select(h => new[] { h.Version.ToString(CultureInfo.InvariantCulture), Output.Format(h.Timestamp), h.Operation, h.OperationParameters, h.OperationMetrics, h.EngineInfo })]).ConfigureAwait(false);
        return CliApp.ExitOk;
    }
}

/// <summary>Row counts of a snapshot: from file statistics when every file has them, else from parquet footers; less deleted rows.</summary>
internal static class TableStatistics
{
    internal static async Task<long> CountRowsAsync(DuckEngine engine, DeltaTable table, DeltaSnapshot snapshot, CancellationToken cancellationToken)
    {
        await table.CheckFilesAsync(snapshot, cancellationToken).ConfigureAwait(false); // stats count rows of files that may be gone
        long total = 0;
        var withoutStats = new List<Delta.Log.AddAction>();
        foreach (var f in snapshot.Files)
        {
            if (NumRecords(f.Stats) is { } n) total += n;
            else withoutStats.Add(f);
            total -= f.DeletionVector?.Cardinality ?? 0;
        }
        if (withoutStats.Count == 0) return total;
        using var lease = engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection, new DeltaScanOptions { Files = withoutStats }, cancellationToken).ConfigureAwait(false);
        // The scan already applies deletion vectors, so add back what was subtracted for these files.
        return total + withoutStats.Sum(f => f.DeletionVector?.Cardinality ?? 0) + (long)lease.Connection.Scalar($"SELECT count(*) FROM ({scan.Sql})")!;
    }

    private static long? NumRecords(string? stats)
    {
        if (stats is null) return null;
        try
        {
            using var doc = JsonDocument.Parse(stats);
            return doc.RootElement.TryGetProperty("numRecords", out var n) && n.ValueKind == JsonValueKind.Number ? n.GetInt64() : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
