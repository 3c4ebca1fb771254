using System.CommandLine;
using Lakehouse.Delta;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse sql "&lt;query&gt;"</c>: DuckDB SQL with a view per lake table (bronze.x, silver.x, gold.x).</summary>
internal static class SqlCommand
{
    private static readonly string[] Layers = ["bronze", "silver", "gold"];

    internal static Command Create(CliSession session)
    {
        var command = new CliCommand("sql", "Run DuckDB SQL over the lake: every table is a view named layer.name (bronze.x, silver.x, gold.x).")
        {
            Examples =
            [
                "lakehouse sql \"SELECT page_url, sum(events) FROM gold.page_performance_daily GROUP BY ALL ORDER BY 2 DESC\"",
                "lakehouse sql \"SELECT * FROM silver.weblogs LIMIT 100\" --format jsonl > sample.jsonl",
            ],
        };
        var query = new Argument<string>("query") { Description = "The SQL query (one SELECT; quote it for the shell)." };
        var format = CommandLine.Text("--format", "table (aligned text), csv (with a header) or jsonl (one JSON object per row); default table.", "table|csv|jsonl");
        command.Add(query);
        command.Add(format);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var lake = session.OpenLake(parse);
            return await RunAsync(lake, parse.GetValue(query)!, parse.GetValue(format) ?? "table", session.Out, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    internal static async Task<int> RunAsync(LakeContext lake, string query, string format, TextWriter stdout, CancellationToken cancellationToken)
    {
        using var lease = lake.Engine.Lease();
        using var interrupt = new QueryInterrupt(lease.Connection, cancellationToken); // Ctrl+C stops the running query
        var scans = await CreateViewsAsync(lake, lease.Connection, cancellationToken).ConfigureAwait(false);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (format != "table")
            {
                await Output.CopyToStdoutAsync(lease.Connection, query, format, stdout).ConfigureAwait(false);
                return CliApp.ExitOk;
            }
            using var result = lease.Connection.Query($"SELECT COLUMNS(*)::VARCHAR FROM ({query})");
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
        var root = lake.Root;
        foreach (var layer in Layers)
        {
            connection.Execute($"CREATE SCHEMA IF NOT EXISTS {SqlText.Identifier(layer)}");
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
                connection.Execute($"CREATE OR REPLACE VIEW {SqlText.Identifier(layer)}.{SqlText.Identifier(name)} AS {scan.Sql}");
            }
        }
        return scans;
    }
}
