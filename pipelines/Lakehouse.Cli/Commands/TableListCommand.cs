using System.Globalization;
using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Storage;

namespace Lakehouse.Cli.Commands;

/// <summary>One table of <c>table list</c>: its numbers, or the error that kept it from being read.</summary>
internal sealed record TableListing(
    string Name, string Layer, string Location, long? Version, int? Files, long? Rows, long? SizeBytes, string? LastCommit, string? Error);

/// <summary><c>lakehouse table list</c>.</summary>
internal static partial class TableCommands
{
    private static readonly JsonSerializerOptions ListJsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static CliCommand CreateList(CliSession session)
    {
        var command = new CliCommand("list", "List the lake's tables (bronze, silver, gold) with version, files, rows, size and last commit time.")
        {
            Details = """
                Rows come from the files' statistics ('?' when a file has none; 'table info' counts them from the data).
                A table that cannot be read is listed with its error (the whole error on standard error), and the command
                then ends with exit code 1 after listing the others.
                """,
            Examples =
            [
                "lakehouse table list",
                "lakehouse table list --lake /data/lake --json",
                "lakehouse table list --lake abfss://lake@account.dfs.core.windows.net/prod",
            ],
        };
        var json = JsonOption("Print {\"lake\": ..., \"tables\": [...]} as JSON instead of a text table.");
        command.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var lake = session.OpenLake(parse);
            var tables = await ListAsync(lake, cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                await session.Out.WriteLineAsync(JsonSerializer.Serialize(new { lake = lake.Root.Location, tables }, ListJsonOptions)).ConfigureAwait(false);
            }
            else
            {
                await Output.WriteTableAsync(session.Out, ["table", "version", "files", "rows", "size", "last commit"],
                    [.. tables.Select(t => t.Error is null
                        ? new[] { t.Name, Number(t.Version), Number(t.Files), t.Rows is { } r ? Number(r) : "?", Size(t.SizeBytes ?? 0), t.LastCommit }
                        : [t.Name, "-", "-", "-", "-", "error: " + t.Error])]).ConfigureAwait(false);
                await session.Out.WriteLineAsync($"({tables.Count} table{(tables.Count == 1 ? "" : "s")} in {lake.Root.Location})").ConfigureAwait(false);
            }
            foreach (var t in tables.Where(t => t.Error is not null))
                await session.Error.WriteLineAsync($"error: {t.Name}: {t.Error}").ConfigureAwait(false);
            foreach (var t in tables.Where(t => LakeNames.IsReserved(t.Layer, t.Name[(t.Layer.Length + 1)..])))
            {
                // Made before such names were refused: shown, so that it is not lost from sight, and how to reach it again.
                await session.Error.WriteLineAsync($"warning: {t.Name}: {LakeNames.ReservedRule}, so this table cannot be read or written by name; " +
                                                   $"rename its folder ({t.Location}) to use it.").ConfigureAwait(false);
            }
            return tables.Any(t => t.Error is not null) ? CliApp.ExitFailed : CliApp.ExitOk;
        });
        return command;
    }

    /// <summary>Every table folder (one holding a _delta_log) directly under a layer of the lake, each read on its own.</summary>
    internal static async Task<List<TableListing>> ListAsync(LakeContext lake, CancellationToken cancellationToken)
    {
        var root = lake.ExistingRoot;
        var tables = new List<TableListing>();
        foreach (var layer in LakeNames.Layers)
        {
            foreach (var name in await LakeStorage.TableFoldersAsync(root, layer, cancellationToken).ConfigureAwait(false))
            {
                var storage = root.Scope(layer + "/" + name);
                var fullName = layer + "." + name;
                try
                {
                    var snapshot = await lake.OpenTable(storage).GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                    tables.Add(new(fullName, layer, storage.Location, snapshot.Version, snapshot.Files.Count, TableStatistics.CountRowsFromStats(snapshot),
                        snapshot.Files.Sum(f => f.Size), Output.Format(snapshot.Timestamp), null));
                }
                catch (Exception e) when (e is not OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    // One broken table must not hide the others.
                    Log.TableUnreadable(lake.Logger, fullName, e.Message, e);
                    tables.Add(new(fullName, layer, storage.Location, null, null, null, null, null, CliErrors.MessageOf(e)));
                }
            }
        }
        return tables;
    }

    private static string Number(long? n) => n?.ToString("N0", CultureInfo.InvariantCulture) ?? "-";

    private static string Size(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = bytes;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return unit == 0 ? $"{bytes} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }
}
