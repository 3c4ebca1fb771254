using Lakehouse.Core;
using Lakehouse.Delta.Schema;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Testing;

namespace Lakehouse.Delta.Tests.Write;

/// <summary>The cast of a source query to a table's schema: exact conversions pass, lossy or failing ones stop the write.</summary>
public sealed class SourceProjectionTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private readonly DuckEngine _engine = fixture.Engine;

    [Fact]
    public async Task AppendAsync_FractionIntoLongColumn_RefusedNamingColumnAndValueAndTableUnchanged()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT 1::BIGINT AS id, 'a' AS name");

        var ex = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.AppendAsync("SELECT * FROM (VALUES (2.0::DOUBLE, 'b'), (1.75::DOUBLE, 'c')) v(id, name)"));

        Assert.Equal(LakehouseErrorReason.InvalidInput, ex.Reason);
        Assert.Equal($"Column 'id' of '{t.Root}' is long, and the source has the value 1.75 (DOUBLE), which it cannot hold without loss; nothing was written. " +
                     "Convert or round the value in the source query.", ex.Message);
        Assert.DoesNotContain("SELECT", ex.Message, StringComparison.Ordinal);
        Assert.Equal(LakehouseErrorReason.Engine, Assert.IsType<LakehouseException>(ex.InnerException).Reason);
        Assert.Equal(["1|a"], await WriteTestKit.QueryAsync(t.Table, "SELECT id || '|' || name FROM t"));
        Assert.Equal(0, (await t.Table.GetSnapshotAsync()).Version);
        Assert.Single(Directory.GetFiles(t.Root, "*.parquet", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task AppendAsync_WholeDoublesAndWideningTypes_ConvertedExactly()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.CreateTableAsync(new StructType([
            new StructField("id", PrimitiveType.Long, true),
            new StructField("x", PrimitiveType.Double, true),
            new StructField("d", new DecimalType(10, 2), true),
            new StructField("at", PrimitiveType.Timestamp, true),
            new StructField("s", PrimitiveType.String, true),
        ]));

        await t.Writer.AppendAsync("SELECT 2.0::DOUBLE AS id, 7::INTEGER AS x, '12.50' AS d, DATE '2024-05-01' AS at, 0.1::DOUBLE AS s");

        Assert.Equal(["2|7.0|12.50|2024-05-01 00:00:00+00|0.1"],
            await WriteTestKit.QueryAsync(t.Table, "SELECT id || '|' || x || '|' || d || '|' || \"at\" || '|' || s FROM t"));
    }

    [Fact]
    public async Task MergeAsync_TextThatIsNotANumber_RefusedNamingColumn()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT 1::BIGINT AS id, 10::INTEGER AS qty");

        var ex = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.MergeAsync("SELECT 2::BIGINT AS id, '1_000' AS qty", ["id"]));

        Assert.Equal(LakehouseErrorReason.InvalidInput, ex.Reason);
        Assert.StartsWith($"Column 'qty' of '{t.Root}' is integer, and the source has the value 1_000 (VARCHAR)", ex.Message, StringComparison.Ordinal);
        Assert.Equal(["1|10"], await WriteTestKit.QueryAsync(t.Table, "SELECT id || '|' || qty FROM t"));
    }

    [Fact]
    public async Task AppendAsync_StructOfAnotherShape_RefusedBeforeReading()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT {'a': 1} AS s");
        var ex = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.AppendAsync("SELECT {'b': 1} AS s"));
        Assert.Equal(LakehouseErrorReason.InvalidInput, ex.Reason);
        Assert.Equal($"Column 's' of '{t.Root}' is struct (STRUCT(\"a\" INTEGER)), but the source's 's' is STRUCT(b INTEGER), which cannot be converted to it.", ex.Message);
    }

    public static TheoryData<string, string, string, bool> Conversions => new()
    {
        // source value (SQL), source type, target Delta type, fits
        { "1.75", "DOUBLE", "long", false },
        { "2.0", "DOUBLE", "long", true },
        { "'nan'", "DOUBLE", "long", false },
        { "9007199254740993", "BIGINT", "double", false },
        { "9007199254740992", "BIGINT", "double", true },
        { "0.1", "DOUBLE", "float", false },
        { "0.5", "DOUBLE", "float", true },
        { "300", "INTEGER", "byte", false },
        { "{'a': 1.5}", "STRUCT(a DOUBLE)", "struct<a:long>", false },
        { "{'a': 2.0}", "STRUCT(a DOUBLE)", "struct<a:long>", true },
        { "[1.5, 2.0]", "DOUBLE[]", "array<long>", false },
        { "TIMESTAMP '2024-05-01 10:00:00'", "TIMESTAMP", "date", false },
        { "TIMESTAMP '2024-05-01 00:00:00'", "TIMESTAMP", "date", true },
        { "'1.75'", "VARCHAR", "long", false },
        { "'1_000'", "VARCHAR", "long", false },
        { "'0x10'", "VARCHAR", "long", false },
        { "'1e3'", "VARCHAR", "long", false },
        { "' 42 '", "VARCHAR", "long", true },
        { "'-7'", "VARCHAR", "byte", true },
        { "'300'", "VARCHAR", "byte", false },
        { "'abc'", "VARCHAR", "double", false },
        { "'1e400'", "VARCHAR", "double", false },
        { "'1.5e3'", "VARCHAR", "double", true },
        { "'NaN'", "VARCHAR", "double", true },
        { "'18446744073709551616'", "VARCHAR", "double", true },
        { "'18446744073709551617'", "VARCHAR", "double", false },
        { "'1.755'", "VARCHAR", "decimal(4,2)", false },
        { "'1.750'", "VARCHAR", "decimal(4,2)", true },
        { "'123.4'", "VARCHAR", "decimal(4,2)", false },
        { "'yes'", "VARCHAR", "boolean", false },
        { "'TRUE'", "VARCHAR", "boolean", true },
        { "'2024-05-01T10:00:00'", "VARCHAR", "date", false },
        { "'2024-05-01'", "VARCHAR", "date", true },
        { "'2024-05-01T10:00:00.1234567Z'", "VARCHAR", "timestamp", false },
        { "'2024-05-01T10:00:00.123456+02:00'", "VARCHAR", "timestamp", true },
        { "'2024-05-01T10:00:00+02:00'", "VARCHAR", "timestamp_ntz", false },
        { "'2024-05-01 10:00:00'", "VARCHAR", "timestamp_ntz", true },
        { "'x'", "VARCHAR", "string", true },
    };

    [Theory]
    [MemberData(nameof(Conversions))]
    public void FitsSql_Value_TrueExactlyWhenTheTypeHoldsItWithoutLoss(string value, string sourceType, string target, bool fits)
    {
        var type = Parse(target);
        using var lease = _engine.Lease();
        var sql = $"SELECT {StrictCast.FitsSql("x", sourceType, type)} FROM (SELECT CAST({value} AS {sourceType}) AS x)";
        Assert.Equal(fits, (bool)lease.Connection.Scalar(sql)!);

        var convert = $"SELECT CAST({StrictCast.ConvertSql("x", sourceType, type, "col")} AS VARCHAR) FROM (SELECT CAST({value} AS {sourceType}) AS x)";
        if (fits)
        {
            lease.Connection.Scalar(convert);
            return;
        }
        var ex = Assert.Throws<LakehouseException>(() => lease.Connection.Scalar(convert));
        Assert.True(StrictCast.TryParseError(ex.Message, out var error), ex.Message);
        Assert.Equal(("col", StrictCast.TypeName(type), sourceType), (error.Label, error.Target, error.SourceType));
    }

    [Theory]
    [InlineData("INTEGER", "long")]
    [InlineData("FLOAT", "double")]
    [InlineData("DATE", "timestamp")]
    [InlineData("TIMESTAMP", "timestamp")]
    [InlineData("BIGINT", "string")]
    [InlineData("DECIMAL(10,2)", "decimal(12,3)")]
    [InlineData("TIMESTAMP WITH TIME ZONE", "timestamp")]
    public void IsExact_WideningConversion_NeedsNoCheck(string sourceType, string target) =>
        Assert.True(StrictCast.IsExact(sourceType, Parse(target)));

    private static DeltaType Parse(string type)
    {
        if (type.StartsWith("struct<", StringComparison.Ordinal))
        {
            var (name, inner) = (type[7..type.IndexOf(':', StringComparison.Ordinal)], type[(type.IndexOf(':', StringComparison.Ordinal) + 1)..^1]);
            return new StructType([new StructField(name, Parse(inner), true)]);
        }
        if (type.StartsWith("array<", StringComparison.Ordinal)) return new ArrayType(Parse(type[6..^1]), true);
        return type.StartsWith("decimal", StringComparison.Ordinal)
            ? DeltaType.FromDuckDb(type.ToUpperInvariant())
            : new PrimitiveType(type);
    }
}
