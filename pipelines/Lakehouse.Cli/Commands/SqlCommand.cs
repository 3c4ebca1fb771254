using Lakehouse.Delta;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;
using Lakehouse.Storage;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse sql "&lt;query&gt;"</c>: DuckDB SQL with a view per lake table (bronze.x, silver.x, gold.x).</summary>
internal static class SqlCommand
{
    private static readonly string[] Layers = ["bronze", "silver", "gold"];

    internal static async Task<int> RunAsync(string[] args, TextWriter stdout, CancellationToken cancellationToken)
    {
        var line = CommandLine.Parse(args, new HashSet<string>(StringComparer.Ordinal));
        using var lake = LakeContext.From(line);
        var query = line.Positional(0, "the SQL query");
        var format = line.Option("format") ?? "table";
        line.RejectUnknownOptions();
        using var lease = lake.Engine.Lease();
        var scans = await CreateViewsAsync(lake, lease.Connection, cancellationToken).ConfigureAwait(false);
        try
        {
            if (format != "table")
            {
                await Output.CopyToStdoutAsync(lease.Connection, query, format, stdout).ConfigureAwait(false);
                return CliApp.ExitOk;
            }
            using var result = lease.Connection.Query($"SELECT COLUMNS(*)::VARCHAR FROM ({query})", cancellationToken);
            var rows = new List<string?[]>();
            while (result.Read())
            {
                var row = new string?[result.ColumnCount];
                for (var i = 0; i < row.Length; i++) row[i] = result.IsNull(i) ? null : result.GetString(i);
                rows.Add(row);
            }
            await Output.WriteTableAsync(stdout, result.Names, rows).ConfigureAwait(false);
            await stdout.WriteLineAsync($"({rows.Count} row{(rows.Count == 1 ? "" : "s")})").ConfigureAwait(false);
            return CliApp.ExitOk;
        }
        finally
        {
            foreach (var s in scans) s.Dispose();
        }
    }

    /// <summary>Creates schemas bronze/silver/gold with one view per Delta table found under the lake.</summary>
    internal static async Task<List<DeltaScan>> CreateViewsAsync(LakeContext lake, DuckConnection connection, CancellationToken cancellationToken)
    {
        var scans = new List<DeltaScan>();
        var root = LakeStorage.Open(lake.LakeLocation);
        foreach (var layer in Layers)
        {
            connection.Execute($"CREATE SCHEMA IF NOT EXISTS {SqlText.Identifier(layer)}", cancellationToken);
            var names = new SortedSet<string>(StringComparer.Ordinal);
            await foreach (var file in root.ListAsync(layer + "/", cancellationToken).ConfigureAwait(false))
            {
                var parts = file.Path.Split('/');
                if (parts.Length >= 4 && parts[2] == "_delta_log") names.Add(parts[1]);
            }
            foreach (var name in names)
            {
                var table = DeltaTable.Open(root.Scope(layer + "/" + name), lake.Engine);
                var snapshot = await table.GetSnapshotAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
                var scan = await DeltaScan.CreateAsync(table, snapshot, connection, cancellationToken: cancellationToken).ConfigureAwait(false);
                scans.Add(scan);
                connection.Execute($"CREATE OR REPLACE VIEW {SqlText.Identifier(layer)}.{SqlText.Identifier(name)} AS {scan.Sql}", cancellationToken);
            }
        }
        return scans;
    }
}
