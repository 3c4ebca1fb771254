using Lakehouse.Core;
using Lakehouse.Sql;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// What a table argument names: layer.name in the lake only for the layers and a safe name; a path when it has a '/' or starts
/// with '.'; a URI with '://'; anything else that looks like a lake name is refused, never a folder somewhere.
/// </summary>
public sealed class TableNameTests : IDisposable
{
    private readonly TempDirectory _temp = new("cli-names");

    public void Dispose() => _temp.Dispose();

    [Theory]
    [InlineData("bronze.weblogs", "bronze", "weblogs")]
    [InlineData("silver.web_logs-2", "silver", "web_logs-2")]
    [InlineData("gold.page_performance_daily", "gold", "page_performance_daily")]
    public void Parse_LayerAndSafeName_IsALakeTable(string text, string layer, string name)
    {
        var table = TableReference.Parse(text);
        Assert.Equal((layer, name), (table.Layer, table.Name));
    }

    [Theory]
    [InlineData("mytable")]
    [InlineData("./bronze.x.y")]
    [InlineData("./platinum.t")]
    [InlineData("/data/lake/silver/weblogs")]
    [InlineData("dir/sub.table")]
    [InlineData("../elsewhere")]
    [InlineData(".hidden")]
    [InlineData("abfss://lake@account.dfs.core.windows.net/silver/weblogs")]
    [InlineData("http://127.0.0.1:10000/devstoreaccount1/lake/t")]
    public void Parse_PathOrUri_IsTakenAsWritten(string text)
    {
        var table = TableReference.Parse(text);
        Assert.Equal((null, null, text), (table.Layer, table.Name, table.Location));
    }

    [Theory]
    [InlineData("platinum.t", "'platinum.t' is not a lake table: 'platinum' is not a layer; the layers are bronze, silver and gold (a folder of that name is written ./platinum.t)")]
    [InlineData("sliver.x", "'sliver.x' is not a lake table: 'sliver' is not a layer (did you mean 'silver'?); the layers are bronze, silver and gold (a folder of that name is written ./sliver.x)")]
    [InlineData("Gold.x", "'Gold.x' is not a lake table: 'Gold' is not a layer (did you mean 'gold'?); the layers are bronze, silver and gold (a folder of that name is written ./Gold.x)")]
    [InlineData("bronze.x.y", "'bronze.x.y' is not a lake table: the name after 'bronze.' must be 1 to 128 letters, digits, '_' and '-' (a folder of that name is written ./bronze.x.y)")]
    [InlineData("bronze.../../../escape1", "'bronze.../../../escape1' is not a lake table: the name after 'bronze.' must be 1 to 128 letters, digits, '_' and '-'")]
    [InlineData("silver.", "'silver.' is not a lake table: the name after 'silver.' must be 1 to 128 letters, digits, '_' and '-' (a folder of that name is written ./silver.)")]
    [InlineData("gold.a b", "'gold.a b' is not a lake table: the name after 'gold.' must be 1 to 128 letters, digits, '_' and '-' (a folder of that name is written ./gold.a b)")]
    [InlineData(" ", "the table is blank: give a lake name such as silver.weblogs, a folder, or an abfss:// URI")]
    [InlineData("bronze._delta_log", "'bronze._delta_log' is not a lake table: " + Reserved)]
    [InlineData("bronze._lakehouse_staging", "'bronze._lakehouse_staging' is not a lake table: " + Reserved)]
    [InlineData("gold._lakehouse", "'gold._lakehouse' is not a lake table: " + Reserved)]
    [InlineData("bronze._runs", "'bronze._runs' is not a lake table: " + Reserved)]
    public void Parse_NotALakeNameNorAPath_UsageErrorSayingTheRule(string text, string message)
    {
        var e = Assert.Throws<UsageException>(() => TableReference.Parse(text));
        Assert.Equal(message, e.Message);
    }

    private const string Reserved =
        "table names cannot start with '_' (those are reserved for Delta's log and the lake's own folders and tables: silver._quality, gold._runs, gold._alert_deliveries)";

    /// <summary>
    /// A name starting with '_' is Delta's or the lake's (an import to bronze._delta_log made a table there and exit 0): the CLI and
    /// SQL refuse it alike, except the lake's own tables in their layer, which table list shows.
    /// </summary>
    [Theory]
    [InlineData("gold", "_runs", true)]
    [InlineData("silver", "_quality", true)]
    [InlineData("gold", "_alert_deliveries", true)]
    [InlineData("bronze", "_delta_log", false)]
    [InlineData("silver", "_lakehouse_staging", false)]
    [InlineData("silver", "_runs", false)]
    [InlineData("gold", "_", false)]
    public void Parse_NameStartingWithUnderscore_OnlyTheLakesOwnTablesTakenByTheCliAndSqlAlike(string layer, string name, bool taken)
    {
        var cli = Record.Exception(() => TableReference.Parse(layer + "." + name));
        var sql = Record.Exception(() => LakeTableName.TryParse(layer, name));

        Assert.Equal((taken, taken), (cli is null, sql is null));
        Assert.Equal(taken, TableReference.IsLakeName(layer + "." + name));
        if (!taken)
        {
            Assert.Equal($"'{layer}.{name}' is not a lake table: {Reserved}", Assert.IsType<UsageException>(cli).Message);
            Assert.Equal($"'{layer}.{name}' is not a lake table name: {Reserved}.", Assert.IsType<LakehouseException>(sql).Message);
        }
    }

    [Fact]
    public async Task Read_ReservedName_UsageErrorExitTwo()
    {
        var r = await CliRunner.RunAsync("table", "read", "bronze._lakehouse_staging", "--lake", _temp.Combine("lake"));

        Assert.Equal((2, "", $"error: 'bronze._lakehouse_staging' is not a lake table: {Reserved}\n"), (r.ExitCode, r.Stdout, r.Stderr));
    }

    [Theory]
    [InlineData("gold._runs")]
    [InlineData("silver._quality")]
    [InlineData("gold._alert_deliveries")]
    public async Task Import_IntoTheLakesOwnTable_UsageErrorAndNothingWritten(string table)
    {
        var lake = _temp.Combine("lake");
        var file = _temp.Combine("rows.ndjson");
        await File.WriteAllTextAsync(file, "{\"run_id\": \"fake\"}\n");

        var r = await CliRunner.RunAsync("table", "import", file, "--to", table, "--lake", lake);

        // Before: imported (a table created, or rows added to the lake's records of its runs, quality or deliveries), exit 0.
        Assert.Equal((2, "", $"error: '{table}' is one of the lake's own tables (silver._quality, gold._runs, gold._alert_deliveries), which only the lake writes; " +
                             "import into a table of your own. It can be read, optimized, vacuumed and restored.\n"), (r.ExitCode, r.Stdout, r.Stderr));
        Assert.False(Directory.Exists(Path.Combine(lake, table.Replace('.', '/'))));
    }

    [Fact]
    public void Parse_NameAtTheLengthLimit_TakenByTheCliAndSqlAlikeOneMoreRefusedByBoth()
    {
        var longest = new string('n', LakeNames.MaxTableNameLength - 2) + "_9";
        var tooLong = longest + "x";
        Assert.Equal(128, longest.Length);

        Assert.Equal(longest, TableReference.Parse("gold." + longest).Name);
        Assert.Equal(longest, LakeTableName.TryParse("gold", longest)!.Name);
        Assert.True(LakeNames.IsTableName(longest));

        var cli = Assert.Throws<UsageException>(() => TableReference.Parse("gold." + tooLong));
        Assert.Equal($"'gold.{tooLong}' is not a lake table: the name after 'gold.' must be 1 to 128 letters, digits, '_' and '-' (a folder of that name is written ./gold.{tooLong})", cli.Message);
        var sql = Assert.Throws<LakehouseException>(() => LakeTableName.TryParse("gold", tooLong));
        Assert.StartsWith($"'gold.{tooLong}' is not a lake table name: a name is 1 to 128 letters, digits, '_' and '-' (", sql.Message, StringComparison.Ordinal);
        Assert.False(LakeNames.IsTableName(tooLong));
    }

    [Theory]
    [InlineData("web-logs_2", true)]
    [InlineData("", false)]
    [InlineData("a.b", false)]
    [InlineData("a/b", false)]
    [InlineData("..", false)]
    [InlineData("é", false)]
    [InlineData("a b", false)]
    public void Parse_OneRuleForTheCliAndSql_SameAnswer(string name, bool isName)
    {
        Assert.Equal(isName, LakeNames.IsTableName(name));
        var cli = Record.Exception(() => TableReference.Parse("silver." + name));
        var sql = Record.Exception(() => LakeTableName.TryParse("silver", name));
        Assert.Equal((isName, isName), (cli is null, sql is null));
    }

    private async Task<CliRunner.Result> ImportFromAsync(string workingFolder, string to)
    {
        Directory.CreateDirectory(workingFolder);
        var file = _temp.Combine("one.ndjson");
        await File.WriteAllTextAsync(file, "{\"id\": 1}\n");
        return await CliRunner.ShellAsync($"cd '{workingFolder}' && $LAKEHOUSE table import '{file}' --to '{to}' --lake ./lake");
    }

    private string[] EverythingUnderTemp() =>
        [.. Directory.GetFileSystemEntries(_temp.Path, "*", SearchOption.AllDirectories).Select(p => Path.GetRelativePath(_temp.Path, p)).Order(StringComparer.Ordinal)];

    [Theory]
    [InlineData("platinum.t", "the layers are bronze, silver and gold")]
    [InlineData("sliver.x", "(did you mean 'silver'?)")]
    [InlineData("bronze.x.y", "the name after 'bronze.' must be 1 to 128 letters, digits, '_' and '-'")]
    [InlineData("bronze.../../../escape1", "the name after 'bronze.' must be 1 to 128 letters, digits, '_' and '-'")]
    [InlineData("bronze._delta_log", "table names cannot start with '_'")]
    public async Task Import_ToANameThatIsNotALakeTable_RefusedAndNoFolderAnywhere(string to, string reason)
    {
        var work = _temp.Combine("w1", "w2", "w3", "w4");
        var r = await ImportFromAsync(work, to);
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: ", r.Stderr, StringComparison.Ordinal);
        Assert.Contains(reason, r.Stderr, StringComparison.Ordinal);
        Assert.Equal(["one.ndjson", "w1", Path.Combine("w1", "w2"), Path.Combine("w1", "w2", "w3"), Path.Combine("w1", "w2", "w3", "w4")], EverythingUnderTemp());
    }

    [Fact]
    public async Task Import_ExplicitPathsAndLakeNames_LandWhereTheySay()
    {
        var work = _temp.Combine("work");
        Assert.Equal(0, (await ImportFromAsync(work, "./bronze.x.y")).ExitCode);
        Assert.True(Directory.Exists(Path.Combine(work, "bronze.x.y", "_delta_log")));
        Assert.Equal(0, (await ImportFromAsync(work, "tables/sub.t")).ExitCode);
        Assert.True(Directory.Exists(Path.Combine(work, "tables", "sub.t", "_delta_log")));
        Assert.Equal(0, (await ImportFromAsync(work, "plain")).ExitCode);
        Assert.True(Directory.Exists(Path.Combine(work, "plain", "_delta_log")));
        Assert.Equal(0, (await ImportFromAsync(work, "gold.daily-2")).ExitCode);
        Assert.True(Directory.Exists(Path.Combine(work, "lake", "gold", "daily-2", "_delta_log")));
        // A folder named like a lake table does not shadow the lake table.
        var read = await CliRunner.ShellAsync($"cd '{work}' && mkdir -p gold.daily-2 && $LAKEHOUSE table info gold.daily-2 --lake ./lake --json");
        Assert.True(read.ExitCode == 0, read.Stderr);
        Assert.Contains($"\"location\": \"{Path.Combine(work, "lake", "gold", "daily-2")}\"", read.Stdout, StringComparison.Ordinal);
    }
}
