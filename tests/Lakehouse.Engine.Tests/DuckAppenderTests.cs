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
