using System.Collections.Concurrent;
using Lakehouse.Core;
using Lakehouse.Delta.Tests.Write;
using Lakehouse.Delta.Write;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Lakehouse.Testing;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Delta.Tests;

/// <summary>A logger factory that keeps every line logged at any level.</summary>
internal sealed class CapturingLoggerFactory : ILoggerFactory
{
    internal ConcurrentQueue<(string Category, LogLevel Level, EventId Id, string Message, Exception? Error)> Lines { get; } = new();

    internal List<(LogLevel Level, string Message, Exception? Error)> Events(int id) =>
        [.. Lines.Where(l => l.Id.Id == id).Select(l => (l.Level, l.Message, l.Error))];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) { }

    public void Dispose() { }

    private sealed class Logger(CapturingLoggerFactory factory, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            factory.Lines.Enqueue((category, logLevel, eventId, formatter(state, exception), exception));
    }
}

public sealed class LogEventsTests(EngineFixture fixture) : IClassFixture<EngineFixture>, IDisposable
{
    private readonly DuckEngine _engine = fixture.Engine;
    private readonly TempDirectory _temp = new("logevents");
    private readonly CapturingLoggerFactory _log = new();

    public void Dispose() => _temp.Dispose();

    private DeltaWriter Writer(ILakeStorage storage, DeltaWriteOptions? options = null) => DeltaWriter.Create(DeltaTable.Open(storage, _engine, _log), options);

    [Fact]
    public async Task CommitAsync_CheckpointFailsAfterTheCommit_WarningNamingTheVersionAndTheCommitStands()
    {
        var storage = LakeStorage.Open(_temp.Combine("t"));
        var writer = Writer(storage, new DeltaWriteOptions { TableProperties = new Dictionary<string, string> { ["delta.checkpointInterval"] = "2" } });
        await writer.AppendAsync(WriteTestKit.Rows(0, 1));
        await writer.AppendAsync(WriteTestKit.Rows(1, 2));
        Directory.CreateDirectory(Path.Combine(storage.Location, "_delta_log", "00000000000000000002.checkpoint.parquet")); // the checkpoint cannot be put there

        var result = await writer.AppendAsync(WriteTestKit.Rows(2, 3));

        Assert.Equal(2, result.Version);
        var warning = Assert.Single(_log.Events(3000));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains($"Version 2 of '{storage.Location}' is committed, but writing its checkpoint failed", warning.Message, StringComparison.Ordinal);
        Assert.NotNull(warning.Error);
        Assert.Equal(["3"], await WriteTestKit.QueryAsync(writer.Table, "SELECT count(*) FROM t"));
    }

    [Fact]
    public async Task CommitAsync_ConflictAndTheNewFilesCannotBeDeleted_WarningForTheOrphans()
    {
        var storage = new UndeletableStorage(LakeStorage.Open(_temp.Combine("t")));
        var writer = Writer(storage, new DeltaWriteOptions { PartitionColumns = ["part"] });
        await writer.AppendAsync(WriteTestKit.Rows(0, 2, "'0'"));
        writer.BeforeCommit = async () => await Writer(storage).OverwriteAsync(WriteTestKit.Rows(10, 11, "'0'"));

        var e = await Assert.ThrowsAsync<LakehouseException>(() => writer.ReplacePartitionsAsync(WriteTestKit.Rows(20, 21, "'0'")));

        Assert.Equal(LakehouseErrorReason.Conflict, e.Reason);
        var warning = Assert.Single(_log.Events(3001));
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains($"Could not delete 1 data file(s) of '{storage.Location}' that will never be committed, such as 'part=0/part-", warning.Message, StringComparison.Ordinal);
        Assert.Contains("simulated outage", warning.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CommitAsync_LostRaceAndConflictRetry_DebugEvents()
    {
        var storage = LakeStorage.Open(_temp.Combine("t"));
        var writer = Writer(storage, new DeltaWriteOptions { ConflictRetries = 1, PartitionColumns = ["part"] });
        await writer.AppendAsync(WriteTestKit.Rows(0, 2, "'0'"));

        // A blind append that loses version 1 commits at version 2.
        writer.BeforeCommit = async () =>
        {
            writer.BeforeCommit = null;
            await Writer(storage).AppendAsync(WriteTestKit.Rows(100, 101, "'1'"));
        };
        var append = await writer.AppendAsync(WriteTestKit.Rows(2, 3, "'0'"));
        Assert.Equal((2L, 2), (append.Version, append.Attempts));
        var lost = Assert.Single(_log.Events(3002));
        Assert.Equal(LogLevel.Debug, lost.Level);
        Assert.Contains("WRITE on '", lost.Message, StringComparison.Ordinal);
        Assert.Contains("lost the race for version 1 to another writer; trying version 2 (attempt 2)", lost.Message, StringComparison.Ordinal);

        // A partition overwrite whose files another writer removed runs again.
        writer.BeforeCommit = async () =>
        {
            writer.BeforeCommit = null;
            await Writer(storage).OverwriteAsync(WriteTestKit.Rows(200, 201, "'0'"));
        };
        var replaced = await writer.ReplacePartitionsAsync(WriteTestKit.Rows(300, 301, "'0'"));
        Assert.Equal(4, replaced.Version);
        var retry = Assert.Single(_log.Events(3003));
        Assert.Equal(LogLevel.Debug, retry.Level);
        Assert.Contains("WRITE on '", retry.Message, StringComparison.Ordinal);
        Assert.Contains("runs again from the latest version (retry 1 of 1): Concurrent commit", retry.Message, StringComparison.Ordinal);
        Assert.Equal(["300"], await WriteTestKit.QueryAsync(writer.Table, "SELECT id::VARCHAR FROM t"));
    }

    [Fact]
    public async Task VacuumAsync_StartAndEnd_InformationWithTheSummary()
    {
        var storage = LakeStorage.Open(_temp.Combine("t"));
        var writer = Writer(storage);
        await writer.AppendAsync(WriteTestKit.Rows(0, 2));
        await writer.OverwriteAsync(WriteTestKit.Rows(2, 4));
        await writer.VacuumAsync(TimeSpan.Zero, force: true);

        var start = Assert.Single(_log.Events(3004));
        Assert.Equal(LogLevel.Information, start.Level);
        Assert.StartsWith($"VACUUM of '{storage.Location}' started at version 2: 1 file(s) (", start.Message, StringComparison.Ordinal);
        Assert.EndsWith(" bytes) older than 0 hours and no longer referenced.", start.Message, StringComparison.Ordinal);
        var end = Assert.Single(_log.Events(3005));
        Assert.Equal(LogLevel.Information, end.Level);
        Assert.Equal($"VACUUM of '{storage.Location}' ended at version 3: deleted 1 file(s) and 0 empty folder(s); kept 0 file(s) that commits made while it started refer to.", end.Message);
    }

    /// <summary>Storage whose deletes fail, like a store that is unreachable for a moment.</summary>
    private sealed class UndeletableStorage(ILakeStorage inner) : DelegatingStorage(inner)
    {
        public override Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default) =>
            throw new LakehouseException(LakehouseErrorReason.Storage, $"Deleting '{path}' failed: simulated outage.");
    }
}
