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
}
