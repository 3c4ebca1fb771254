using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Delta.Schema;
using Lakehouse.Gold.Serving;
using Lakehouse.Testing;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace Lakehouse.Gold.Tests.Synapse;

/// <summary>
/// Names and values from outside (database name, storage URL, table folders, Delta column names) holding quotes, brackets, <c>--</c>,
/// <c>/*</c>, <c>*/</c> or <c>;</c>: each is either quoted so that ScriptDom reads exactly one statement per batch with the name intact,
/// or refused with a message that names it and says why.
/// </summary>
public sealed class SynapseQuotingTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private static readonly string[] Hostile =
    [
        "it's",
        "a]b",
        "]]",
        "x--y",
        "/*c*/",
        "e*/",
        "[br]",
        "semi;colon; DROP DATABASE master; --",
        "N'q'",
        "lake]'; DROP DATABASE x; --/*",
        "GO",
        "ünï cødé ✓ 😀",
    ];

    public static TheoryData<string> HostileNames => new(Hostile);

    [Theory]
    [MemberData(nameof(HostileNames))]
    public async Task DatabaseName_Hostile_QuotedIntactOneStatementPerBatch(string name)
    {
        using var lake = await new SynapseTestLake(fixture.Engine).WithStandardTablesAsync();

        var script = await SynapseScript.FromLakeAsync(lake.Root, lake.Engine, SynapseTestLake.Options(name));

        var first = TSqlParsing.Single<IfStatement>(script.Batches[0].Sql);
        Assert.Equal(name, Assert.Single(TSqlParsing.All<CreateDatabaseStatement>(first)).DatabaseName.Value);
        Assert.Equal(name, Assert.Single(TSqlParsing.All<StringLiteral>(first)).Value);
        var (file, errors) = TSqlParsing.Parse(script.ToSql());
        Assert.Empty(errors);
        Assert.Equal(script.Batches.Count + 1, file.Batches.Count);
        Assert.Equal(name, Assert.IsType<UseStatement>(Assert.Single(file.Batches[1].Statements)).DatabaseName.Value);
        Assert.Equal(script.Batches.Count + 1, TSqlParsing.SplitOnGo(script.ToSql()).Count);
        using var pbids = JsonDocument.Parse(script.ToPowerBiDataSource()!);
        Assert.Equal(name, pbids.RootElement.GetProperty("connections")[0].GetProperty("details").GetProperty("address").GetProperty("database").GetString());
    }

    [Fact]
    public async Task ColumnNames_HostileInADeltaTablesLog_EachQuotedIntactInTheViewsOneStatement()
    {
        using var lake = new SynapseTestLake(fixture.Engine);
        var names = Hostile.Select((n, i) => n + i).ToArray(); // Delta names are unique case-insensitively
        await lake.WriteLogOnlyTableAsync("silver/hostile", names);

        var script = await SynapseScript.FromLakeAsync(lake.Root, lake.Engine, SynapseTestLake.Options());

        var batch = script.Batches.Single(b => b.Title == "view silver.hostile").Sql;
        var view = TSqlParsing.Single<CreateOrAlterViewStatement>(batch);
        Assert.Equal(names, TSqlParsing.RowsetOf(view).WithColumns.Select(c => c.ColumnIdentifier.Value));
        Assert.Equal(script.Batches.Count + 1, TSqlParsing.Parse(script.ToSql()).Script.Batches.Count);
    }

    [Fact]
    public async Task ColumnNames_HostileThatTheDeltaWriterAccepts_QuotedIntact()
    {
        using var lake = new SynapseTestLake(fixture.Engine);
        string[] names = ["it's", "a]b", "]]", "x--y", "/*c*/", "e*/", "[br]", "N'q'", "lake]'--/*", "GO", "ünï_cødé_✓_😀"];
        await lake.CreateAsync("gold/hostile", names);

        var script = await SynapseScript.FromLakeAsync(lake.Root, lake.Engine, SynapseTestLake.Options());

        var view = TSqlParsing.Single<CreateOrAlterViewStatement>(script.Batches.Single(b => b.Title == "view gold.hostile").Sql);
        Assert.Equal(names, TSqlParsing.RowsetOf(view).WithColumns.Select(c => c.ColumnIdentifier.Value));
    }

    [Fact]
    public async Task StorageUrl_QuotesBracketsCommentMarkers_LiteralIntactInTheDataSource()
    {
        using var lake = await new SynapseTestLake(fixture.Engine).WithStandardTablesAsync();
        var options = SynapseTestLake.Options();
        options.StorageUrl = new Uri("https://lakeacct.dfs.core.windows.net/lake/it's--x*/y;'DROP/");

        var script = await SynapseScript.FromLakeAsync(lake.Root, lake.Engine, options);

        Assert.Equal("https://lakeacct.dfs.core.windows.net/lake/it's--x*/y;'DROP/", script.StorageUrl.AbsoluteUri);
        var statements = TSqlParsing.Statements(script.Batches.Single(b => b.Title == "data source").Sql);
        Assert.Equal(2, statements.Count);
        var source = Assert.Single(TSqlParsing.All<CreateExternalDataSourceStatement>(statements[1]));
        Assert.Equal(script.StorageUrl.AbsoluteUri, Assert.IsType<StringLiteral>(source.Location).Value);
        Assert.Contains(TSqlParsing.All<StringLiteral>(statements[0]), l => l.Value == script.StorageUrl.AbsoluteUri);
    }

    [Theory]
    [InlineData("lake\nGO\nDROP DATABASE master", "contains the control character U+000A at position 5 (line breaks, tabs and other control characters are refused)")]
    [InlineData("tab\there", "contains the control character U+0009 at position 4 (line breaks, tabs and other control characters are refused)")]
    [InlineData(" lake", "begins or ends with white space (SQL Server drops trailing spaces from names, so the object would get another name)")]
    [InlineData("lake ", "begins or ends with white space (SQL Server drops trailing spaces from names, so the object would get another name)")]
    [InlineData("", "is empty")]
    [InlineData("sales$(SQLCMDUSER)", "contains '$(' at position 6, which sqlcmd replaces with a scripting variable even inside quotes and brackets")]
    public void DatabaseName_Invalid_RefusedSayingWhy(string name, string why)
    {
        var e = Assert.Throws<ArgumentException>(() => new SynapseScriptOptions { Database = name });

        Assert.Equal($"The database name '{TSqlText.Printable(name)}' is not valid: it {why}. (Parameter 'value')", e.Message);
    }

    /// <summary>
    /// sqlcmd (and SSDT-style runs) replace <c>$(name)</c> everywhere in a batch, quoted literals and bracketed names included: a URL
    /// holding it was written into the script and became another location (or an undefined-variable error) when run by hand.
    /// </summary>
    [Fact]
    public void StorageUrl_WithSqlcmdVariable_RefusedSayingWhy()
    {
        var e = Assert.Throws<ArgumentException>(() => new SynapseScriptOptions { StorageUrl = new Uri("https://lakeacct.dfs.core.windows.net/lake/a$(SQLCMDSERVER)/b") });

        Assert.Equal("The storage URL 'https://lakeacct.dfs.core.windows.net/lake/a$(SQLCMDSERVER)/b' is not valid: it contains '$(' at position 45, " +
            "which sqlcmd replaces with a scripting variable even inside quotes and brackets. (Parameter 'value')", e.Message);
        Assert.Equal("https://lakeacct.dfs.core.windows.net/lake/a$b(c)/", new SynapseScriptOptions { StorageUrl = new Uri("https://lakeacct.dfs.core.windows.net/lake/a$b(c)") }.StorageUrl!.AbsoluteUri);
    }

    [Fact]
    public void DatabaseName_TooLongOrSystem_Refused()
    {
        var e = Assert.Throws<ArgumentException>(() => new SynapseScriptOptions { Database = new string('d', 129) });
        Assert.Contains("is 129 characters long; SQL names have at most 128", e.Message, StringComparison.Ordinal);
        Assert.Equal(new string('d', 128), new SynapseScriptOptions { Database = new string('d', 128) }.Database);
        var master = Assert.Throws<ArgumentException>(() => new SynapseScriptOptions { Database = "Master" });
        Assert.StartsWith("The database name 'Master' is a system database; the views need a user database", master.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ColumnName_WithLineBreakOrTooLong_RefusedNamingTableAndColumnAndNothingGenerated()
    {
        using var lake = await new SynapseTestLake(fixture.Engine).WithStandardTablesAsync();
        await lake.WriteLogOnlyTableAsync("gold/broken", "ok", "a\nGO\nb");
        await lake.WriteLogOnlyTableAsync("silver/long", new string('c', 129));

        var e = await Assert.ThrowsAsync<LakehouseException>(() => SynapseScript.FromLakeAsync(lake.Root, lake.Engine, SynapseTestLake.Options()));

        Assert.Equal(LakehouseErrorReason.UnsupportedFeature, e.Reason);
        Assert.Equal(
            $"Synapse serverless cannot serve 2 tables of the lake at '{lake.Path}', so no script was written:\n" +
            $"  silver/long: the column '{new string('c', 129)}' cannot be a SQL name: it is 129 characters long; SQL names have at most 128\n" +
            "  gold/broken: the column 'a\\u000AGO\\u000Ab' cannot be a SQL name: it contains the control character U+000A at position 2 (line breaks, tabs and other control characters are refused)",
            e.Message);
    }

    /// <summary>
    /// Two table folders whose names differ only in case (silver/Cased and silver/CASED, which a case-sensitive file system and
    /// <c>lakehouse table import</c> allow) were two <c>CREATE OR ALTER VIEW</c>s that a database comparing names without case takes
    /// for one: the second replaced the first, and [silver].[Cased] read silver/CASED's rows. They are refused, naming both.
    /// </summary>
    [Fact]
    public async Task TableFolders_NamesDifferingOnlyInCase_RefusedNamingBoth()
    {
        using var lake = await new SynapseTestLake(fixture.Engine).WithStandardTablesAsync();
        await lake.AppendAsync("silver/Cased", "SELECT 1::BIGINT AS a", null);
        await lake.AppendAsync("silver/CASED", "SELECT 'x' AS b", null);

        var e = await Assert.ThrowsAsync<LakehouseException>(() => SynapseScript.FromLakeAsync(lake.Root, lake.Engine, SynapseTestLake.Options()));

        Assert.Equal(LakehouseErrorReason.UnsupportedFeature, e.Reason);
        Assert.Equal(
            $"Synapse serverless cannot serve 1 table of the lake at '{lake.Path}', so no script was written:\n" +
            "  silver/Cased: its name differs from silver/CASED's only in case, and a database that compares names without case " +
            "(a case-insensitive collation) takes their views for one, the second replacing the first: rename one of the folders",
            e.Message);
    }

    [Fact]
    public async Task TableFolder_NameWithQuoteBracketComment_RefusedNamingTheFolder()
    {
        using var lake = await new SynapseTestLake(fixture.Engine).WithStandardTablesAsync();
        await lake.CreateAsync("gold/we'ird]--*", "id");

        var e = await Assert.ThrowsAsync<LakehouseException>(() => SynapseScript.FromLakeAsync(lake.Root, lake.Engine, SynapseTestLake.Options()));

        Assert.Equal(
            $"Synapse serverless cannot serve 1 table of the lake at '{lake.Path}', so no script was written:\n" +
            "  gold/we'ird]--*: the folder name is not a table name (1 to 128 letters, digits, '_' and '-'); its view would be named after it: rename the folder or move it out of gold/",
            e.Message);
    }

    [Fact]
    public void Create_ViewWithHostileTableName_QuotedIntact()
    {
        // Past the lake's own name rule (FromLakeAsync refuses such folders): the generator itself still quotes what it is given.
        var view = new SynapseView("gold", "t]'--*/x", 3, [new SynapseColumn("v", "long", "BIGINT", false)]);

        var script = SynapseScript.Create([view], SynapseTestLake.Options());

        var statement = TSqlParsing.Single<CreateOrAlterViewStatement>(script.Batches[^1].Sql);
        Assert.Equal("t]'--*/x", statement.SchemaObjectName.BaseIdentifier.Value);
        Assert.Equal("gold/t]'--*/x", Assert.Single(TSqlParsing.RowsetOf(statement).DataFiles).Value);
    }

    [Fact]
    public void Create_ViewWithLineBreakInTableName_Refused()
    {
        var view = new SynapseView("gold", "t\nGO", 3, [new SynapseColumn("v", "long", "BIGINT", false)]);

        var e = Assert.Throws<LakehouseException>(() => SynapseScript.Create([view], SynapseTestLake.Options()));

        Assert.Equal("The table name 't\\u000AGO' cannot be used in the Synapse script: it contains the control character U+000A at position 2 (line breaks, tabs and other control characters are refused).", e.Message);
    }

    [Fact]
    public void Quoting_Helpers_DoubleClosingBracketAndQuote()
    {
        Assert.Equal("[a]]b]", TSqlText.Identifier("a]b"));
        Assert.Equal("[[x]", TSqlText.Identifier("[x"));
        Assert.Equal("N'it''s -- /* */'", TSqlText.Literal("it's -- /* */"));
        Assert.Equal("N''", TSqlText.Literal(""));
        Assert.Throws<LakehouseException>(() => TSqlText.Literal("a\rb"));
        Assert.Throws<LakehouseException>(() => TSqlText.Identifier("x\u0000"));
        Assert.Equal("contains a lone UTF-16 surrogate at position 2", TSqlText.NameProblem("a\uD800b"));
    }
}

/// <summary>Tables Synapse serverless cannot read as they are: refused with the reason, instead of views that read NULLs or fail later.</summary>
public sealed class SynapseProfileCheckTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    [Fact]
    public async Task FromLake_TableNeedingReaderVersion3_RefusedNamingVersionAndFeatures()
    {
        using var lake = await new SynapseTestLake(fixture.Engine).WithStandardTablesAsync();
        await lake.AppendAsync("gold/alerts", "SELECT 'a1' AS alert_id", null);
        await File.WriteAllTextAsync(Path.Combine(lake.Path, "gold", "alerts", "_delta_log", "00000000000000000001.json"),
            """{"protocol":{"minReaderVersion":3,"minWriterVersion":7,"readerFeatures":["deletionVectors"],"writerFeatures":["deletionVectors"]}}""" + "\n");

        var e = await Assert.ThrowsAsync<LakehouseException>(() => SynapseScript.FromLakeAsync(lake.Root, lake.Engine, SynapseTestLake.Options()));

        Assert.EndsWith("\n  gold/alerts: it needs Delta reader version 3 (reader features: deletionVectors); Synapse serverless reads only reader version 1 and would read some values as NULL", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FromLake_LastCheckpointOver200Bytes_Refused()
    {
        using var lake = await new SynapseTestLake(fixture.Engine).WithStandardTablesAsync();
        var pointer = Path.Combine(lake.Path, "silver", "weblogs", "_delta_log", "_last_checkpoint");
        await File.WriteAllTextAsync(pointer, "{\"version\":0,\"size\":1,\"padding\":\"" + new string('x', 200) + "\"}");
        Assert.Equal(235, new FileInfo(pointer).Length);

        var e = await Assert.ThrowsAsync<LakehouseException>(() => SynapseScript.FromLakeAsync(lake.Root, lake.Engine, SynapseTestLake.Options()));

        Assert.EndsWith("\n  silver/weblogs: its _delta_log/_last_checkpoint has 235 bytes; Synapse serverless fails on one over 200 (write a new checkpoint with a short _last_checkpoint)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FromLake_LogWithoutCommits_NoViewForItOthersServed()
    {
        using var lake = await new SynapseTestLake(fixture.Engine).WithStandardTablesAsync();
        Directory.CreateDirectory(Path.Combine(lake.Path, "gold", "being_created", "_delta_log"));

        var script = await SynapseScript.FromLakeAsync(lake.Root, lake.Engine, SynapseTestLake.Options());

        Assert.Equal(["silver.weblogs", "gold.page_performance_daily"], script.Views.Select(v => v.Layer + "." + v.Table));
    }

    [Theory]
    [InlineData("string", "VARCHAR(100) COLLATE Latin1_General_100_BIN2_UTF8")]
    [InlineData("long", "BIGINT")]
    [InlineData("integer", "INT")]
    [InlineData("short", "SMALLINT")]
    [InlineData("byte", "SMALLINT")]
    [InlineData("float", "REAL")]
    [InlineData("double", "FLOAT")]
    [InlineData("boolean", "BIT")]
    [InlineData("binary", "VARBINARY(MAX)")]
    [InlineData("date", "DATE")]
    [InlineData("timestamp", "DATETIME2(7)")]
    [InlineData("decimal(38,6)", "DECIMAL(38,6)")]
    public void Of_PrimitiveAndDecimal_SqlTypeOfSynapseParquetMapping(string deltaType, string sqlType)
    {
        var type = StructType.ParseSchema($$"""{"type":"struct","fields":[{"name":"c","type":"{{deltaType}}","nullable":true}]}""").Fields[0].Type;

        Assert.Equal(sqlType, SynapseTypes.Of(type, 100));
    }

    [Fact]
    public void Of_NestedTypes_VarcharMaxOfJson()
    {
        DeltaType[] nested =
        [
            new StructType([new StructField("a", PrimitiveType.Long, true)]),
            new ArrayType(PrimitiveType.String, true),
            new MapType(PrimitiveType.String, PrimitiveType.Double, true),
        ];

        Assert.All(nested, t => Assert.Equal("VARCHAR(MAX) COLLATE Latin1_General_100_BIN2_UTF8", SynapseTypes.Of(t, 8000)));
    }
}
