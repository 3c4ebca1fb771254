using Lakehouse.Core;
using Lakehouse.Delta;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Sql.Tests;

public sealed class LakeQueryTests : IDisposable
{
    private readonly TempDirectory _lake = new("sql");
    private readonly DuckEngine _engine;

    public LakeQueryTests()
    {
        // Sandboxed as the sql command opens it: files of the lake only.
        _engine = DuckEngine.Open(new DuckEngineOptions { Threads = 2, AllowedDirectories = [_lake.Path] });
    }

    public void Dispose()
    {
        _engine.Dispose();
        _lake.Dispose();
    }

    private ILakeStorage Lake => LakeStorage.Open(_lake.Path);

    private async Task AppendAsync(string folder, string select)
    {
        var writer = DeltaWriter.Create(DeltaTable.Open(Lake.Scope(folder), _engine));
        await writer.AppendAsync(select);
    }

    private async Task<List<string>> RowsAsync(string text, LakeSqlOptions? options = null)
    {
        using var lease = _engine.Lease();
        using var query = await LakeQuery.PrepareAsync(_engine, lease.Connection, Lake, text, options);
        var rows = new List<string>();
        using var r = lease.Connection.Query(query.Sql);
        while (r.Read()) rows.Add(string.Join("|", Enumerable.Range(0, r.ColumnCount).Select(i => r.IsNull(i) ? "NULL" : Convert.ToString(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))));
        return rows;
    }

    private async Task<LakehouseException> RefusedAsync(string text)
    {
        using var lease = _engine.Lease();
        return await Assert.ThrowsAsync<LakehouseException>(() => LakeQuery.PrepareAsync(_engine, lease.Connection, Lake, text));
    }

    [Fact]
    public async Task PrepareAsync_QueryNamingOneTable_OpensOnlyThatTableEvenBesideABrokenOne()
    {
        await AppendAsync("silver/good", "SELECT i AS id FROM range(3) t(i)");
        Directory.CreateDirectory(_lake.Combine("bronze", "bad", "_delta_log"));
        File.WriteAllText(_lake.Combine("bronze", "bad", "_delta_log", "00000000000000000000.json"), "{ this is not json");

        using var lease = _engine.Lease();
        using var query = await LakeQuery.PrepareAsync(_engine, lease.Connection, Lake, "select count(*) from silver.good;");
        Assert.Equal([new LakeTableName("silver", "good", null, null)], query.Tables);
        Assert.Equal(3L, lease.Connection.Scalar(query.Sql));

        var bad = await RefusedAsync("SELECT * FROM silver.good JOIN bronze.bad USING (id)");
        Assert.Equal(LakehouseErrorReason.CorruptLog, bad.Reason);
        Assert.StartsWith("Table bronze.bad cannot be read: ", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrepareAsync_TablesInSubqueriesAndCtes_AreFoundAndCteNamesAreNotTables()
    {
        await AppendAsync("silver/a", "SELECT i AS id FROM range(5) t(i)");
        await AppendAsync("gold/b", "SELECT i AS id FROM range(2) t(i)");
        var rows = await RowsAsync("WITH a AS (SELECT id FROM silver.a WHERE id IN (SELECT id FROM gold.b)) SELECT count(*) FROM a");
        Assert.Equal(["2"], rows);
    }

    [Fact]
    public async Task PrepareAsync_TimeTravelNames_ReadThatVersionOrTime()
    {
        await AppendAsync("silver/t", "SELECT 1 AS id");
        await AppendAsync("silver/t", "SELECT 2 AS id");
        Assert.Equal(["1"], await RowsAsync("SELECT id FROM silver.\"t@v0\" ORDER BY id"));
        Assert.Equal(["1", "2"], await RowsAsync("SELECT id FROM silver.t ORDER BY id"));
        Assert.Equal(["1", "2"], await RowsAsync($"SELECT id FROM silver.\"t@{DateTimeOffset.UtcNow.AddMinutes(1):yyyy-MM-ddTHH:mm:ssZ}\" ORDER BY id"));
        Assert.Equal(["1|1"], await RowsAsync("SELECT (SELECT count(*) FROM silver.\"t@v0\"), (SELECT count(*) FROM silver.t) - 1"));

        // Written otherwise than canonically: read under their own text (the query names the view as it wrote it).
        Assert.Equal(["1|1|2"], await RowsAsync(
            $"SELECT (SELECT count(*) FROM silver.\"t@v00\"), (SELECT count(*) FROM silver.\"t@V0\"), (SELECT count(*) FROM silver.\"t@{DateTimeOffset.UtcNow.AddHours(1).AddMinutes(1):yyyy-MM-ddTHH:mm:ss.000+01:00}\")"));
        var american = await RefusedAsync("SELECT * FROM silver.\"t@5/6/2024\"");
        Assert.Equal("'silver.\"t@5/6/2024\"': after '@' comes a version (v3) or a time (2026-11-01T00:00:00Z), not '5/6/2024'.", american.Message);
        var bad = await RefusedAsync("SELECT * FROM silver.\"t@yesterday\"");
        Assert.Equal("'silver.\"t@yesterday\"': after '@' comes a version (v3) or a time (2026-11-01T00:00:00Z), not 'yesterday'.", bad.Message);
        var missing = await RefusedAsync("SELECT * FROM silver.\"t@v9\"");
        Assert.Equal(LakehouseErrorReason.NotFound, missing.Reason);
        Assert.StartsWith("Table silver.t@v9 cannot be read: Version 9 of", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PrepareAsync_MissingTable_IsNotFoundNamingIt()
    {
        var e = await RefusedAsync("SELECT * FROM gold.nope");
        Assert.Equal(LakehouseErrorReason.NotFound, e.Reason);
        Assert.Equal($"Table gold.nope does not exist: no Delta table at {_lake.Combine("gold", "nope")}.", e.Message);
    }

    [Theory]
    [InlineData("select 1); COPY (select 'x') TO 'escaped.csv'; select (1", "The SQL does not parse")]
    [InlineData("SELECT 1; SELECT 2", "The SQL text holds 2 statements; give exactly one query.")]
    [InlineData("COPY (SELECT 1) TO 'out.csv'", "this is a COPY statement")]
    [InlineData("ATTACH 'x.db'", "this is an ATTACH statement")]
    [InlineData("INSTALL httpfs FROM 'http://127.0.0.1:1/'", "this is an INSTALL statement")]
    [InlineData("LOAD httpfs", "this is a LOAD statement")]
    [InlineData("SET threads = 1", "this is a SET statement")]
    [InlineData("  -- nothing\n ;", "No SQL was given.")]
    public async Task PrepareAsync_AnythingButOneReadOnlyQuery_IsRefusedAndRunsNothing(string text, string message)
    {
        var cwd = Directory.GetCurrentDirectory();
        var e = await RefusedAsync(text);
        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(cwd, "escaped.csv")));
        Assert.False(File.Exists(Path.Combine(cwd, "out.csv")));
        Assert.False(File.Exists(Path.Combine(cwd, "x.db")));
    }

    /// <summary>
    /// Several statements of which one is not a query: the refusal names that statement and its place (it named the first:
    /// "SELECT 1; DROP VIEW x" was "a SELECT statement"). A ';' in a string, an E'' string, a quoted name, a dollar-quoted text
    /// or a (nested) comment does not end a statement; a PIVOT that DuckDB parses into two statements is one.
    /// </summary>
    [Theory]
    [InlineData("SELECT 1; DROP VIEW x", 2, "statement 2 is a DROP statement")]
    [InlineData("SELECT 1; DROP VIEW x;", 2, "statement 2 is a DROP statement")]
    [InlineData("select 'a;b' AS \"c;d\", E'e\\';f', $t$;$t$ /* ; /* ; */ ; */; -- ;\n COPY (SELECT 1) TO 'out.csv'", 2, "statement 2 is a COPY statement")]
    [InlineData("ATTACH 'x.db'; SELECT 1", 2, "statement 1 is an ATTACH statement")]
    [InlineData("SELECT 1; SELECT 2; PIVOT (SELECT 1 AS y, 2 AS v) ON y USING sum(v)", 3, "statement 3 is a PIVOT statement")]
    public async Task PrepareAsync_SeveralStatementsOneNotAQuery_RefusalNamesThatStatement(string text, int count, string named)
    {
        var cwd = Directory.GetCurrentDirectory();

        var e = await RefusedAsync(text);

        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Equal($"Only one read-only query (SELECT, WITH … SELECT, VALUES, FROM …) can run here; the SQL text holds {count} statements, and {named}. " +
                     "Several statements, and statements other than queries, run only in the unsafe mode (lakehouse sql --unsafe).", e.Message);
        Assert.False(File.Exists(Path.Combine(cwd, "out.csv")));
        Assert.False(File.Exists(Path.Combine(cwd, "x.db")));
    }

    /// <summary>
    /// One PIVOT without an IN list, which DuckDB parses into two statements, is refused as one statement, saying how to write it
    /// as one query; with the IN list it runs.
    /// </summary>
    [Theory]
    [InlineData("PIVOT (SELECT 1 AS y, 2 AS v) ON y USING sum(v);")]
    [InlineData("SELECT * FROM (PIVOT (SELECT 1 AS y, 2 AS v) ON y USING sum(v))")]
    [InlineData("WITH p AS (pivot (SELECT 1 AS y, 2 AS v) ON y USING sum(v)) SELECT * FROM p")]
    public async Task PrepareAsync_OnePivotWithoutInList_RefusedSayingToNameTheValues_WithThemItRuns(string sql)
    {
        var e = await RefusedAsync(sql);

        Assert.Equal("Only one read-only query (SELECT, WITH … SELECT, VALUES, FROM …) can run here; this PIVOT has no IN list, so DuckDB would run it as two " +
                     "statements (the first creates a type of the values it finds). Name the values (PIVOT … ON column IN ('a', 'b') USING …), or run it in " +
                     "the unsafe mode (lakehouse sql --unsafe).", e.Message);
        Assert.Equal(["2"], await RowsAsync("PIVOT (SELECT 1 AS y, 2 AS v) ON y IN (1) USING sum(v)"));
    }

    [Theory]
    [InlineData("SELECT * FROM enable_logging(level := 'trace', storage := 'file', storage_path := 'logs'), range(1)", "enable_logging")]
    [InlineData("SELECT * FROM range(1) WHERE 1 IN (SELECT 1 FROM enable_logging(storage := 'stdout'))", "enable_logging")]
    [InlineData("WITH a AS (FROM truncate_duckdb_logs()) SELECT * FROM a", "truncate_duckdb_logs")]
    [InlineData("SELECT * FROM checkpoint()", "checkpoint")]
    [InlineData("SELECT * FROM enable_profiling()", "enable_profiling")]
    [InlineData("SELECT * FROM query('SELECT * FROM enable_logging()')", "query")]
    [InlineData("SELECT * FROM query_table('t')", "query_table")]
    [InlineData("SELECT * FROM arrow_scan(0, 0, 0)", "arrow_scan")]
    public async Task PrepareAsync_TableFunctionThatChangesTheEngineOrRunsText_RefusedAndRunsNothing(string text, string function)
    {
        const string logging = "SELECT CAST(current_setting('enable_logging') AS VARCHAR)";
        var before = await RowsAsync(logging);

        var e = await RefusedAsync(text);

        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.StartsWith($"The table function {function}() is not available to a read-only query", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(Directory.GetCurrentDirectory(), "logs")));
        Assert.Equal(before, await RowsAsync(logging));
    }

    [Fact]
    public async Task PrepareAsync_DeeplyNestedQuery_RunsAndReadOnlyTableFunctionsAllowed()
    {
        var sum = "x" + string.Concat(Enumerable.Repeat(" + x", 60));
        var nested = Enumerable.Range(0, 20).Aggregate("SELECT 2 AS x", (q, _) => $"SELECT * FROM ({q})");

        Assert.Equal(["61"], await RowsAsync($"SELECT CAST({sum} AS VARCHAR) FROM (VALUES (1)) t(x)"));
        Assert.Equal(["2"], await RowsAsync($"SELECT CAST(x AS VARCHAR) FROM ({nested})"));
        Assert.Equal(["3"], await RowsAsync("SELECT CAST(count(*) AS VARCHAR) FROM range(3) JOIN generate_series(0, 5) g(i) ON range = i, unnest([1])"));
    }

    [Theory]
    [InlineData("SELECT * FROM read_csv('/etc/passwd')")]
    [InlineData("SELECT * FROM glob('/home/*')")]
    [InlineData("SELECT * FROM read_text('/proc/self/environ')")]
    public async Task Query_FilesOutsideTheLake_AreRefusedBySandbox(string text)
    {
        var e = await Assert.ThrowsAsync<LakehouseException>(() => RowsAsync(text));
        Assert.Contains("Permission Error", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_FilesInsideTheLake_CanBeRead()
    {
        File.WriteAllText(_lake.Combine("notes.csv"), "a\n1\n2\n");
        Assert.Equal(["2"], await RowsAsync($"SELECT count(*) FROM read_csv('{_lake.Combine("notes.csv")}')"));
    }

    [Fact]
    public async Task PrepareAsync_Unsafe_RunsOtherStatementsWithLakeNamesFromTheText()
    {
        await AppendAsync("gold/g", "SELECT 42 AS answer");
        var target = _lake.Combine("export.csv");
        using var lease = _engine.Lease();
        using var query = await LakeQuery.PrepareAsync(_engine, lease.Connection, Lake, $"COPY (SELECT * FROM gold.g) TO '{target}' (HEADER false)", new LakeSqlOptions { Unsafe = true });
        Assert.False(query.IsQuery);
        Assert.Equal([new LakeTableName("gold", "g", null, null)], query.Tables);
        lease.Connection.Execute(query.Sql);
        Assert.Equal("42\n", File.ReadAllText(target));
    }

    [Fact]
    public void JsonSafe_NaNAndInfinities_BecomeJsonStrings()
    {
        using var lease = _engine.Lease();
        var sql = LakeQuery.JsonSafe(lease.Connection, "SELECT * FROM (VALUES ('nan'::DOUBLE, 1), ('inf'::DOUBLE, 2), ('-inf'::DOUBLE, 3), (1.5, 4), (NULL, 5)) t(x, n)");
        using var r = lease.Connection.Query($"SELECT x::VARCHAR, n FROM ({sql}) ORDER BY n");
        var values = new List<string?>();
        while (r.Read()) values.Add(r.IsNull(0) ? null : r.GetString(0));
        Assert.Equal(["\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "1.5", null], values);
    }

    [Fact]
    public void JsonSafe_NonFiniteValuesInsideListsStructsAndMaps_BecomeJsonStrings()
    {
        var row = Assert.Single(JsonSafeRows(
            "SELECT [1.5, 'nan'::DOUBLE] AS l, {'a b': ['inf'::FLOAT], 'c': 'x', 'd': NULL::DOUBLE} AS s, MAP {'k': '-inf'::DOUBLE} AS m, " +
            "[1.0::DOUBLE, 'nan'::DOUBLE]::DOUBLE[2] AS arr, 12.5::DECIMAL(4,1) AS dec, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS ts, [{'z': 'nan'::DOUBLE}] AS ls"));
        using var doc = System.Text.Json.JsonDocument.Parse(row);
        var json = doc.RootElement;
        Assert.Equal("[1.5,\"NaN\"]", json.GetProperty("l").GetRawText());
        Assert.Equal("{\"a b\":[\"Infinity\"],\"c\":\"x\",\"d\":null}", json.GetProperty("s").GetRawText());
        Assert.Equal("{\"k\":\"-Infinity\"}", json.GetProperty("m").GetRawText());
        Assert.Equal("[1.0,\"NaN\"]", json.GetProperty("arr").GetRawText());
        Assert.Equal("[{\"z\":\"NaN\"}]", json.GetProperty("ls").GetRawText());
        Assert.Equal(12.5, json.GetProperty("dec").GetDouble());
    }

    [Fact]
    public void JsonSafe_NonFiniteValuesInUnionsAndJsonText_ValidJson()
    {
        var rows = JsonSafeRows(
            "SELECT * FROM (VALUES (union_value(x := 'nan'::DOUBLE)::UNION(x DOUBLE, s VARCHAR), json('[NaN]'), 1), " +
            "(union_value(s := 'text')::UNION(x DOUBLE, s VARCHAR), json('{\"a\": [1, 2.5]}'), 2), (NULL, NULL, 3)) t(u, js, n) ORDER BY n");

        Assert.Equal(["{\"u\":{\"x\":\"NaN\"},\"js\":\"[NaN]\",\"n\":1}", "{\"u\":{\"s\":\"text\"},\"js\":{\"a\":[1,2.5]},\"n\":2}", "{\"u\":null,\"js\":null,\"n\":3}"], rows);
        Assert.All(rows, row => System.Text.Json.JsonDocument.Parse(row).Dispose());
    }

    /// <summary>The rows of <paramref name="select"/> made JSON-safe, each as the JSON object DuckDB writes for it.</summary>
    private List<string> JsonSafeRows(string select)
    {
        using var lease = _engine.Lease();
        var sql = LakeQuery.JsonSafe(lease.Connection, select);
        using var r = lease.Connection.Query($"SELECT to_json(__r)::VARCHAR FROM ({sql}) AS __r");
        var rows = new List<string>();
        while (r.Read()) rows.Add(r.GetString(0));
        return rows;
    }
}
