using System.Text;
using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Gold.Serving;
using Lakehouse.Testing;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace Lakehouse.Gold.Tests.Synapse;

/// <summary>
/// The Synapse script from a lake written by the project's Delta writer: pinned by golden files, parsed by ScriptDom
/// (TSql160Parser) batch by batch, with view columns typed from the Delta schema.
/// Golden files: tests/Lakehouse.Gold.Tests/Synapse/golden; after an intended change, regenerate them with
/// <c>LAKEHOUSE_UPDATE_GOLDEN=1 dotnet test tests/Lakehouse.Gold.Tests --filter FullyQualifiedName~Synapse</c> and review the diff.
/// </summary>
public sealed class SynapseScriptTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private static readonly string GoldenFolder = Path.Combine(TestPaths.RepoRoot, "tests", "Lakehouse.Gold.Tests", "Synapse", "golden");

    private static void MatchesGolden(string name, string actual)
    {
        var path = Path.Combine(GoldenFolder, name);
        if (Environment.GetEnvironmentVariable("LAKEHOUSE_UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(GoldenFolder);
            File.WriteAllText(path, actual);
        }
        Assert.True(File.Exists(path), $"{path} is missing: run the tests once with LAKEHOUSE_UPDATE_GOLDEN=1");
        Assert.Equal(File.ReadAllText(path), actual);
    }

    private async Task<SynapseScript> StandardScriptAsync(SynapseScriptOptions? options = null)
    {
        using var lake = await new SynapseTestLake(fixture.Engine).WithStandardTablesAsync();
        return await SynapseScript.FromLakeAsync(lake.Root, lake.Engine, options ?? SynapseTestLake.Options());
    }

    [Fact]
    public async Task FromLake_SilverAndGoldTables_MatchesGoldenScriptAndPbids()
    {
        var script = await StandardScriptAsync();

        Assert.Equal(["silver.weblogs", "gold.page_performance_daily"], script.Views.Select(v => v.Layer + "." + v.Table));
        Assert.Equal(["database", "master key", "credential", "data source", "schemas", "view silver.weblogs", "view gold.page_performance_daily"],
            script.Batches.Select(b => b.Title));
        Assert.Equal([true, false, false, false, false, false, false], script.Batches.Select(b => b.InMaster));
        MatchesGolden("synapse.sql", script.ToSql());
        MatchesGolden("lakehouse.pbids", script.ToPowerBiDataSource()!);
    }

    [Fact]
    public async Task FromLake_SameLakeTwice_SameText()
    {
        var first = await StandardScriptAsync();
        var second = await StandardScriptAsync();

        Assert.Equal(first.ToSql(), second.ToSql());
        Assert.Equal(first.ToPowerBiDataSource(), second.ToPowerBiDataSource());
    }

    [Fact]
    public async Task ToSql_EveryBatch_ParsesWithTSql160WithoutErrorsAsTheStatementsExpected()
    {
        var script = await StandardScriptAsync();
        var file = script.ToSql();

        var (whole, errors) = TSqlParsing.Parse(file);
        Assert.Empty(errors);
        Assert.Equal(script.Batches.Count + 1, whole.Batches.Count); // + USE [lakehouse]
        var split = TSqlParsing.SplitOnGo(file);
        Assert.Equal(script.Batches.Count + 1, split.Count);
        Assert.Equal("USE [lakehouse];", split[1]);
        Assert.Equal(script.Batches.Select(b => b.Sql), split.Where((_, i) => i != 1).Select(b => b.StartsWith("-- Synapse", StringComparison.Ordinal) ? b[(b.IndexOf("\n\n", StringComparison.Ordinal) + 2)..] : b));

        string[][] expected =
        [
            [nameof(IfStatement)],
            [nameof(IfStatement)],
            [nameof(IfStatement)],
            [nameof(IfStatement), nameof(IfStatement)],
            [nameof(IfStatement), nameof(IfStatement)],
            [nameof(CreateOrAlterViewStatement)],
            [nameof(CreateOrAlterViewStatement)],
        ];
        Assert.Equal(expected, script.Batches.Select(b => TSqlParsing.Statements(b.Sql).Select(s => s.GetType().Name).ToArray()));
        var database = Assert.Single(TSqlParsing.All<CreateDatabaseStatement>(TSqlParsing.Statements(script.Batches[0].Sql)[0]));
        Assert.Equal("lakehouse", database.DatabaseName.Value);
        Assert.Equal("Latin1_General_100_BIN2_UTF8", database.Collation.Value);
        var source = Assert.Single(TSqlParsing.All<CreateExternalDataSourceStatement>(TSqlParsing.Statements(script.Batches[3].Sql)[1]));
        Assert.Equal("lakehouse_lake", source.Name.Value);
        Assert.Equal("https://lakeacct.dfs.core.windows.net/lake/prod/", Assert.IsType<StringLiteral>(source.Location).Value);
        Assert.Equal("lakehouse_managed_identity", Assert.Single(source.ExternalDataSourceOptions.OfType<ExternalDataSourceLiteralOrIdentifierOption>(),
            o => o.OptionKind == ExternalDataSourceOptionKind.Credential).Value.Identifier.Value);
    }

    [Fact]
    public async Task ViewBatch_SilverTableWithEveryType_ColumnsTypedFromDeltaSchemaIncludingPartition()
    {
        var script = await StandardScriptAsync();

        var view = TSqlParsing.Single<CreateOrAlterViewStatement>(script.Batches.Single(b => b.Title == "view silver.weblogs").Sql);
        Assert.Equal(("silver", "weblogs"), (view.SchemaObjectName.SchemaIdentifier.Value, view.SchemaObjectName.BaseIdentifier.Value));
        var rowset = TSqlParsing.RowsetOf(view);
        Assert.Equal("silver/weblogs", Assert.Single(rowset.DataFiles).Value);
        var options = rowset.Options.OfType<LiteralBulkInsertOption>().ToDictionary(o => o.OptionKind, o => o.Value.Value);
        Assert.Equal("lakehouse_lake", options[BulkInsertOptionKind.DataSource]);
        Assert.Equal("DELTA", options[BulkInsertOptionKind.DataFileFormat]);
        const string Utf8 = " COLLATE Latin1_General_100_BIN2_UTF8";
        Assert.Equal(
        [
            "event_id VARCHAR(MAX)" + Utf8, "timestamp DATETIME2(7)", "page_url VARCHAR(MAX)" + Utf8, "tti_ms FLOAT", "status INT",
            "bronze_offset BIGINT", "event_hour SMALLINT", "retries SMALLINT", "sample_rate REAL", "is_bot BIT", "price DECIMAL(10,2)",
            "raw VARBINARY(MAX)", "attrs VARCHAR(MAX)" + Utf8, "tags VARCHAR(MAX)" + Utf8, "counters VARCHAR(MAX)" + Utf8, "event_date DATE",
        ], rowset.WithColumns.Select(c => c.ColumnIdentifier.Value + " " + TSqlParsing.TypeOf(c)));
        var model = script.Views.Single(v => v.Table == "weblogs");
        Assert.Equal(["event_date"], model.Columns.Where(c => c.IsPartition).Select(c => c.Name));
        Assert.Equal(["string", "timestamp", "string", "double", "integer", "long", "short", "byte", "float", "boolean", "decimal(10,2)", "binary", "struct", "array", "map", "date"],
            model.Columns.Select(c => c.DeltaType));
        Assert.Equal(0, model.Version);
    }

    /// <summary>
    /// Silver keeps strings of up to a payload's 1 MiB (a 9,000-byte user agent passes every rule), and a VARCHAR(8000) column cannot
    /// hold such a value: serverless fails or cuts the read. By default string columns are VARCHAR(MAX), which holds every value;
    /// a length is the user's choice for data known to fit.
    /// </summary>
    [Fact]
    public async Task FromLake_StringLongerThan8000Bytes_DefaultStringTypeHoldsIt()
    {
        using var lake = new SynapseTestLake(fixture.Engine);
        await lake.AppendAsync("silver/weblogs", "SELECT 'e1' AS event_id, repeat('é', 4500) AS user_agent, 'shop' AS site", "site");

        var script = await SynapseScript.FromLakeAsync(lake.Root, lake.Engine, SynapseTestLake.Options());

        var view = TSqlParsing.Single<CreateOrAlterViewStatement>(script.Batches.Single(b => b.Title == "view silver.weblogs").Sql);
        Assert.Equal(
            ["event_id VARCHAR(MAX) COLLATE Latin1_General_100_BIN2_UTF8", "user_agent VARCHAR(MAX) COLLATE Latin1_General_100_BIN2_UTF8", "site VARCHAR(MAX) COLLATE Latin1_General_100_BIN2_UTF8"],
            TSqlParsing.RowsetOf(view).WithColumns.Select(c => c.ColumnIdentifier.Value + " " + TSqlParsing.TypeOf(c)));
    }

    [Fact]
    public async Task FromLake_StringLength256_StringColumnsVarchar256()
    {
        var options = SynapseTestLake.Options();
        options.StringLength = 256;
        var script = await StandardScriptAsync(options);

        var view = TSqlParsing.Single<CreateOrAlterViewStatement>(script.Batches[^1].Sql);
        Assert.Equal("VARCHAR(256) COLLATE Latin1_General_100_BIN2_UTF8", TSqlParsing.TypeOf(TSqlParsing.RowsetOf(view).WithColumns.Single(c => c.ColumnIdentifier.Value == "page_url")));
    }

    [Fact]
    public async Task FromLake_SasCredential_BatchTakesTheTokenFromTheParameterAndHoldsNoSecret()
    {
        var options = SynapseTestLake.Options();
        options.Credential = SynapseCredentialKind.SharedAccessSignature;
        var script = await StandardScriptAsync(options);

        var batch = script.Batches.Single(b => b.Title == "credential").Sql;
        Assert.Equal([nameof(IfStatement), nameof(DeclareVariableStatement), nameof(ExecuteStatement)], TSqlParsing.Statements(batch).Select(s => s.GetType().Name));
        Assert.Contains("REPLACE(@sas_token, N'''', N'''''')", batch, StringComparison.Ordinal);
        Assert.DoesNotContain("sig=", script.ToSql(), StringComparison.Ordinal);
        var dataSource = Assert.Single(TSqlParsing.All<CreateExternalDataSourceStatement>(TSqlParsing.Statements(script.Batches[3].Sql)[1]));
        Assert.Equal("lakehouse_sas", Assert.Single(dataSource.ExternalDataSourceOptions.OfType<ExternalDataSourceLiteralOrIdentifierOption>(),
            o => o.OptionKind == ExternalDataSourceOptionKind.Credential).Value.Identifier.Value);
    }

    [Fact]
    public async Task ToPowerBiDataSource_ServerAndDatabase_TdsConnectionInTheModeAsked()
    {
        var options = SynapseTestLake.Options("sales");
        options.PowerBiMode = PowerBiMode.Ask;
        var script = await StandardScriptAsync(options);

        using var pbids = JsonDocument.Parse(script.ToPowerBiDataSource()!);
        var connection = Assert.Single(pbids.RootElement.GetProperty("connections").EnumerateArray());
        Assert.Equal("0.1", pbids.RootElement.GetProperty("version").GetString());
        Assert.Equal("tds", connection.GetProperty("details").GetProperty("protocol").GetString());
        Assert.Equal("lakews-ondemand.sql.azuresynapse.net", connection.GetProperty("details").GetProperty("address").GetProperty("server").GetString());
        Assert.Equal("sales", connection.GetProperty("details").GetProperty("address").GetProperty("database").GetString());
        Assert.Equal(JsonValueKind.Null, connection.GetProperty("mode").ValueKind);

        options.Server = null;
        Assert.Null((await StandardScriptAsync(options)).ToPowerBiDataSource());
    }

    [Fact]
    public async Task WriteAsync_Folder_BothFilesWithTheScriptText()
    {
        var script = await StandardScriptAsync();
        using var temp = new TempDirectory("synapse-out");

        var written = await script.WriteAsync(Storage.LakeStorage.Open(temp.Combine("out")));

        Assert.Equal(["synapse.sql", "lakehouse.pbids"], written);
        Assert.Equal(script.ToSql(), await File.ReadAllTextAsync(temp.Combine("out", "synapse.sql"), Encoding.UTF8));
        Assert.Equal(script.ToPowerBiDataSource(), await File.ReadAllTextAsync(temp.Combine("out", "lakehouse.pbids"), Encoding.UTF8));
        Assert.Equal(["lakehouse.pbids", "synapse.sql"], Directory.GetFiles(temp.Combine("out")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task FromLake_NoSilverOrGoldTables_NotFoundNamingTheLake()
    {
        using var lake = new SynapseTestLake(fixture.Engine);
        await lake.AppendAsync("silver/_quality", "SELECT 1 AS x", null);
        await lake.AppendAsync("bronze/weblogs", "SELECT 1 AS x", null);

        var e = await Assert.ThrowsAsync<LakehouseException>(() => SynapseScript.FromLakeAsync(lake.Root, lake.Engine, SynapseTestLake.Options()));

        Assert.Equal(LakehouseErrorReason.NotFound, e.Reason);
        Assert.Equal($"The lake at '{lake.Path}' has no silver or gold tables to serve: run lakehouse silver run (and gold run) first, or give the right --lake.", e.Message);
    }

    [Fact]
    public async Task FromLake_NoStorageUrl_ArgumentExceptionSayingWhatToGive()
    {
        using var lake = await new SynapseTestLake(fixture.Engine).WithStandardTablesAsync();

        var e = await Assert.ThrowsAsync<ArgumentException>(() => SynapseScript.FromLakeAsync(lake.Root, lake.Engine, new SynapseScriptOptions()));

        Assert.StartsWith("The storage URL of the lake is not set: give https://<account>.dfs.core.windows.net/<container>/<path>", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FromLake_NewTableAppears_NextScriptHasItsViewWithoutCodeChange()
    {
        using var lake = await new SynapseTestLake(fixture.Engine).WithStandardTablesAsync();
        var before = await SynapseScript.FromLakeAsync(lake.Root, lake.Engine, SynapseTestLake.Options());
        await lake.AppendAsync("gold/sensor_metrics_1m", "SELECT 's1' AS sensor_id, TIMESTAMPTZ '2024-05-01 08:00:00+00' AS window_start, 3::BIGINT AS events, DATE '2024-05-01' AS event_date", "event_date");
        await lake.AppendAsync("silver/sensors", "SELECT 's1' AS sensor_id, 98.6::DOUBLE AS value", null);

        var after = await SynapseScript.FromLakeAsync(lake.Root, lake.Engine, SynapseTestLake.Options());

        Assert.Equal(2, before.Views.Count);
        Assert.Equal(["silver.sensors", "silver.weblogs", "gold.page_performance_daily", "gold.sensor_metrics_1m"], after.Views.Select(v => v.Layer + "." + v.Table));
        var view = TSqlParsing.Single<CreateOrAlterViewStatement>(after.Batches.Single(b => b.Title == "view gold.sensor_metrics_1m").Sql);
        Assert.Equal(["sensor_id", "window_start", "events", "event_date"], TSqlParsing.RowsetOf(view).WithColumns.Select(c => c.ColumnIdentifier.Value));
    }
}
