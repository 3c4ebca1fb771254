using Lakehouse.Core;
using Lakehouse.Delta.Scan;
using Lakehouse.Delta.Schema;
using Lakehouse.Delta.Tests.Write;
using Lakehouse.Engine;
using Lakehouse.Testing;

namespace Lakehouse.Delta.Tests.Scan;

/// <summary>A data file whose stored types do not fit the table's schema is refused, not cast into it.</summary>
public sealed class DataFileTypesTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private readonly DuckEngine _engine = fixture.Engine;

    /// <summary>Replaces the table's only data file, in place, with the rows of <paramref name="select"/>.</summary>
    private async Task<string> ReplaceDataFileAsync(LocalTable t, string select)
    {
        var file = Assert.Single((await t.Table.GetSnapshotAsync()).Files).Path;
        using var lease = _engine.Lease();
        lease.Connection.Execute($"COPY ({select}) TO {SqlText.Literal(Path.Combine(t.Root, file))} (FORMAT parquet)");
        return file;
    }

    [Fact]
    public async Task Read_DoubleStoredInALongColumn_RefusedNamingTheFileTheColumnAndBothTypes()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT 22::BIGINT AS id, 'x' AS v");
        var file = await ReplaceDataFileAsync(t, "SELECT 22.7::DOUBLE AS id, 'x' AS v"); // read as 23 before

        var e = await Assert.ThrowsAsync<LakehouseException>(() => WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t"));
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains($"Data file '{file}' of '{t.Root}' stores column 'id' as DOUBLE, but the table's schema says long", e.Message, StringComparison.Ordinal);

        // Writes that read the table go through the same check.
        var w = await Assert.ThrowsAsync<LakehouseException>(() => t.Writer.MergeAsync("SELECT 22::BIGINT AS id, 'y' AS v", ["id"]));
        Assert.Contains("stores column 'id' as DOUBLE", w.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_FileReplacedInPlaceAfterARead_CheckedAgainAndRefused()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT 22::BIGINT AS id, 'x' AS v");
        Assert.Equal(["22"], await WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t"));
        var file = Assert.Single((await t.Table.GetSnapshotAsync()).Files).Path;
        // The process remembers the file's schema (any table object over it reads it from memory, not the footer again)...
        Assert.True(FileSchemaMemory.Shared.Schemas.ContainsKey(FileSchemaMemory.Key(Path.Combine(t.Root, file))));

        // ...by its length and write time: a file replaced in place is read again, from a new table object too.
        await ReplaceDataFileAsync(t, "SELECT 22.7::DOUBLE AS id, 'x' AS v");
        File.SetLastWriteTimeUtc(Path.Combine(t.Root, file), DateTime.UtcNow.AddMinutes(1));
        var reopened = DeltaTable.Open(Storage.LakeStorage.Open(t.Root), _engine);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => WriteTestKit.QueryAsync(reopened, "SELECT id::VARCHAR FROM t"));
        Assert.Contains("stores column 'id' as DOUBLE", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_NestedFieldStoredAsText_RefusedNamingTheField()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT 1::BIGINT AS id, {'a': 5::BIGINT, 'b': [1.5::DOUBLE]} AS s");
        await ReplaceDataFileAsync(t, "SELECT 1::BIGINT AS id, {'a': 5::BIGINT, 'b': ['1.5']} AS s");
        var e = await Assert.ThrowsAsync<LakehouseException>(() => WriteTestKit.QueryAsync(t.Table, "SELECT id::VARCHAR FROM t"));
        Assert.Contains("stores column 's.b[]' as VARCHAR, but the table's schema says double", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Read_NarrowerIntegerAndFloatFiles_ReadUnchangedLikeTypeWidening()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT 7::BIGINT AS id, 2.5::DOUBLE AS d, {'a': 5::BIGINT} AS s");
        await ReplaceDataFileAsync(t, "SELECT 7::INTEGER AS id, 2.5::FLOAT AS d, {'a': 5::SMALLINT} AS s");
        Assert.Equal(["7|2.5|5"], await WriteTestKit.QueryAsync(t.Table, "SELECT id || '|' || d || '|' || s.a FROM t"));
    }

    [Fact]
    public async Task Read_FilesOfDifferentSchemas_AllCheckedAndUnifiedByName()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT 1::BIGINT AS id, 'x' AS v");
        await t.Writer.AppendAsync("SELECT 2::BIGINT AS id, 'y' AS v");
        var second = (await t.Table.GetSnapshotAsync()).Files.Select(f => f.Path).Order(StringComparer.Ordinal).ToList();
        using (var lease = _engine.Lease())
        {
            // One file without the column v (read as null), with its columns in another order.
            lease.Connection.Execute($"COPY (SELECT 'z' AS v, 3::INTEGER AS id) TO {SqlText.Literal(Path.Combine(t.Root, second[0]))} (FORMAT parquet)");
            lease.Connection.Execute($"COPY (SELECT 4::BIGINT AS id) TO {SqlText.Literal(Path.Combine(t.Root, second[1]))} (FORMAT parquet)");
        }
        Assert.Equal(["3|z", "4|null"], await WriteTestKit.QueryAsync(t.Table, "SELECT id || '|' || coalesce(v, 'null') FROM t ORDER BY id"));
    }

    [Fact]
    public async Task Read_DataFileThatIsNotParquet_CorruptLogNamingIt()
    {
        using var t = new LocalTable(_engine);
        await t.Writer.AppendAsync("SELECT 1::BIGINT AS id");
        var file = Assert.Single((await t.Table.GetSnapshotAsync()).Files).Path;
        await File.WriteAllTextAsync(Path.Combine(t.Root, file), "this is not a parquet file at all, but long enough to have a footer");
        var e = await Assert.ThrowsAsync<LakehouseException>(() => WriteTestKit.QueryAsync(t.Table, "SELECT count(*) FROM t"));
        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.Contains($"A data file of '{t.Root}' is not readable Parquet", e.Message, StringComparison.Ordinal);
        Assert.Contains(file, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("byte", "long", true)]
    [InlineData("integer", "long", true)]
    [InlineData("long", "integer", false)]
    [InlineData("float", "double", true)]
    [InlineData("integer", "double", true)]
    [InlineData("long", "double", false)]
    [InlineData("double", "long", false)]
    [InlineData("double", "float", false)]
    [InlineData("date", "timestamp_ntz", true)]
    [InlineData("timestamp_ntz", "timestamp", true)]
    [InlineData("timestamp", "date", false)]
    [InlineData("long", "string", false)]
    [InlineData("binary", "string", false)]
    [InlineData("decimal(10,2)", "decimal(20,5)", true)]
    [InlineData("decimal(10,2)", "decimal(11,3)", true)]
    [InlineData("decimal(10,2)", "decimal(11,4)", false)]
    [InlineData("decimal(10,2)", "decimal(10,1)", false)]
    [InlineData("byte", "decimal(4,1)", true)]
    [InlineData("integer", "decimal(10,0)", true)]
    [InlineData("integer", "decimal(10,1)", false)]
    [InlineData("long", "decimal(21,1)", true)]
    [InlineData("decimal(10,0)", "long", false)]
    public void Reads_StoredTypeAsTableType_OnlyLosslessConversions(string stored, string table, bool expected) =>
        Assert.Equal(expected, DataFileTypes.Reads(PrimitiveType.Parse(stored), PrimitiveType.Parse(table)));
}
