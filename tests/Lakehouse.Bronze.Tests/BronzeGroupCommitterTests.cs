using System.Text;
using Lakehouse.Delta.Scan;
using Lakehouse.Delta.Write;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze.Tests;

public sealed class BronzeGroupCommitterTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly TempDirectory _temp = new("bronze-group");

    public void Dispose() => _temp.Dispose();

    private BronzeTable Open() => BronzeTable.Open(LakeStorage.Open(_temp.Combine("bronze/weblogs")), fixture.Engine);

    private static BronzeSubmission Submission(string id, int events, string? key = null, long fingerprint = 0) =>
        new(id, [.. Enumerable.Range(1, events).Select(i => new BronzeEvent(Encoding.UTF8.GetBytes($"{{\"id\":\"{id}-{i}\"}}"), new SourcePosition(SourceKinds.Http, id, null, 0, i)))], key, fingerprint);

    /// <summary>Rows per source at <paramref name="version"/> (the latest when null).</summary>
    private async Task<Dictionary<string, long>> RowsBySourceAsync(BronzeTable table, long? version = null)
    {
        if (!await table.Table.ExistsAsync()) return [];
        var snapshot = await table.Table.GetSnapshotAsync(version);
        using var lease = fixture.Engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table.Table, snapshot, lease.Connection);
        using var rows = lease.Connection.Query($"SELECT source, count(*) FROM ({scan.Sql}) GROUP BY source");
        var counts = new Dictionary<string, long>();
        while (rows.Read()) counts[rows.GetString(0)] = rows.GetInt64(1);
        return counts;
    }

    [Fact]
    public async Task TryEnqueue_KeyCommittedBeforeItsVersionWasRecorded_DuplicateAnsweredWithTheVersionThatFirstHeldIt()
    {
        var table = Open();
        await table.CommitAsync(Submission("a", 1).Events, []);
        await table.CommitAsync(Submission("b", 1).Events, []);
        // As a server before 2026-12: the key's fingerprint only, at version 2.
        await table.CommitAsync(Submission("old", 2).Events, [new DeltaAppTransaction(BronzeGroupCommitter.IdempotencyAppIdPrefix + "old-key", 7) { Previous = -1 }]);
        for (var i = 0; i < 3; i++) await table.CommitAsync(Submission("later" + i, 1).Events, []);
        var committer = new BronzeGroupCommitter(table);
        Assert.True(committer.TryEnqueue(Submission("retry", 2, "old-key", 7), out var retry));
        Assert.True(committer.TryEnqueue(Submission("new", 2, "new-key", 9), out var fresh));
        var (r, f) = (await retry, await fresh);
        Assert.True(committer.TryEnqueue(Submission("new-retry", 2, "new-key", 9), out var freshRetry));
        var fr = await freshRetry;
        await committer.StopAsync();

        Assert.Equal((BronzeSubmissionStatus.Duplicate, 2L), (r.Status, r.Version));
        Assert.Equal((BronzeSubmissionStatus.Committed, 6L), (f.Status, f.Version));
        Assert.Equal((BronzeSubmissionStatus.Duplicate, 6L), (fr.Status, fr.Version));
        Assert.Equal(6, (await table.Table.GetSnapshotAsync()).TransactionVersion(BronzeGroupCommitter.IdempotencyVersionAppIdPrefix + "new-key"));
        Assert.False((await RowsBySourceAsync(table)).ContainsKey("retry"));
    }

    [Fact]
    public async Task TryEnqueue_ManySubmissionsAtOnce_GroupedIntoFewerCommitsEachAnsweredWithTheVersionHoldingIt()
    {
        var table = Open();
        var committer = new BronzeGroupCommitter(table);
        var pending = new List<(string Id, Task<BronzeSubmissionResult> Result)>();
        for (var i = 0; i < 40; i++)
        {
            Assert.True(committer.TryEnqueue(Submission("r" + i, 25), out var result));
            pending.Add(("r" + i, result));
        }
        await committer.StopAsync();

        var outcomes = new List<(string Id, BronzeSubmissionResult Outcome)>();
        foreach (var (id, result) in pending) outcomes.Add((id, await result));
        Assert.All(outcomes, o => Assert.Equal(BronzeSubmissionStatus.Committed, o.Outcome.Status));
        var stats = committer.Statistics;
        Assert.Equal((40L, 1000L, 0), (stats.Submissions, stats.Events, stats.Queued));
        Assert.InRange(stats.Commits, 1, 39); // grouped: fewer commits than submissions
        Assert.Equal(stats.Commits, outcomes.Select(o => o.Outcome.Version).Distinct().Count());
        foreach (var (id, outcome) in outcomes)
        {
            Assert.Equal(25, (await RowsBySourceAsync(table, outcome.Version))[id]);
            if (outcome.Version > 0) Assert.False((await RowsBySourceAsync(table, outcome.Version - 1)).ContainsKey(id));
        }
        Assert.Equal(40, (await RowsBySourceAsync(table)).Count);
    }

    [Fact]
    public async Task TryEnqueue_QueueFull_RefusedAndEveryQueuedSubmissionCommitted()
    {
        var table = Open();
        var committer = new BronzeGroupCommitter(table, new GroupCommitOptions { MaxQueuedSubmissions = 1 });
        var accepted = new List<(string Id, Task<BronzeSubmissionResult> Result)>();
        var refused = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            if (committer.TryEnqueue(Submission("q" + i, 10), out var result)) accepted.Add(("q" + i, result));
            else refused.Add("q" + i);
        }
        await committer.StopAsync();

        Assert.NotEmpty(refused);
        Assert.NotEmpty(accepted);
        foreach (var (_, result) in accepted) Assert.Equal(BronzeSubmissionStatus.Committed, (await result).Status);
        var rows = await RowsBySourceAsync(table);
        Assert.Equal(accepted.Select(a => a.Id).Order(), rows.Keys.Order());
        Assert.All(rows.Values, n => Assert.Equal(10, n));
    }

    [Fact]
    public async Task TryEnqueue_AfterStop_Refused()
    {
        var committer = new BronzeGroupCommitter(Open());
        await committer.StopAsync();
        Assert.False(committer.TryEnqueue(Submission("late", 1), out _));
        Assert.False(await Open().Table.ExistsAsync());
    }

    [Fact]
    public async Task TryEnqueue_SameKeyTwiceInOneGroupAndOnceMore_LandedOnceTheOthersDuplicates()
    {
        var table = Open();
        var committer = new BronzeGroupCommitter(table);
        Assert.True(committer.TryEnqueue(Submission("a", 5, "key-1", 77), out var first));
        Assert.True(committer.TryEnqueue(Submission("b", 5, "key-1", 77), out var second));
        Assert.True(committer.TryEnqueue(Submission("c", 5, "key-1", 78), out var reused));
        Assert.True(committer.TryEnqueue(Submission("d", 5), out var plain));
        await committer.StopAsync();

        Assert.Equal(BronzeSubmissionStatus.Committed, (await first).Status);
        Assert.Equal(BronzeSubmissionStatus.Duplicate, (await second).Status);
        Assert.Equal(BronzeSubmissionStatus.KeyReused, (await reused).Status);
        Assert.Equal(BronzeSubmissionStatus.Committed, (await plain).Status);
        Assert.True((await second).Version >= (await first).Version);
        Assert.Equal(new Dictionary<string, long> { ["a"] = 5, ["d"] = 5 }, await RowsBySourceAsync(table));
        Assert.Equal(new Dictionary<string, long> { [BronzeGroupCommitter.IdempotencyAppIdPrefix + "key-1"] = 77 },
            await table.PositionsAsync(BronzeGroupCommitter.IdempotencyAppIdPrefix));
    }

    [Fact]
    public async Task TryEnqueue_KeyCommittedByAnEarlierProcess_DuplicateOrReusedAndTheOthersOfItsGroupStillLanded()
    {
        var table = Open();
        await using (var earlier = new BronzeGroupCommitter(table))
        {
            Assert.True(earlier.TryEnqueue(Submission("first", 3, "k", 5), out var landed));
            Assert.Equal(BronzeSubmissionStatus.Committed, (await landed).Status);
        }

        var committer = new BronzeGroupCommitter(Open());
        Assert.True(committer.TryEnqueue(Submission("retry", 3, "k", 5), out var retry));
        Assert.True(committer.TryEnqueue(Submission("other-body", 3, "k", 6), out var otherBody));
        Assert.True(committer.TryEnqueue(Submission("fresh", 3, "k2", 9), out var fresh));
        Assert.True(committer.TryEnqueue(Submission("keyless", 3), out var keyless));
        await committer.StopAsync();

        Assert.Equal(BronzeSubmissionStatus.Duplicate, (await retry).Status);
        Assert.Equal(BronzeSubmissionStatus.KeyReused, (await otherBody).Status);
        Assert.Equal(BronzeSubmissionStatus.Committed, (await fresh).Status);
        Assert.Equal(BronzeSubmissionStatus.Committed, (await keyless).Status);
        Assert.Equal(new Dictionary<string, long> { ["first"] = 3, ["fresh"] = 3, ["keyless"] = 3 }, await RowsBySourceAsync(table));
    }

    [Fact]
    public async Task TryEnqueue_KeyOlderThanTheTablesRetention_ForgottenAndLandedAgain()
    {
        // Keys used to stay in every snapshot for good (1M txns: 1.4 s and 370 MB per snapshot). A new table forgets them after 7 days.
        var table = Open();
        var committer = new BronzeGroupCommitter(table);
        Assert.True(committer.TryEnqueue(Submission("first", 2, "k", 5), out var first));
        Assert.Equal(BronzeSubmissionStatus.Committed, (await first).Status);
        Assert.Equal("interval 7 days", (await table.Table.GetSnapshotAsync()).Property(BronzeGroupCommitter.IdempotencyKeyRetentionProperty));
        Assert.Equal("lakehouse.txnRetentionDuration.http/idempotency-", BronzeGroupCommitter.IdempotencyKeyRetentionProperty);
        Assert.True(committer.TryEnqueue(Submission("retry", 2, "k", 5), out var retry));
        Assert.Equal(BronzeSubmissionStatus.Duplicate, (await retry).Status);

        // An operator shortens it (lakehouse table set-properties); the next keyed commit moves the table's clock past key k.
        await DeltaWriter.Create(table.Table).SetPropertiesAsync(new Dictionary<string, string> { [BronzeGroupCommitter.IdempotencyKeyRetentionProperty] = "interval 1 millisecond" }, []);
        await Task.Delay(20);
        Assert.True(committer.TryEnqueue(Submission("newer", 2, "k2", 9), out var newer));
        Assert.Equal(BronzeSubmissionStatus.Committed, (await newer).Status);
        var snapshot = await table.Table.GetSnapshotAsync();
        Assert.Equal(["http/idempotency-key/k2", "http/idempotency-version/k2"], snapshot.Transactions.Keys.Order(StringComparer.Ordinal));

        Assert.True(committer.TryEnqueue(Submission("late-retry", 2, "k", 5), out var lateRetry));
        Assert.True(committer.TryEnqueue(Submission("k2-retry", 2, "k2", 9), out var k2Retry));
        await committer.StopAsync();
        Assert.Equal(BronzeSubmissionStatus.Committed, (await lateRetry).Status);
        Assert.Equal(BronzeSubmissionStatus.Duplicate, (await k2Retry).Status);
        Assert.Equal(new Dictionary<string, long> { ["first"] = 2, ["newer"] = 2, ["late-retry"] = 2 }, await RowsBySourceAsync(table));
    }

    [Fact]
    public async Task TryEnqueue_KeyedToATableThatKeepsKeysForGood_WarnedOnceWithTheCommandThatSetsTheRetention()
    {
        var table = Open();
        await table.CommitAsync(Submission("old", 2).Events, [new DeltaAppTransaction(BronzeGroupCommitter.IdempotencyAppIdPrefix + "old-key", 7) { Previous = -1 }]);
        await DeltaWriter.Create(table.Table).SetPropertiesAsync(new Dictionary<string, string>(), [BronzeGroupCommitter.IdempotencyKeyRetentionProperty]); // as before 2026-12-04
        using var logs = new CapturingLoggerFactory();
        var committer = new BronzeGroupCommitter(table, loggerFactory: logs);
        Assert.True(committer.TryEnqueue(Submission("a", 1, "k1", 1), out var a));
        await a;
        Assert.True(committer.TryEnqueue(Submission("b", 1, "k2", 1), out var b));
        await b;
        await committer.StopAsync();

        var warning = Assert.Single(logs.Events, e => e.Id.Id == 5506);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.InRange((int)warning.Values["Keys"]!, 2, 3); // read in the background after k1's commit: old-key and k1, k2 too if it came first
        Assert.Contains($"lakehouse table set-properties {table.Table.Location} 'lakehouse.txnRetentionDuration.http/idempotency-=interval 7 days'", warning.Message, StringComparison.Ordinal);

        // A table with the retention (any new one) says nothing.
        using var quiet = new CapturingLoggerFactory();
        var fresh = new BronzeGroupCommitter(BronzeTable.Open(LakeStorage.Open(_temp.Combine("bronze/sensors")), fixture.Engine), loggerFactory: quiet);
        Assert.True(fresh.TryEnqueue(Submission("c", 1, "k3", 1), out var c));
        await c;
        Assert.True(fresh.TryEnqueue(Submission("d", 1, "k4", 1), out var d));
        await d;
        await fresh.StopAsync();
        Assert.DoesNotContain(quiet.Events, e => e.Id.Id == 5506);
    }

    [Fact]
    public async Task TryEnqueue_BiggerThanOneCommit_CommittedAlone()
    {
        var table = Open();
        var committer = new BronzeGroupCommitter(table, new GroupCommitOptions { MaxCommitEvents = 10 });
        Assert.True(committer.TryEnqueue(Submission("big", 30), out var big));
        Assert.True(committer.TryEnqueue(Submission("small", 5), out var small));
        await committer.StopAsync();
        Assert.NotEqual((await big).Version, (await small).Version);
        Assert.Equal(new Dictionary<string, long> { ["big"] = 30, ["small"] = 5 }, await RowsBySourceAsync(table));
    }

    [Fact]
    public void Options_OutOfRange_Refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GroupCommitOptions { MaxQueuedSubmissions = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new GroupCommitOptions { MaxCommitEvents = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new GroupCommitOptions { MaxCommitBytes = 0 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new GroupCommitOptions { CompactEveryCommits = -1 });
        Assert.Throws<ArgumentOutOfRangeException>(() => new GroupCommitOptions { MaxConcurrentCommits = 0 });
    }
}
