using Lakehouse.Engine;
using Lakehouse.Testing;

namespace Lakehouse.Bronze.Tests;

public sealed class RawLinesTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly TempDirectory _temp = new("bronze-raw");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void Sql_MalformedBlankAndCrlfLines_EveryNonBlankLineKeptAsWrittenWithItsPosition()
    {
        var a = _temp.Combine("a.ndjson");
        File.WriteAllText(a, "{\"id\": 1}\r\nnot json at all\n\n  \n{\"id\": \"ünï\", \"t\": \"tab\\there\"}");
        var b = _temp.Combine("b.ndjson");
        File.WriteAllText(b, "{\"id\": 2}\n");

        using var lease = fixture.Engine.Lease();
        using var result = lease.Connection.Query($"SELECT payload, parse_filename(source_file), source_line FROM ({RawLines.Sql([a, b])}) ORDER BY ALL");
        var rows = new List<string>();
        while (result.Read()) rows.Add($"{result.GetString(0)}@{result.GetString(1)}:{result.GetInt64(2)}");
        Assert.Equal([
            "not json at all@a.ndjson:2",
            "{\"id\": \"ünï\", \"t\": \"tab\\there\"}@a.ndjson:5",
            "{\"id\": 1}@a.ndjson:1",
            "{\"id\": 2}@b.ndjson:1",
        ], rows);
    }

    [Fact]
    public void Sql_NoFiles_Refused() => Assert.Throws<ArgumentException>(() => RawLines.Sql([]));

    [Fact]
    public void Sql_PathWithQuote_QuotedAsLiteral()
    {
        var odd = _temp.Combine("it's.ndjson");
        File.WriteAllText(odd, "x\n");
        using var lease = fixture.Engine.Lease();
        Assert.Equal(1L, lease.Connection.Scalar($"SELECT count(*) FROM ({RawLines.Sql([odd])})"));
        Assert.Contains(SqlText.Literal(odd), RawLines.Sql([odd]), StringComparison.Ordinal);
    }
}
