using Lakehouse.Cli.Bench;

namespace Lakehouse.Cli.Tests;

/// <summary>How the bench tells events the mock's retention deleted before bronze committed them (the run is void) from those it had.</summary>
public sealed class StreamRigRetentionTests
{
    [Fact]
    public void DeletedBeforeConsumed_LogStartAboveCommitted_CountsOnlyThoseEvents()
    {
        var marks = new Dictionary<int, (long Low, long High)> { [0] = (100, 200), [1] = (0, 50), [2] = (30, 40), [3] = (5, 9) };
        var committed = new Dictionary<int, long> { [0] = 150, [1] = 0, [2] = 10 };

        var losses = StreamRig.DeletedBeforeConsumed(marks, committed);

        // Partition 0: bronze committed past the log start; 1: nothing deleted; 2: offsets 10–29 gone; 3: never committed, 0–4 gone.
        Assert.Equal([new RetentionLoss(2, 10, 30), new RetentionLoss(3, 0, 5)], losses);
        Assert.Equal([20L, 5L], losses.Select(l => l.Events));
        Assert.Equal("The mock cluster's retention deleted 25 events before bronze committed them, in 2 of 4 partitions (partition 2: log start 30, bronze's committed offset 10; "
            + "partition 3: log start 5, bronze's committed offset 0): the stream fell further behind than about 50,000 events per partition; the run is void (more --partitions, or a lower rate).",
            RetentionLoss.Describe(losses, 4));
    }

    [Fact]
    public void DeletedBeforeConsumed_CommittedAtTheLogStart_NoLoss()
    {
        var marks = new Dictionary<int, (long Low, long High)> { [0] = (100, 200) };
        Assert.Empty(StreamRig.DeletedBeforeConsumed(marks, new Dictionary<int, long> { [0] = 100 }));
    }

    [Theory]
    [InlineData(1_000, 4)]
    [InlineData(10_000, 12)]
    [InlineData(20_000, 24)]
    [InlineData(100_000, 120)]
    [InlineData(1_000_000, 128)]
    public void DefaultPartitions_Rate_HoldsSixtySecondsOfItWithinFourTo128(int rate, int expected) =>
        Assert.Equal(expected, StreamRig.DefaultPartitions(rate));
}
