using Lakehouse.Engine;

namespace Lakehouse.Gold.Tests;

/// <summary>How many rows gold's sliced outputs take at once: bounded by DuckDB's memory limit, since their lists cannot spill.</summary>
public sealed class GoldSliceSizeTests
{
    [Theory]
    [InlineData("488.2 MiB", 511_914_803L)]
    [InlineData("18.8 GiB", 20_186_346_291L)]
    [InlineData("1000 bytes", 1000L)]
    [InlineData("2.5 GB", 2_500_000_000L)]
    [InlineData("0 bytes", 0L)]
    public void MemoryBytes_AsDuckDbPrintsIt_Bytes(string text, long bytes) => Assert.Equal(bytes, GoldStage.MemoryBytes(text));

    [Theory]
    [InlineData("")]
    [InlineData("lots")]
    [InlineData("12 parsecs")]
    [InlineData("-1 GiB")]
    [InlineData("1GiB")]
    public void MemoryBytes_NotUnderstood_Null(string text) => Assert.Null(GoldStage.MemoryBytes(text));

    [Theory]
    [InlineData("512MB", 1_000_000L, 249_958L)] // 488.2 MiB / 2 KiB
    [InlineData("2GB", 1_000_000L, 943_718L)] // 1.8 GiB / 2 KiB
    [InlineData("64GB", 1_000_000L, 1_000_000L)]
    [InlineData("512MB", 150L, 150L)]
    public void RowsPerSlice_FollowsTheEnginesMemoryLimit(string memoryLimit, long most, long expected)
    {
        using var engine = DuckEngine.Open(new DuckEngineOptions { Threads = 1, MemoryLimit = memoryLimit });
        using var lease = engine.Lease();
        Assert.Equal(expected, GoldStage.RowsPerSlice(lease.Connection, most));
    }
}
