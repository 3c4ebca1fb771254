using System.Collections.Concurrent;
using System.Text;
using Lakehouse.Bronze.Simulator;
using Lakehouse.Core;
using Lakehouse.Testing;

namespace Lakehouse.Bronze.Tests.Simulator;

/// <summary>The simulator's folder sink: rolling files, published whole by rename, never overwritten.</summary>
public sealed class FolderEventSinkTests : IDisposable
{
    private readonly TempDirectory _temp = new("sink-folder");

    public void Dispose() => _temp.Dispose();

    private static OutgoingEvent[] Events(int from, int count) =>
        [.. Enumerable.Range(from, count).Select(i => new OutgoingEvent(Encoding.UTF8.GetBytes($"{{\"n\":{i}}}")))];

    [Fact]
    public async Task SendAsync_MoreThanAFile_RollsEveryNEventsInOrder()
    {
        var folder = _temp.Combine("landing");
        var sink = EventSinks.Open(folder, new StreamSourceSettings(), new EventSinkOptions { Dataset = "weblogs", RunId = "weblogs-s1-abc", EventsPerFile = 10 });
        await sink.SendAsync(Events(0, 7), CancellationToken.None);
        await sink.SendAsync(Events(7, 16), CancellationToken.None);
        await sink.SendAsync(Events(23, 2), CancellationToken.None);
        await sink.DisposeAsync();

        Assert.Equal(["weblogs-s1-abc-00001.ndjson", "weblogs-s1-abc-00002.ndjson", "weblogs-s1-abc-00003.ndjson"],
            Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(string.Concat(Enumerable.Range(0, 10).Select(i => $"{{\"n\":{i}}}\n")), File.ReadAllText(Path.Combine(folder, "weblogs-s1-abc-00001.ndjson")));
        Assert.Equal(string.Concat(Enumerable.Range(10, 10).Select(i => $"{{\"n\":{i}}}\n")), File.ReadAllText(Path.Combine(folder, "weblogs-s1-abc-00002.ndjson")));
        Assert.Equal("{\"n\":20}\n{\"n\":21}\n{\"n\":22}\n{\"n\":23}\n{\"n\":24}\n", File.ReadAllText(Path.Combine(folder, "weblogs-s1-abc-00003.ndjson")));
        Assert.Equal(3, ((ISinkStatistics)sink).Files!.Count);
    }

    [Fact]
    public async Task SendAsync_FileNotFull_OnlyAHiddenFileUntilPublished()
    {
        var folder = _temp.Combine("landing");
        var sink = EventSinks.Open(folder, new StreamSourceSettings(), new EventSinkOptions { Dataset = "accesslogs", TextPayload = true, EventsPerFile = 100 });
        await sink.SendAsync([new("1.2.3.4 - - [01/May/2024:00:00:00 +0000] \"GET / HTTP/1.1\" 200 5"u8.ToArray())], CancellationToken.None);
        Assert.Equal([".accesslogs-00001.log.inprogress"], Directory.GetFiles(folder).Select(Path.GetFileName));
        await sink.DisposeAsync();
        Assert.Equal(["accesslogs-00001.log"], Directory.GetFiles(folder).Select(Path.GetFileName));
    }

    [Fact]
    public async Task SendAsync_ReaderPollingTheFolder_NeverSeesAPartFile()
    {
        var folder = _temp.Combine("landing");
        var sink = EventSinks.Open(folder, new StreamSourceSettings(), new EventSinkOptions { Dataset = "sensors", EventsPerFile = 5_000 });
        var seen = new ConcurrentDictionary<string, int>();
        var passes = 0;
        using var done = new CancellationTokenSource();
        var reader = Task.Run(() =>
        {
            while (!done.IsCancellationRequested)
            {
                foreach (var file in Directory.GetFiles(folder, "*.ndjson"))
                {
                    var text = File.ReadAllText(file);
                    seen[Path.GetFileName(file)] = text.EndsWith('\n') ? text.Count(c => c == '\n') : -1;
                }
                Interlocked.Increment(ref passes);
            }
        });
        for (var i = 0; i < 200; i++) await sink.SendAsync(Events(i * 250, 250), CancellationToken.None);
        // The reader stops only after a whole look at the folder that began after the last send (a fixed 50 ms could end before a
        // starved reader had looked at all): it has then seen every file published by then.
        var after = Volatile.Read(ref passes);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref passes) < after + 2 && !reader.IsCompleted && clock.Elapsed < TimeSpan.FromMinutes(2)) await Task.Delay(10);
        await done.CancelAsync();
        await reader;
        await sink.DisposeAsync();

        Assert.Equal(10, Directory.GetFiles(folder, "*.ndjson").Length);
        Assert.NotEmpty(seen);
        Assert.All(seen, s => Assert.Equal(5_000, s.Value));
    }

    [Fact]
    public async Task Open_FilesOfTheRunAlreadyThere_RefusedAndLeftAlone()
    {
        var folder = _temp.Combine("landing");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "weblogs-s1-abc-00002.ndjson"), "kept\n");
        File.WriteAllText(Path.Combine(folder, "weblogs-s2-abc-00001.ndjson"), "another run\n");
        var e = Assert.Throws<LakehouseException>(() => EventSinks.Open(folder, new StreamSourceSettings(), new EventSinkOptions { Dataset = "weblogs", RunId = "weblogs-s1-abc" }));
        Assert.Equal(LakehouseErrorReason.AlreadyExists, e.Reason);
        Assert.Equal($"'{folder}' already has files of this run (weblogs-s1-abc-00002.ndjson, …): the same options make the same events, and a landed file is never overwritten. " +
            "Write to another folder, or change --seed (or the other options) for new events.", e.Message);
        Assert.Equal("kept\n", File.ReadAllText(Path.Combine(folder, "weblogs-s1-abc-00002.ndjson")));

        await using var other = EventSinks.Open(folder, new StreamSourceSettings(), new EventSinkOptions { Dataset = "weblogs", RunId = "weblogs-s3-abc" });
    }

    [Fact]
    public async Task DisposeAsync_LastFileFull_NoEmptyFileAfterIt()
    {
        var folder = _temp.Combine("landing");
        var sink = EventSinks.Open(folder, new StreamSourceSettings(), new EventSinkOptions { Dataset = "weblogs", EventsPerFile = 3 });
        await sink.SendAsync(Events(0, 3), CancellationToken.None);
        await sink.DisposeAsync();
        Assert.Equal(["weblogs-00001.ndjson"], Directory.GetFiles(folder).Select(Path.GetFileName));
    }

    [Fact]
    public void Open_AFile_Refused()
    {
        var file = _temp.Combine("events.ndjson");
        File.WriteAllText(file, "");
        var e = Assert.Throws<LakehouseException>(() => EventSinks.Open(file, new StreamSourceSettings(), new EventSinkOptions { Dataset = "weblogs" }));
        Assert.Equal($"'{file}' is a file; events go to a folder.", e.Message);
    }
}
