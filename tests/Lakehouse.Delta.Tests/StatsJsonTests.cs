using Lakehouse.Delta.Log;

namespace Lakehouse.Delta.Tests;

public sealed class StatsJsonTests
{
    [Theory]
    [InlineData("{\"numRecords\":3,\"minValues\":{\"id\":1}}", 3L)]
    [InlineData("{\"numRecords\":0}", 0L)]
    [InlineData("{\"numRecords\":3.5}", null)]
    [InlineData("{\"numRecords\":\"3\"}", null)]
    [InlineData("{\"numRecords\":-3}", null)]
    [InlineData("{\"numRecords\":1e30}", null)]
    [InlineData("{\"numRecords\":null}", null)]
    [InlineData("{\"minValues\":{}}", null)]
    [InlineData("[3]", null)]
    [InlineData("3", null)]
    [InlineData("{\"numRecords\":", null)]
    [InlineData(null, null)]
    public void NumRecords_OnlyAWholeCountReads_AnythingElseIsNoStatistics(string? stats, long? expected) =>
        Assert.Equal(expected, StatsJson.NumRecords(stats));
}
