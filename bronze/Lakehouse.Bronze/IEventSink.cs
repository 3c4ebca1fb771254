using Lakehouse.Bronze.EventHubs;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Bronze.Simulator;
using Lakehouse.Core;

namespace Lakehouse.Bronze;

/// <summary>One event to send: its bytes and an optional key (Kafka key, Event Hubs partition key).</summary>
public sealed record OutgoingEvent(byte[] Payload, string? Key = null);

/// <summary>Where the simulator (<c>lakehouse produce --to</c>) sends events: a folder, an HTTP endpoint, Kafka or Event Hubs.</summary>
public interface IEventSink : IAsyncDisposable
{
    /// <summary>Sends <paramref name="events"/>; returns when the destination has accepted them (acknowledged, written, answered).</summary>
    Task SendAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken);
}

/// <summary>Opens the sink a <c>--to</c> value names.</summary>
public static class EventSinks
{
    /// <summary>
    /// The sink of <paramref name="to"/>: a folder, http(s)://…, kafka://host:port/topic or eventhubs://…. <paramref name="options"/>
    /// says what the folder and HTTP sinks need to know (the dataset, text or JSON, file size, retries); other sinks ignore it.
    /// </summary>
    public static IEventSink Open(string to, StreamSourceSettings settings, EventSinkOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(to);
        ArgumentNullException.ThrowIfNull(settings);
        options ??= new EventSinkOptions();
        var logger = (settings.LoggerFactory ?? Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance).CreateLogger("Lakehouse.Bronze.Simulator");
        var scheme = to.Contains("://", StringComparison.Ordinal) ? to[..to.IndexOf("://", StringComparison.Ordinal)].ToLowerInvariant() : "";
        return scheme switch
        {
            "eventhubs" => EventHubsSink.Open(to, settings),
            "" => FolderEventSink.Create(to, options, logger),
            "http" or "https" => HttpEventSink.Create(to, options, logger),
            "kafka" => KafkaSink.Open(to, settings),
            _ => throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Sending to '{(scheme.Length == 0 ? "a folder" : scheme + "://")}' is not available yet."),
        };
    }
}

/// <summary>What the folder and HTTP sinks need besides the <c>--to</c> value; validated when set.</summary>
public sealed record EventSinkOptions
{
    private readonly string? _dataset;
    private readonly string? _runId;
    private readonly int _eventsPerFile = 100_000;
    private readonly int _maxRetries = 8;
    private readonly TimeSpan _requestTimeout = TimeSpan.FromSeconds(100);

    /// <summary>
    /// The dataset the events belong to: an HTTP URL without a path posts to <c>/ingest/&lt;dataset&gt;</c>; a folder's files are
    /// named after it when there is no <see cref="RunId"/>.
    /// </summary>
    public string? Dataset
    {
        get => _dataset;
        init => _dataset = value is null || IsToken(value) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A dataset name has letters, digits, '_' and '-'.");
    }

    /// <summary>True when the events are text lines (a folder writes <c>.log</c> files, HTTP sends text/plain); else NDJSON.</summary>
    public bool TextPayload { get; init; }

    /// <summary>
    /// Names one run's output (letters, digits, '_', '-' and '.'): the folder sink's files are <c>&lt;run id&gt;-00001.ndjson</c>, …,
    /// and the HTTP sink sends <c>Idempotency-Key: &lt;run id&gt;-&lt;first event&gt;-&lt;events&gt;</c> with each batch, so the same run sent
    /// again (or a batch retried after a lost answer) is not landed twice. Null: files named after the dataset, no keys.
    /// </summary>
    public string? RunId
    {
        get => _runId;
        init => _runId = value is null || (IsToken(value) && value.Length <= 200) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "A run id is 1 to 200 letters, digits, '_', '-' and '.'.");
    }

    /// <summary>Folder sink: events per file before the next file is started (1 to 100,000,000; default 100,000).</summary>
    public int EventsPerFile
    {
        get => _eventsPerFile;
        init => _eventsPerFile = value is >= 1 and <= 100_000_000 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Events per file is between 1 and 100,000,000.");
    }

    /// <summary>HTTP sink: how often a batch answered 408, 429, 502, 503 or 504, or not answered at all, is sent again (0 to 100; default 8).</summary>
    public int MaxRetries
    {
        get => _maxRetries;
        init => _maxRetries = value is >= 0 and <= 100 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Retries are between 0 and 100.");
    }

    /// <summary>HTTP sink: how long one request may take before it is abandoned and retried (default 100 s).</summary>
    public TimeSpan RequestTimeout
    {
        get => _requestTimeout;
        init => _requestTimeout = value > TimeSpan.Zero && value <= TimeSpan.FromHours(1) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The request timeout is more than zero and at most an hour.");
    }

    private static bool IsToken(string value) => value.Length > 0 && value.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.') && value[0] != '.';
}
