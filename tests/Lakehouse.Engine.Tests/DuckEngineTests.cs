using Lakehouse.Core;

namespace Lakehouse.Engine.Tests;

public sealed class DuckEngineTests : IDisposable
{
    private readonly DuckEngine _engine = DuckEngine.Open(new DuckEngineOptions { Threads = 2 });

    public void Dispose() => _engine.Dispose();

    [Fact]
    public void Query_ScalarTypes_ReadBack()
    {
        using var lease = _engine.Lease();
        using var r = lease.Connection.Query(
            "SELECT 42::TINYINT a, 70000::INTEGER b, 9000000000::BIGINT c, 1.5::DOUBLE d, 'short' e, 'a string longer than twelve' f, " +
            "true g, NULL::VARCHAR h, 12.345::DECIMAL(5,3) i, 123456789012345678.5::DECIMAL(38,1) j, DATE '1970-01-03' k, " +
            "TIMESTAMP '2024-01-02 03:04:05.123456' l, '\\x01\\x02'::BLOB m");
        Assert.True(r.Read());
        Assert.Equal(42L, r.GetInt64(0));
        Assert.Equal(70000L, r.GetInt64(1));
        Assert.Equal(9000000000L, r.GetInt64(2));
        Assert.Equal(1.5, r.GetDouble(3));
        Assert.Equal("short", r.GetString(4));
        Assert.Equal("a string longer than twelve", r.GetString(5));
        Assert.True(r.GetBoolean(6));
        Assert.True(r.IsNull(7));
        Assert.Equal(12.345m, r.GetDecimal(8));
        Assert.Equal(123456789012345678.5m, r.GetDecimal(9));
        Assert.Equal(new DateTime(1970, 1, 3, 0, 0, 0, DateTimeKind.Utc), r.GetDateTime(10));
        Assert.Equal(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1234560), r.GetDateTime(11));
        Assert.Equal(new byte[] { 1, 2 }, (byte[])r.GetValue(12)!);
        Assert.False(r.Read());
    }

    [Fact]
    public void Query_ManyChunks_StreamsEveryRowWithNulls()
    {
        using var lease = _engine.Lease();
        using var r = lease.Connection.Query("SELECT i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'v' || i END s FROM range(10000) t(i) ORDER BY i");
        long count = 0, nulls = 0, sum = 0;
        while (r.Read())
        {
            sum += r.GetInt64(0);
            if (r.IsNull(1)) nulls++;
            else Assert.Equal("v" + r.GetInt64(0), r.GetString(1));
            count++;
        }
        Assert.Equal(10000, count);
        Assert.Equal(3334, nulls);
        Assert.Equal(49995000, sum);
    }

    [Fact]
    public void Query_BadSql_ThrowsWithDuckDbText()
    {
        using var lease = _engine.Lease();
        var e = Assert.Throws<LakehouseException>(() => lease.Connection.Query("SELECT * FROM no_such_table"));
        Assert.Equal(LakehouseErrorReason.Engine, e.Reason);
        Assert.Contains("no_such_table", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Prepare_BindsParameters_AndReportsBadBinds()
    {
        using var lease = _engine.Lease();
        using var s = lease.Connection.Prepare("SELECT $1::VARCHAR || '-' || $2::BIGINT, $3::DOUBLE * 2, $4::BOOLEAN, $5 IS NULL");
        Assert.Equal(5, s.ParameterCount);
        s.Bind(1, "it's").Bind(2, 7L).Bind(3, 1.25).Bind(4, true).Bind(5, null);
        using var r = s.Query();
        Assert.True(r.Read());
        Assert.Equal("it's-7", r.GetString(0));
        Assert.Equal(2.5, r.GetDouble(1));
        Assert.True(r.GetBoolean(2));
        Assert.True(r.GetBoolean(3));
    }

    [Fact]
    public void Appender_BulkRows_LandInTable()
    {
        using var lease = _engine.Lease();
        var c = lease.Connection;
        c.Execute("CREATE TEMP TABLE app(id BIGINT, name VARCHAR, v DOUBLE, ok BOOLEAN, ts TIMESTAMP)");
        using (var a = c.CreateAppender("app"))
        {
            for (var i = 0; i < 5000; i++) a.AppendRow((long)i, i % 2 == 0 ? "even" : null, i * 0.5, i % 2 == 0, new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(i));
            a.Close();
        }
        using var r = c.Query("SELECT count(*), count(name), sum(v), max(ts) FROM app");
        Assert.True(r.Read());
        Assert.Equal(5000L, r.GetInt64(0));
        Assert.Equal(2500L, r.GetInt64(1));
        Assert.Equal(6248750.0, r.GetDouble(2));
        Assert.Equal(new DateTime(2024, 1, 1, 1, 23, 19, DateTimeKind.Utc), r.GetDateTime(3));
        c.Execute("DROP TABLE app");
    }

    [Fact]
    public void Open_ExtensionsNotDownloaded_ParquetAndJsonBuiltIn()
    {
        using var lease = _engine.Lease();
        var c = lease.Connection;
        Assert.Equal("false", c.Scalar("SELECT current_setting('autoinstall_known_extensions')::VARCHAR"));
        Assert.Equal("UTC", c.Scalar("SELECT current_setting('TimeZone')"));
        Assert.Equal("{\"a\":1}", c.Scalar("SELECT to_json({'a': 1})::VARCHAR"));
        Assert.StartsWith("v1.5", DuckEngine.LibraryVersion, StringComparison.Ordinal);
    }

    [Fact]
    public void SqlText_QuotesIdentifiersAndLiterals()
    {
        using var lease = _engine.Lease();
        var sql = $"SELECT {SqlText.Literal("a'b; DROP TABLE x; --")} AS {SqlText.Identifier("we\"ird col")}";
        using var r = lease.Connection.Query(sql);
        Assert.True(r.Read());
        Assert.Equal("we\"ird col", r.Names[0]);
        Assert.Equal("a'b; DROP TABLE x; --", r.GetString(0));
    }
}
