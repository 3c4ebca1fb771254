using Lakehouse.Core;
using Lakehouse.Pipelines.State;

namespace Lakehouse.Pipelines.Tests.State;

/// <summary>The contract every <see cref="IPipelineStateStore"/> keeps; run against SQLite and a real Cosmos DB server.</summary>
public abstract class PipelineStateStoreContract : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero).AddTicks(1_234_567);
    private readonly List<IPipelineStateStore> _stores = [];

    /// <summary>A new store over the same storage each call (a second process or client in the tests that need two).</summary>
    protected abstract IPipelineStateStore OpenStore();

    protected IPipelineStateStore Store { get; private set; } = null!;

    public virtual async Task InitializeAsync() => Store = await OpenAsync();

    public virtual async Task DisposeAsync()
    {
        foreach (var store in _stores) await store.DisposeAsync();
    }

    protected async Task<IPipelineStateStore> OpenAsync()
    {
        var store = OpenStore();
        _stores.Add(store);
        await store.InitializeAsync();
        return store;
    }

    [Fact]
    public async Task CreateRun_ThenRead_RoundTripsEveryField()
    {
        var run = new PipelineRunRecord("run-1", "medallion", """{"date":"2026-11-30","n":3}""", RunStatus.InProgress,
            new DateTimeOffset(2026, 11, 30, 13, 0, 0, TimeSpan.FromHours(1)).AddTicks(7));

        var created = await Store.CreateRunAsync(run);
        var read = await Store.GetRunAsync("run-1");

        Assert.NotNull(created.ETag);
        Assert.Equal(created, read);
        Assert.Equal(new DateTimeOffset(2026, 11, 30, 12, 0, 0, TimeSpan.Zero).AddTicks(7), read.StartedAt);
        Assert.Null(read.EndedAt);
        Assert.Null(read.Error);
    }

    [Fact]
    public async Task UpdateRun_WithCurrentETag_StoresStatusEndAndError()
    {
        var created = await Store.CreateRunAsync(new PipelineRunRecord("run-2", "medallion", "{}", RunStatus.InProgress, T0));

        var failed = await Store.UpdateRunAsync(created with { Status = RunStatus.Failed, EndedAt = T0.AddSeconds(90), Error = "silver: column 'x' missing" });

        Assert.NotEqual(created.ETag, failed.ETag);
        var read = await Store.GetRunAsync("run-2");
        Assert.Equal(RunStatus.Failed, read.Status);
        Assert.Equal(T0.AddSeconds(90), read.EndedAt);
        Assert.Equal("silver: column 'x' missing", read.Error);
        Assert.Equal(failed.ETag, read.ETag);
    }

    [Fact]
    public async Task UpdateRun_WithStaleETag_ThrowsConflictAndKeepsTheFirstWrite()
    {
        var created = await Store.CreateRunAsync(new PipelineRunRecord("run-3", "medallion", "{}", RunStatus.InProgress, T0));
        await Store.UpdateRunAsync(created with { Status = RunStatus.Succeeded, EndedAt = T0.AddMinutes(1) });

        var error = await Assert.ThrowsAsync<PipelineStateConflictException>(() =>
            Store.UpdateRunAsync(created with { Status = RunStatus.Cancelled }));

        Assert.Contains("run-3", error.Message, StringComparison.Ordinal);
        Assert.Contains("stale", error.Message, StringComparison.Ordinal);
        Assert.Equal(RunStatus.Succeeded, (await Store.GetRunAsync("run-3")).Status);
    }

    [Fact]
    public async Task CreateRun_ExistingId_ThrowsConflict()
    {
        await Store.CreateRunAsync(new PipelineRunRecord("run-4", "a", "{}", RunStatus.Queued, T0));

        var error = await Assert.ThrowsAsync<PipelineStateConflictException>(() =>
            Store.CreateRunAsync(new PipelineRunRecord("run-4", "b", "{}", RunStatus.Queued, T0)));

        Assert.Contains("exists already", error.Message, StringComparison.Ordinal);
        Assert.Equal("a", (await Store.GetRunAsync("run-4")).Pipeline);
    }

    [Fact]
    public async Task ReadAndUpdate_MissingItems_AreClearNotFound()
    {
        Assert.Null(await Store.TryGetRunAsync("no-such-run"));
        Assert.Null(await Store.TryGetActivityAsync("no-such-run", "Bronze"));
        Assert.Empty(await Store.ListActivitiesAsync("no-such-run"));

        var get = await Assert.ThrowsAsync<PipelineStateNotFoundException>(() => Store.GetRunAsync("no-such-run"));
        Assert.Equal("Pipeline run 'no-such-run' does not exist in the state store.", get.Message);
        var update = await Assert.ThrowsAsync<PipelineStateNotFoundException>(() =>
            Store.UpdateRunAsync(new PipelineRunRecord("no-such-run", "p", "{}", RunStatus.Failed, T0, ETag: "\"1\"")));
        Assert.Contains("no-such-run", update.Message, StringComparison.Ordinal);
        var activity = await Assert.ThrowsAsync<PipelineStateNotFoundException>(() =>
            Store.SaveActivityAsync(new ActivityRunRecord("no-such-run", "Bronze", 1, RunStatus.Failed, null, T0, ETag: "\"1\"")));
        Assert.Contains("no-such-run/Bronze", activity.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ListRuns_ThreeRunsTwoPipelines_NewestFirstWithActivityDurations()
    {
        await Store.CreateRunAsync(new PipelineRunRecord("old", "medallion", "{}", RunStatus.Succeeded, T0, T0.AddMinutes(5)));
        await Store.CreateRunAsync(new PipelineRunRecord("new", "medallion", "{}", RunStatus.InProgress, T0.AddHours(2)));
        await Store.CreateRunAsync(new PipelineRunRecord("mid", "other", "{}", RunStatus.Failed, T0.AddHours(1), T0.AddHours(1).AddSeconds(3), "boom"));
        await Store.SaveActivityAsync(new ActivityRunRecord("old", "Silver", 1, RunStatus.Succeeded, """{"rows":10}""", T0.AddSeconds(70), T0.AddSeconds(100)));
        await Store.SaveActivityAsync(new ActivityRunRecord("old", "Bronze", 2, RunStatus.Succeeded, """{"files":2}""", T0.AddSeconds(10), T0.AddSeconds(70)));
        await Store.SaveActivityAsync(new ActivityRunRecord("new", "Bronze", 1, RunStatus.InProgress, null, T0.AddHours(2)));

        var all = await Store.ListRunsAsync();
        var medallion = await Store.ListRunsAsync("medallion");
        var newest = await Store.ListRunsAsync(limit: 1);
        var activities = await Store.ListActivitiesAsync("old");

        Assert.Equal(["new", "mid", "old"], all.Select(r => r.RunId));
        Assert.Equal(["new", "old"], medallion.Select(r => r.RunId));
        Assert.Equal(["new"], newest.Select(r => r.RunId));
        Assert.Equal(["Bronze", "Silver"], activities.Select(a => a.ActivityName));
        Assert.Equal([TimeSpan.FromSeconds(60), TimeSpan.FromSeconds(30)], activities.Select(a => a.Duration!.Value));
        Assert.Equal(2, activities[0].Attempt);
        Assert.Equal("""{"files":2}""", activities[0].OutputJson);
        Assert.Null((await Store.ListActivitiesAsync("new")).Single().Duration);
        Assert.Equal("boom", all[1].Error);
    }

    [Fact]
    public async Task SaveActivity_CheckpointUpdates_StaleWriterGetsConflictNotOverwrite()
    {
        var first = await Store.SaveActivityAsync(new ActivityRunRecord("run-5", "Silver", 1, RunStatus.InProgress, null, T0));
        var resumedA = await Store.TryGetActivityAsync("run-5", "Silver");
        var resumedB = await Store.TryGetActivityAsync("run-5", "Silver");

        var winner = await Store.SaveActivityAsync(resumedA! with { Attempt = 2, Status = RunStatus.Succeeded, OutputJson = """{"version":7}""", EndedAt = T0.AddSeconds(5) });
        var conflict = await Assert.ThrowsAsync<PipelineStateConflictException>(() =>
            Store.SaveActivityAsync(resumedB! with { Attempt = 2, Status = RunStatus.Failed, Error = "late" }));
        var duplicate = await Assert.ThrowsAsync<PipelineStateConflictException>(() =>
            Store.SaveActivityAsync(new ActivityRunRecord("run-5", "Silver", 1, RunStatus.Queued, null, T0)));

        Assert.Equal(first.ETag, resumedA!.ETag);
        Assert.Contains("run-5/Silver", conflict.Message, StringComparison.Ordinal);
        Assert.Contains("exists already", duplicate.Message, StringComparison.Ordinal);
        var stored = await Store.TryGetActivityAsync("run-5", "Silver");
        Assert.Equal(winner, stored);
        Assert.Equal("""{"version":7}""", stored!.OutputJson);
        Assert.Equal(TimeSpan.FromSeconds(5), stored.Duration);
    }

    [Fact]
    public async Task ClaimFile_TwoConcurrentClaimers_ExactlyOneWinsEachFile()
    {
        var other = await OpenAsync();
        var files = Enumerable.Range(0, 20)
            .Select(i => new LandedFile($"landing/orders/part-{i:00}.json", 100 + i, T0.AddSeconds(i), i % 2 == 0 ? "" : $"\"0x8D{i}\""))
            .ToList();

        var claims = await Task.WhenAll(files.SelectMany(file => new[]
        {
            Task.Run(() => Store.ClaimFileAsync(file, "claimer-a")),
            Task.Run(() => other.ClaimFileAsync(file, "claimer-b")),
        }));

        for (var i = 0; i < files.Count; i++)
        {
            var (a, b) = (claims[2 * i], claims[(2 * i) + 1]);
            Assert.True(a.Claimed ^ b.Claimed, $"file {i}: exactly one claim wins (a {a.Claimed}, b {b.Claimed})");
            Assert.Equal(a.RunId, b.RunId);
            Assert.Equal(a.Claimed ? "claimer-a" : "claimer-b", a.RunId);
            Assert.Equal(a.ClaimedAt, b.ClaimedAt);
        }
        var again = await Store.ClaimFileAsync(files[3], "later");
        Assert.False(again.Claimed);
        Assert.Equal(claims[6].RunId, again.RunId);
    }

    [Fact]
    public async Task ClaimFile_SamePathNewSizeTimeOrETag_IsANewFile()
    {
        var file = new LandedFile("landing/a.csv", 10, T0, "\"e1\"");

        var first = await Store.ClaimFileAsync(file, "r1");
        var grown = await Store.ClaimFileAsync(file with { Size = 11 }, "r2");
        var touched = await Store.ClaimFileAsync(file with { ModifiedAt = T0.AddTicks(1) }, "r3");
        var replaced = await Store.ClaimFileAsync(file with { SourceETag = "\"e2\"" }, "r4");
        var seen = await Store.ClaimFileAsync(file, "r5");

        Assert.Equal([true, true, true, true, false], new[] { first, grown, touched, replaced, seen }.Select(c => c.Claimed));
        Assert.Equal("r1", seen.RunId);
    }

    [Fact]
    public async Task TryGetClaim_TheFirstClaimOfThatVersionOrNull()
    {
        var file = new LandedFile("landing/b.csv", 10, T0, "\"e1\"");
        Assert.Null(await Store.TryGetClaimAsync(file));

        var claim = await Store.ClaimFileAsync(file, "r1");
        var found = await Store.TryGetClaimAsync(file);
        await Store.ClaimFileAsync(file, "r2");

        Assert.Equal((false, "r1", claim.ClaimedAt), (found!.Claimed, found.RunId, found.ClaimedAt));
        Assert.Equal("r1", (await Store.TryGetClaimAsync(file))!.RunId);
        Assert.Null(await Store.TryGetClaimAsync(file with { Size = 11 }));
        Assert.Null(await Store.TryGetClaimAsync(file with { ModifiedAt = T0.AddTicks(1) }));
        Assert.Null(await Store.TryGetClaimAsync(file with { SourceETag = "\"e2\"" }));
    }

    public static TheoryData<string> HostileIds => new()
    {
        "it's \"quoted\"",
        "a/b\\c?d#e",
        "runs/../../etc/passwd",
        "ünïcødé-日本語-🚀",
        "'; DROP TABLE pipeline_runs; --",
        "  leading and trailing  ",
        new string('x', StateKeys.MaxLength),
        new string('é', 300),
    };

    [Theory]
    [MemberData(nameof(HostileIds))]
    public async Task HostileIds_RoundTripExactly(string id)
    {
        await Store.CreateRunAsync(new PipelineRunRecord(id, id, "{}", RunStatus.InProgress, T0));
        await Store.SaveActivityAsync(new ActivityRunRecord(id, id, 1, RunStatus.Succeeded, $$"""{"id":{{System.Text.Json.JsonSerializer.Serialize(id)}}}""", T0));
        var claim = await Store.ClaimFileAsync(new LandedFile(id, 1, T0, id), id);

        var run = await Store.GetRunAsync(id);
        var activity = await Store.TryGetActivityAsync(id, id);
        Assert.Equal(id, run.RunId);
        Assert.Equal(id, run.Pipeline);
        Assert.Equal(id, activity!.ActivityName);
        Assert.Equal(id, (await Store.ListActivitiesAsync(id)).Single().RunId);
        Assert.Contains(await Store.ListRunsAsync(id), r => r.RunId == id);
        Assert.True(claim.Claimed);
        Assert.False((await Store.ClaimFileAsync(new LandedFile(id, 1, T0, id), "again")).Claimed);
        Assert.Null(await Store.TryGetRunAsync("other-" + id[..Math.Min(id.Length, 100)]));
    }

    [Theory]
    [InlineData("", "The run id is empty.")]
    [InlineData("   ", "The run id is empty.")]
    [InlineData("line\nbreak", "contains the control character U+000A at position 4")]
    [InlineData("nul\0", "contains the control character U+0000 at position 3")]
    public async Task BadIds_AreRefusedWithAMessage(string id, string message)
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() =>
            Store.CreateRunAsync(new PipelineRunRecord(id, "p", "{}", RunStatus.Queued, T0)));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.Empty(await Store.ListRunsAsync());
    }

    [Fact]
    public async Task LoneSurrogateId_IsRefusedWithAMessage()
    {
        var id = new string([(char)0xD800, 'x']);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Store.SaveActivityAsync(new ActivityRunRecord("r", id, 1, RunStatus.Queued, null, T0)));

        Assert.Contains("The activity name", error.Message, StringComparison.Ordinal);
        Assert.Contains("contains an unpaired surrogate at position 0", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TooLongId_IsRefusedWithItsLength()
    {
        var id = new string('x', StateKeys.MaxLength + 1);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => Store.ClaimFileAsync(new LandedFile(id, 1, T0), "r"));

        Assert.Contains($"is {StateKeys.MaxLength + 1} characters long; at most {StateKeys.MaxLength} are allowed", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>The contract on SQLite, in a temp folder.</summary>
public sealed class SqlitePipelineStateStoreTests : PipelineStateStoreContract
{
    private readonly Lakehouse.Testing.TempDirectory _lake = new();

    protected override IPipelineStateStore OpenStore() => new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(_lake.Path));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _lake.Dispose();
    }

    [Fact]
    public async Task Initialize_NewLake_CreatesStateDbInWalMode()
    {
        var path = Path.Combine(_lake.Path, "_lakehouse", "state.db");

        Assert.True(File.Exists(path));
        await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", (string?)await command.ExecuteScalarAsync());
    }

    /// <summary>
    /// A state.db that is not a database, or one cut short, is refused when the store opens, naming the file, what it holds and the
    /// way out. Before, the first query that reached the damage failed with SQLite's words alone ("SQLite Error 11: 'database disk
    /// image is malformed'"), which name no file.
    /// </summary>
    [Theory]
    [InlineData("not a database")]
    [InlineData("cut short")]
    public async Task Initialize_DamagedFile_RefusedNamingTheFileAndTheWayOut(string damage)
    {
        using var lake = new Lakehouse.Testing.TempDirectory();
        var path = SqlitePipelineStateStore.PathUnderLake(lake.Path);
        if (damage == "not a database")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, "garbage garbage garbage");
        }
        else
        {
            await using (var store = new SqlitePipelineStateStore(path))
            {
                await store.InitializeAsync();
                for (var i = 0; i < 300; i++)
                    await store.CreateRunAsync(new PipelineRunRecord($"run-{i}", "medallion", new string('p', 200), RunStatus.Succeeded, T0));
            }
            var bytes = await File.ReadAllBytesAsync(path);
            Assert.True(bytes.Length > 16384, $"the database is {bytes.Length} bytes: too small to cut");
            await File.WriteAllBytesAsync(path, bytes[..(bytes.Length / 2)]);
        }

        await using var damaged = new SqlitePipelineStateStore(path);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => damaged.InitializeAsync());

        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.StartsWith($"The pipeline state store {path} is damaged (", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("Move it away and run again to start an empty one: the runs' history is lost, runs cannot be resumed, " +
            "and watch starts a run for files it had taken before (bronze still lands each file once).", e.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// A state.db damaged after the store opened (its quick check passed) is refused by the query that reaches the damage as the
    /// open refuses it, naming the file and the way out; before, every query but the open failed with SQLite's words alone.
    /// </summary>
    [Fact]
    public async Task Query_FileDamagedAfterOpen_RefusedNamingTheFileAndTheWayOut()
    {
        using var lake = new Lakehouse.Testing.TempDirectory();
        var path = SqlitePipelineStateStore.PathUnderLake(lake.Path);
        await using (var store = new SqlitePipelineStateStore(path))
        {
            await store.InitializeAsync();
            for (var i = 0; i < 300; i++)
                await store.CreateRunAsync(new PipelineRunRecord($"run-{i}", "medallion", new string('p', 200), RunStatus.Succeeded, T0.AddMinutes(i)));
        }
        await using var opened = new SqlitePipelineStateStore(path);
        await opened.InitializeAsync();
        Assert.Equal(300, (await opened.ListRunsAsync(limit: 1000)).Count);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        // Pages in the middle of the file overwritten, its header and schema left whole.
        var bytes = await File.ReadAllBytesAsync(path);
        Assert.True(bytes.Length > 32768, $"the database is {bytes.Length} bytes: too small to damage in the middle");
        Array.Fill(bytes, (byte)0xA5, bytes.Length / 2, 8192);
        await File.WriteAllBytesAsync(path, bytes);

        var e = await Assert.ThrowsAsync<LakehouseException>(() => opened.ListRunsAsync(limit: 1000));

        Assert.Equal(LakehouseErrorReason.CorruptLog, e.Reason);
        Assert.StartsWith($"The pipeline state store {path} is damaged (", e.Message, StringComparison.Ordinal);
        Assert.EndsWith("Move it away and run again to start an empty one: the runs' history is lost, runs cannot be resumed, " +
            "and watch starts a run for files it had taken before (bronze still lands each file once).", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ClaimFile_WhileAnotherWriterHoldsTheLock_WaitsAndSucceeds()
    {
        var path = Path.Combine(_lake.Path, "_lakehouse", "state.db");
        await using var other = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        await other.OpenAsync();
        await using (var begin = other.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE; INSERT INTO landed_files VALUES ('held', 1, 0, '', 'other', 0);";
            await begin.ExecuteNonQueryAsync();
        }
        var watch = System.Diagnostics.Stopwatch.StartNew();

        var claim = Task.Run(() => Store.ClaimFileAsync(new LandedFile("landing/x.json", 5, T0), "r1")); // Microsoft.Data.Sqlite blocks while it waits.
        await Task.Delay(700);
        Assert.False(claim.IsCompleted);
        await using (var commit = other.CreateCommand())
        {
            commit.CommandText = "COMMIT;";
            await commit.ExecuteNonQueryAsync();
        }
        var result = await claim;

        Assert.True(result.Claimed);
        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(650), TimeSpan.FromSeconds(25));
        Assert.Equal("other", (await Store.ClaimFileAsync(new LandedFile("held", 1, new DateTimeOffset(0, TimeSpan.Zero)), "r2")).RunId);
    }
}

/// <summary>The contract on a real Cosmos DB server (npm @vercel/cosmosdb-server), each test in its own database.</summary>
public sealed class CosmosPipelineStateStoreTests(CosmosDbServer server) : PipelineStateStoreContract, IClassFixture<CosmosDbServer>
{
    private readonly string _database = "t" + Guid.NewGuid().ToString("N")[..12];

    protected override IPipelineStateStore OpenStore() => server.CreateStore(_database);

    [Fact]
    public void Options_FromEnvironment_ReadConnectionStringAndNeverShowTheKey()
    {
        var options = CosmosStateOptions.FromEnvironment(new Dictionary<string, string?>
        {
            ["LAKEHOUSE_COSMOS_CONNECTION_STRING"] = $"AccountEndpoint=https://acct.documents.azure.com:443/;AccountKey={CosmosDbServer.Key};",
            ["LAKEHOUSE_COSMOS_DATABASE"] = "state",
        });
        var missing = Assert.Throws<ArgumentException>(() => CosmosStateOptions.FromEnvironment(new Dictionary<string, string?>
        {
            ["LAKEHOUSE_COSMOS_ENDPOINT"] = "https://acct.documents.azure.com/",
        }));

        Assert.Equal(new Uri("https://acct.documents.azure.com:443/"), options.Endpoint);
        Assert.Equal("state", options.Database);
        Assert.Equal(CosmosDbServer.Key, options.Key);
        Assert.DoesNotContain(CosmosDbServer.Key, options.ToString(), StringComparison.Ordinal);
        Assert.Contains("LAKEHOUSE_COSMOS_KEY", missing.Message, StringComparison.Ordinal);
    }
}
