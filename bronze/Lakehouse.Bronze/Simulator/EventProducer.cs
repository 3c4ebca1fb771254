using System.Diagnostics;
using Lakehouse.Datasets.Simulation;

namespace Lakehouse.Bronze.Simulator;

/// <summary>How the producer sends: batch size and pace.</summary>
public sealed record ProduceOptions
{
    private readonly double? _rate;
    private readonly int _batchSize = 1_000;

    /// <summary>Events per second to send at (null: as fast as the sink takes them). Batches are sized to about 20 a second.</summary>
    public double? Rate
    {
        get => _rate;
        init => _rate = value is null || (double.IsFinite(value.Value) && value > 0 && value <= 100_000_000) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The rate is more than 0 and at most 100,000,000 events per second.");
    }

    /// <summary>The most events in one batch (one request, one write; 1 to 1,000,000; default 1,000).</summary>
    public int BatchSize
    {
        get => _batchSize;
        init => _batchSize = value is >= 1 and <= 1_000_000 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The batch size is between 1 and 1,000,000.");
    }
}

/// <summary>Where a run of the producer stands, or how it ended.</summary>
/// <param name="Events">Events the sink has accepted.</param>
/// <param name="Duplicates">Of those, exact re-sends.</param>
/// <param name="Malformed">Of those, malformed ones.</param>
/// <param name="Late">Of those, late ones.</param>
/// <param name="Bytes">Payload bytes accepted (without line breaks).</param>
/// <param name="Elapsed">Time since the run started.</param>
public sealed record ProduceProgress(long Events, long Duplicates, long Malformed, long Late, long Bytes, TimeSpan Elapsed)
{
    /// <summary>Events per second over <see cref="Elapsed"/>.</summary>
    public double EventsPerSecond => Elapsed.TotalSeconds > 0 ? Events / Elapsed.TotalSeconds : 0;

    /// <summary>Files the folder sink wrote (their full paths), or null for other sinks.</summary>
    public IReadOnlyList<string>? Files { get; init; }

    /// <summary>HTTP requests made, or null for other sinks.</summary>
    public long? Requests { get; init; }

    /// <summary>HTTP requests sent again after a 408/429/5xx answer or none, or null for other sinks.</summary>
    public long? Retries { get; init; }

    /// <summary>HTTP batches the server had already landed (same Idempotency-Key), or null for other sinks.</summary>
    public long? Replayed { get; init; }
}

/// <summary>Sends simulated events to a sink (<c>lakehouse produce</c>): in batches, at a pace, counting what was sent.</summary>
public static class EventProducer
{
    /// <summary>
    /// Sends <paramref name="events"/> to <paramref name="sink"/>, disposes the sink (a folder sink publishes its last file then),
    /// and returns what was accepted. With a rate, each batch is sent when its last event is due, so the run takes about
    /// events/rate seconds. <paramref name="progress"/> is told after each batch, and once more with the final numbers when the
    /// run ends for any reason. Cancellation is checked between batches; the batches accepted before stay sent, and
    /// <see cref="OperationCanceledException"/> ends the run.
    /// </summary>
    public static async Task<ProduceProgress> RunAsync(IEnumerable<SimulatedEvent> events, IEventSink sink, ProduceOptions options,
        Action<ProduceProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(sink);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var size = options.Rate is { } r ? (int)Math.Clamp(r / 20, 1, options.BatchSize) : options.BatchSize;
        long sent = 0, duplicates = 0, malformed = 0, late = 0, bytes = 0;
        var batch = new List<OutgoingEvent>(size);
        var kinds = new List<SimulatedEventKind>(size);

        ProduceProgress Snapshot()
        {
            var stats = sink as ISinkStatistics;
            return new ProduceProgress(sent, duplicates, malformed, late, bytes, clock.Elapsed)
            {
                Files = stats?.Files is { } files ? [.. files] : null,
                Requests = stats?.Requests,
                Retries = stats?.Retries,
                Replayed = stats?.Replayed,
            };
        }

        async Task FlushAsync()
        {
            if (batch.Count == 0) return;
            if (options.Rate is { } rate)
            {
                var due = TimeSpan.FromSeconds((sent + batch.Count - 1) / rate);
                TimeSpan wait;
                while ((wait = due - clock.Elapsed) > TimeSpan.Zero) // Task.Delay counts whole milliseconds: never send early
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)), cancellationToken).ConfigureAwait(false);
            }
            cancellationToken.ThrowIfCancellationRequested();
            await sink.SendAsync(batch, cancellationToken).ConfigureAwait(false);
            sent += batch.Count;
            foreach (var (kind, e) in kinds.Zip(batch))
            {
                bytes += e.Payload.Length;
                if (kind == SimulatedEventKind.Duplicate) duplicates++;
                else if (kind == SimulatedEventKind.Malformed) malformed++;
                else if (kind == SimulatedEventKind.Late) late++;
            }
            batch.Clear();
            kinds.Clear();
            progress?.Invoke(Snapshot());
        }

        try
        {
            foreach (var e in events)
            {
                batch.Add(new OutgoingEvent(e.Payload, e.Key));
                kinds.Add(e.Kind);
                if (batch.Count == size) await FlushAsync().ConfigureAwait(false);
            }
            await FlushAsync().ConfigureAwait(false);
        }
        finally
        {
            // Ended, failed or stopped: the sink completes what it accepted (a folder publishes its last file), and the last
            // progress report has the final numbers, files included.
            await sink.DisposeAsync().ConfigureAwait(false);
            progress?.Invoke(Snapshot());
        }
        return Snapshot();
    }
}
