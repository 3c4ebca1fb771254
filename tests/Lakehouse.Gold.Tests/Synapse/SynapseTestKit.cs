using System.Text;
using Lakehouse.Delta;
using Lakehouse.Delta.Schema;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Gold.Serving;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace Lakehouse.Gold.Tests.Synapse;

/// <summary>A lake folder with Delta tables written by the project's own writer, and ScriptDom's reading of generated T-SQL.</summary>
internal sealed class SynapseTestLake : IDisposable
{
    private readonly TempDirectory _dir = new("synapse");

    internal SynapseTestLake(DuckEngine engine)
    {
        Engine = engine;
        Root = LakeStorage.Open(_dir.Combine("lake"));
    }

    internal DuckEngine Engine { get; }

    internal ILakeStorage Root { get; }

    internal string Path => Root.Location;

    /// <summary>The storage URL every test script uses.</summary>
    internal static Uri StorageUrl { get; } = new("https://lakeacct.dfs.core.windows.net/lake/prod");

    /// <summary>
    /// A silver-like table with every Delta type the views map (string, long, integer, short, byte, float, double, boolean, binary,
    /// decimal, date, timestamp, struct, array, map), partitioned by <c>event_date</c>, with one row.
    /// </summary>
    internal const string SilverWeblogsSql = """
        SELECT 'e1' AS event_id, TIMESTAMPTZ '2024-05-01 08:00:00+00' AS "timestamp", '/home' AS page_url, 1234.5::DOUBLE AS tti_ms,
               200::INTEGER AS status, 7::BIGINT AS bronze_offset, 3::SMALLINT AS event_hour, (-5)::TINYINT AS retries,
               0.25::FLOAT AS sample_rate, true AS is_bot, 12.34::DECIMAL(10,2) AS price, '\x01\x02'::BLOB AS raw,
               {'referrer': 'https://example.com', 'viewport': 1280} AS attrs, ['a', 'b'] AS tags, MAP {'k': 1::BIGINT} AS counters,
               DATE '2024-05-01' AS event_date
        """;

    /// <summary>A gold table shaped as page_performance_daily, partitioned by <c>event_date</c>, with one row.</summary>
    internal const string GoldPagePerformanceSql = """
        SELECT DATE '2024-05-01' AS event_date, '/home' AS page_url, 10::BIGINT AS events, 4::BIGINT AS sessions,
               100.0::DOUBLE AS tti_avg_ms, 90.0::DOUBLE AS tti_p50_ms, 180.0::DOUBLE AS tti_p95_ms,
               20.0::DOUBLE AS ttar_avg_ms, 18.0::DOUBLE AS ttar_p50_ms, 35.0::DOUBLE AS ttar_p95_ms, 0.1::DOUBLE AS error_rate
        """;

    /// <summary>The lake the golden files pin: silver.weblogs, gold.page_performance_daily, and bookkeeping tables that get no view.</summary>
    internal async Task<SynapseTestLake> WithStandardTablesAsync()
    {
        await AppendAsync("silver/weblogs", SilverWeblogsSql, "event_date");
        await AppendAsync("gold/page_performance_daily", GoldPagePerformanceSql, "event_date");
        await AppendAsync("silver/_quality", "SELECT 'r1' AS run_id, 5::BIGINT AS rows_in", null);
        await AppendAsync("gold/_runs", "SELECT 'r1' AS run_id", null);
        Directory.CreateDirectory(System.IO.Path.Combine(Path, "gold", "notes")); // a folder without a Delta log: not a table
        return this;
    }

    /// <summary>Writes the rows of <paramref name="sql"/> as a Delta table at <paramref name="relativePath"/> under the lake.</summary>
    internal async Task<DeltaTable> AppendAsync(string relativePath, string sql, string? partitionColumn)
    {
        var table = DeltaTable.Open(Root.Scope(relativePath), Engine);
        var writer = DeltaWriter.Create(table, new DeltaWriteOptions { PartitionColumns = partitionColumn is null ? [] : [partitionColumn] });
        await writer.AppendAsync(sql);
        return table;
    }

    /// <summary>Creates an empty Delta table with <paramref name="columns"/> (names taken as they are) at <paramref name="relativePath"/>.</summary>
    internal async Task<DeltaTable> CreateAsync(string relativePath, params string[] columns)
    {
        var table = DeltaTable.Open(Root.Scope(relativePath), Engine);
        await DeltaWriter.Create(table).CreateTableAsync(new StructType([.. columns.Select(c => new StructField(c, PrimitiveType.String, true))]));
        return table;
    }

    /// <summary>
    /// A table whose log alone (version 0: protocol 1/2 and a metaData with string columns named <paramref name="columns"/>) is written
    /// by hand, as another writer could have: the project's writer refuses names with characters Delta forbids without column mapping.
    /// </summary>
    internal async Task WriteLogOnlyTableAsync(string relativePath, params string[] columns)
    {
        var schema = new StructType([.. columns.Select(c => new StructField(c, PrimitiveType.String, true))]).ToSchemaString();
        var metaData = new System.Text.Json.Nodes.JsonObject
        {
            ["metaData"] = new System.Text.Json.Nodes.JsonObject
            {
                ["id"] = "00000000-0000-0000-0000-000000000001",
                ["format"] = new System.Text.Json.Nodes.JsonObject { ["provider"] = "parquet", ["options"] = new System.Text.Json.Nodes.JsonObject() },
                ["schemaString"] = schema,
                ["partitionColumns"] = new System.Text.Json.Nodes.JsonArray(),
                ["configuration"] = new System.Text.Json.Nodes.JsonObject(),
                ["createdTime"] = 1714550400000,
            },
        };
        var log = System.IO.Path.Combine(Path, relativePath, "_delta_log");
        Directory.CreateDirectory(log);
        await File.WriteAllTextAsync(System.IO.Path.Combine(log, "00000000000000000000.json"),
            "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":2}}\n" + metaData.ToJsonString() + "\n");
    }

    internal static SynapseScriptOptions Options(string database = "lakehouse") => new()
    {
        Database = database,
        StorageUrl = StorageUrl,
        Server = "lakews-ondemand.sql.azuresynapse.net",
    };

    public void Dispose() => _dir.Dispose();
}

/// <summary>ScriptDom's view of generated T-SQL (SQL Server 2022 grammar, the one Synapse serverless SQL follows most closely).</summary>
internal static class TSqlParsing
{
    /// <summary>Parses <paramref name="sql"/>; the errors as "line:column message" texts.</summary>
    internal static (TSqlScript Script, List<string> Errors) Parse(string sql)
    {
        var parser = new TSql160Parser(initialQuotedIdentifiers: true);
        var fragment = parser.Parse(new StringReader(sql), out var errors);
        return ((TSqlScript)fragment, [.. errors.Select(e => $"{e.Line}:{e.Column} {e.Message}")]);
    }

    /// <summary>The statements of one batch, which must parse without error into exactly one batch.</summary>
    internal static IList<TSqlStatement> Statements(string batchSql)
    {
        var (script, errors) = Parse(batchSql);
        Assert.True(errors.Count == 0, string.Join("; ", errors) + "\n" + batchSql);
        Assert.Single(script.Batches);
        return script.Batches[0].Statements;
    }

    /// <summary>The file's batches split on its GO lines, as sqlcmd and Synapse Studio split them.</summary>
    internal static List<string> SplitOnGo(string file)
    {
        var batches = new List<string>();
        var current = new StringBuilder();
        foreach (var line in file.Split('\n'))
        {
            if (line.Trim().Equals("GO", StringComparison.OrdinalIgnoreCase))
            {
                batches.Add(current.ToString().Trim('\n'));
                current.Clear();
            }
            else
            {
                current.Append(line).Append('\n');
            }
        }
        if (current.ToString().Trim().Length > 0) batches.Add(current.ToString().Trim('\n'));
        return batches;
    }

    /// <summary>The only statement of <paramref name="batchSql"/>, as <typeparamref name="T"/>.</summary>
    internal static T Single<T>(string batchSql)
        where T : TSqlStatement => Assert.IsType<T>(Assert.Single(Statements(batchSql)));

    /// <summary>Every fragment of type <typeparamref name="T"/> in <paramref name="fragment"/>.</summary>
    internal static List<T> All<T>(TSqlFragment fragment)
        where T : TSqlFragment
    {
        var visitor = new Collector<T>();
        fragment.Accept(visitor);
        return visitor.Found;
    }

    /// <summary>The T-SQL type of an OPENROWSET column as written: NAME(params) and the collation, if any.</summary>
    internal static string TypeOf(OpenRowsetColumnDefinition column)
    {
        var type = (SqlDataTypeReference)column.DataType;
        var text = type.Name.BaseIdentifier.Value.ToUpperInvariant();
        if (type.Parameters.Count > 0) text += "(" + string.Join(",", type.Parameters.Select(p => p.Value.ToUpperInvariant())) + ")";
        return column.Collation is null ? text : text + " COLLATE " + column.Collation.Value;
    }

    /// <summary>The view's OPENROWSET.</summary>
    internal static BulkOpenRowset RowsetOf(CreateOrAlterViewStatement view) =>
        Assert.IsType<BulkOpenRowset>(Assert.Single(((QuerySpecification)view.SelectStatement.QueryExpression).FromClause.TableReferences));

    private sealed class Collector<T> : TSqlFragmentVisitor
        where T : TSqlFragment
    {
        internal List<T> Found { get; } = [];

        public override void Visit(TSqlFragment fragment)
        {
            if (fragment is T t) Found.Add(t);
        }
    }
}
