using Lakehouse.Testing;

namespace Lakehouse.Engine.Tests;

public sealed class DuckAppenderTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    [Fact]
    public void AppendBlobAndInt64_EmptyNonUtf8AndNull_ReadBackExactly()
    {
        var table = "appender_" + Guid.NewGuid().ToString("N");
        using var lease = fixture.Engine.Lease();
        lease.Connection.Execute($"CREATE TABLE {table} (b BLOB, n BIGINT)");
        byte[] bytes = [0xFF, 0x00, 0xC3, 0x28];
        using (var appender = lease.Connection.CreateAppender(table))
        {
            appender.AppendBlob(bytes.AsSpan(1, 3)).AppendInt64(long.MinValue).EndRow();
            appender.AppendBlob([]).AppendInt64(null).EndRow();
            appender.Close();
        }

        using var result = lease.Connection.Query($"SELECT b, n, octet_length(b) FROM {table} ORDER BY octet_length(b) DESC");
        Assert.True(result.Read());
        Assert.Equal(new byte[] { 0x00, 0xC3, 0x28 }, (byte[])result.GetValue(0)!);
        Assert.Equal(long.MinValue, result.GetInt64(1));
        Assert.True(result.Read());
        Assert.Equal((0L, true), (result.GetInt64(2), result.IsNull(1)));
        Assert.False(result.Read());
    }
    /// <summary>
    /// Strings holding NUL, U+0001, U+FFFF and U+10FFFF are kept whole in VARCHAR and BLOB columns and compare equal to the same
    /// text made in SQL. Before, DuckDB.NET's string path cut a string at its first NUL ("a\0b" arrived as "a").
    /// </summary>
    [Fact]
    public void Append_StringsHoldingNulAndOtherOddCharacters_ReadBackWhole()
    {
        var table = "appender_" + Guid.NewGuid().ToString("N");
        using var lease = fixture.Engine.Lease();
        lease.Connection.Execute($"CREATE TABLE {table} (i INTEGER, s VARCHAR, b BLOB)");
        string[] values = ["a\0b", "\0", "\0\0x\0", "x\u0001y", "z\uFFFFw", "q\U0010FFFFr", ""];
        using (var appender = lease.Connection.CreateAppender(table))
        {
            for (var i = 0; i < values.Length; i++) appender.AppendRow(i, values[i], values[i]);
            appender.Close();
        }

        using var result = lease.Connection.Query(
            $"SELECT s, strlen(s), octet_length(b), s = 'a' || chr(0) || 'b', s = 'q' || chr(1114111) || 'r' FROM {table} ORDER BY i");
        var read = new List<(string, long, long, bool, bool)>();
        while (result.Read()) read.Add((result.GetString(0), result.GetInt64(1), result.GetInt64(2), result.GetBoolean(3), result.GetBoolean(4)));
        Assert.Equal(
        [
            ("a\0b", 3L, 3L, true, false), ("\0", 1L, 1L, false, false), ("\0\0x\0", 4L, 4L, false, false), ("x\u0001y", 3L, 3L, false, false),
            ("z\uFFFFw", 5L, 5L, false, false), ("q\U0010FFFFr", 6L, 6L, false, true), ("", 0L, 0L, false, false),
        ], read);
    }

    [Fact]
    public void AppendDouble_EdgeValuesAndNull_ReadBackToTheBit()
    {
        var table = "appender_" + Guid.NewGuid().ToString("N");
        using var lease = fixture.Engine.Lease();
        lease.Connection.Execute($"CREATE TABLE {table} (i INTEGER, d DOUBLE)");
        double?[] values = [-0.0, double.Epsilon, double.MaxValue, double.NegativeInfinity, double.NaN, 0.1 + 0.2, null];
        using (var appender = lease.Connection.CreateAppender(table))
        {
            for (var i = 0; i < values.Length; i++) appender.Append(i).AppendDouble(values[i]).EndRow();
            appender.Close();
        }

        using var result = lease.Connection.Query($"SELECT d FROM {table} ORDER BY i");
        var read = new List<long?>();
        while (result.Read()) read.Add(result.IsNull(0) ? null : BitConverter.DoubleToInt64Bits(result.GetDouble(0)));
        Assert.Equal(values.Select(v => v is { } d ? BitConverter.DoubleToInt64Bits(d) : (long?)null), read);
    }
}
