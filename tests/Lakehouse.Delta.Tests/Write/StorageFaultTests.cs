using System.Globalization;
using Lakehouse.Core;
using Lakehouse.Delta.Write;
using Lakehouse.Testing;

namespace Lakehouse.Delta.Tests.Write;

/// <summary>
/// Delta writes and reads on Azurite through <see cref="FaultProxy"/>, which answers 500 and 503, loses the answer to a request the
/// server carried out, resets connections in the middle of a body, and answers slowly. Every case ends with the table read
/// directly (not through the proxy): each commit is there once, every row once, nothing partially visible.
/// </summary>
public sealed class StorageFaultTests(EngineFixture engine, AzuriteServer azurite)
    : IClassFixture<EngineFixture>, IClassFixture<AzuriteServer>, IAsyncLifetime
{
    private AzuriteContainer? _container;
    private FaultProxy? _proxy;
    private readonly Lakehouse.Testing.CapturingLoggerFactory _logs = new();

    public async Task InitializeAsync()
    {
        _container = await azurite.CreateContainerAsync("faults");
        _proxy = FaultProxy.Start(azurite.BlobEndpoint);
    }

    public async Task DisposeAsync()
    {
        await _proxy!.DisposeAsync();
        await _container!.DisposeAsync();
        _logs.Dispose();
    }

    /// <summary>The table as a client behind the faulty proxy sees it (4 retries).</summary>
    private DeltaTable ThroughProxy(string table)
    {
        var options = azurite.CreateOptions();
        options.BlobEndpoint = new Uri(_proxy!.Endpoint, AzuriteServer.AccountName);
        options.MaxRetries = 4;
        options.LoggerFactory = _logs;
        return DeltaTable.Open(_container!.Open(table, options), engine.Engine);
    }

    /// <summary>The same table read straight from Azurite.</summary>
    private DeltaTable Direct(string table) => DeltaTable.Open(_container!.Open(table), engine.Engine);

    private static string Rows(int append, int rows = 10) =>
        $"SELECT {(append * rows).ToString(CultureInfo.InvariantCulture)} + i AS id, 'a{append.ToString(CultureInfo.InvariantCulture)}' AS tag FROM range({rows}) AS r(i)";

    private int Retries => _logs.Events.Count(e => e.Id.Id == LogEventIds.Storage);

    [Fact]
    public async Task AppendAsync_EveryThirdRequestBusy_EveryCommitOnceAndEveryRowOnce()
    {
        _proxy!.Plan = (_, _, n) => n % 3 == 0 ? FaultKind.Status503 : FaultKind.None;
        var writer = DeltaWriter.Create(ThroughProxy("busy"));
        for (var i = 0; i < 8; i++) Assert.True((await writer.AppendAsync(Rows(i))).Committed);

        Assert.True(Retries >= 5, $"{Retries} retries logged");
        var table = Direct("busy");
        Assert.Equal(7, (await table.GetSnapshotAsync()).Version);
        Assert.Equal(["80|80|0|79"], await WriteTestKit.QueryAsync(table, "SELECT count(*) || '|' || count(DISTINCT id) || '|' || min(id) || '|' || max(id) FROM t"));
    }

    [Fact]
    public async Task AppendAsync_CommitAnswerLost_TheRetryRecognizesItsOwnCommitAndCommitsOnce()
    {
        var writer = DeltaWriter.Create(ThroughProxy("lost"));
        Assert.True((await writer.AppendAsync(Rows(0))).Committed);
        // Version 1's put-if-absent reaches Azurite, which writes it, but the client gets a 500: its retry finds the blob there.
        var puts = 0;
        _proxy!.Plan = (method, path, _) => method == "PUT" && path.Contains("_delta_log/00000000000000000001.json", StringComparison.Ordinal) && Interlocked.Increment(ref puts) == 1
            ? FaultKind.LostResponse500 : FaultKind.None;
        var second = await writer.AppendAsync(Rows(1));
        Assert.True(second.Committed);
        Assert.True(second.Version == 1, string.Join("\n", _proxy.Requests));
        _proxy.Plan = null;
        Assert.True((await writer.AppendAsync(Rows(2))).Committed);

        Assert.Equal(2, puts); // the put whose answer was lost, and the SDK's retry of it, refused as the blob was there
        var table = Direct("lost");
        Assert.Equal(2, (await table.GetSnapshotAsync()).Version);
        Assert.Equal(["30|30"], await WriteTestKit.QueryAsync(table, "SELECT count(*) || '|' || count(DISTINCT id) FROM t"));
        Assert.Equal(["a0|10", "a1|10", "a2|10"], await WriteTestKit.QueryAsync(table, "SELECT tag || '|' || count(*) FROM t GROUP BY tag ORDER BY tag"));
    }

    [Fact]
    public async Task Read_ConnectionResetMidBody_RetriedAndEveryRowRead()
    {
        var writer = DeltaWriter.Create(ThroughProxy("reset"));
        for (var i = 0; i < 3; i++) await writer.AppendAsync(Rows(i, 1000));
        // Each data file's first download and the first read of each commit are cut in half.
        var seen = new HashSet<string>(StringComparer.Ordinal);
        _proxy!.Plan = (method, path, _) =>
        {
            if (method != "GET" || !(path.Contains(".parquet", StringComparison.Ordinal) || path.Contains("_delta_log/0", StringComparison.Ordinal))) return FaultKind.None;
            lock (seen) return seen.Add(path.Split('?')[0]) ? FaultKind.ResetMidBody : FaultKind.None;
        };
        var reader = ThroughProxy("reset");
        Assert.Equal(["3000|3000"], await WriteTestKit.QueryAsync(reader, "SELECT count(*) || '|' || count(DISTINCT id) FROM t"));
        // Every download cut in half was asked for again (the SDK resumes or retries it) and the rows came out whole.
        var cut = _proxy.Requests.Where(r => r.Fault == FaultKind.ResetMidBody).Select(r => r.Path.Split('?')[0]).ToList();
        Assert.True(cut.Count >= 3, string.Join("\n", _proxy.Requests));
        Assert.All(cut, path => Assert.True(_proxy.Requests.Count(r => r.Method == "GET" && r.Path.Split('?')[0] == path) >= 2, path));
    }

    [Fact]
    public async Task AppendAsync_LogWritesFailPastTheRetryBudget_ClearErrorNothingVisibleAndTheNextAppendWorks()
    {
        var writer = DeltaWriter.Create(ThroughProxy("down"));
        await writer.AppendAsync(Rows(0));
        _proxy!.Plan = (method, path, _) => method == "PUT" && path.Contains("_delta_log/", StringComparison.Ordinal) ? FaultKind.Status500 : FaultKind.None;

        var e = await Assert.ThrowsAsync<LakehouseException>(() => writer.AppendAsync(Rows(1)));
        Assert.Equal(LakehouseErrorReason.Storage, e.Reason);
        Assert.Contains("failed after 5 tries", e.Message, StringComparison.Ordinal);
        Assert.Contains("_delta_log/00000000000000000001.json", e.Message, StringComparison.Ordinal);

        // The data file the failed append wrote is not part of the table; the table is as before.
        var table = Direct("down");
        Assert.Equal(0, (await table.GetSnapshotAsync()).Version);
        Assert.Equal(["10"], await WriteTestKit.QueryAsync(table, "SELECT count(*) FROM t"));

        _proxy.Plan = (_, _, n) => n % 2 == 0 ? FaultKind.Slow : FaultKind.None;
        _proxy.SlowDelay = TimeSpan.FromMilliseconds(200);
        var again = await DeltaWriter.Create(ThroughProxy("down")).AppendAsync(Rows(1));
        Assert.Equal(1, again.Version);
        Assert.Equal(["20|20"], await WriteTestKit.QueryAsync(Direct("down"), "SELECT count(*) || '|' || count(DISTINCT id) FROM t"));
    }
}
