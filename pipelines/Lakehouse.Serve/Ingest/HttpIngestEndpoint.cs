using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Numerics;
using Lakehouse.Bronze;
using Lakehouse.Core;
using Lakehouse.Datasets;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Serve.Ingest;

/// <summary>What <c>POST /ingest/{dataset}</c> has answered so far (for tests now, /metrics later).</summary>
/// <param name="Requests">Requests received.</param>
/// <param name="Accepted">Answered 202 with their events committed (duplicates included).</param>
/// <param name="Duplicates">Of those, retries whose idempotency key was committed before.</param>
/// <param name="Events">Events committed.</param>
/// <param name="Refused">Answered 400, 404, 413, 415 or 422.</param>
/// <param name="Overloaded">Answered 503 because the queue or the body memory was full, or the server was stopping.</param>
/// <param name="ClientsGone">Requests whose body did not arrive whole (the client went away): nothing landed.</param>
/// <param name="Failed">Answered 500 or 503 because the bronze commit failed.</param>
internal sealed record HttpIngestStatistics(long Requests, long Accepted, long Duplicates, long Events, long Refused, long Overloaded, long ClientsGone, long Failed);

/// <summary>
/// <c>POST /ingest/{dataset}</c>: a body of events (NDJSON or text lines, or a JSON array) is landed raw in
/// <c>bronze.&lt;dataset&gt;</c> and answered 202 only once the Delta commit holding its events is done. Concurrent requests
/// to one dataset share commits (<see cref="BronzeGroupCommitter"/>). Each event's source position is the request id
/// (<c>source</c>, also in the answer and the X-Request-Id header), its 1-based line or element (<c>source_line</c>) and its
/// byte offset in the body (<c>source_offset</c>). Memory is bounded: bodies up to <see cref="HttpIngestOptions.MaxBodyBytes"/>
/// (413 past it), all bodies together up to <see cref="HttpIngestOptions.MaxBufferedBytes"/> and a bounded commit queue
/// (503 with Retry-After past them). A body that does not arrive whole lands nothing.
/// </summary>
internal sealed class HttpIngestEndpoint : IServerPart
{
    internal const string Route = "/ingest/{dataset}";
    internal const string RequestIdHeader = "X-Request-Id";
    internal const string IdempotencyKeyHeader = "Idempotency-Key";
    internal const string ReplayedHeader = "Idempotent-Replayed";
    internal const int RetryAfterSeconds = 1;
    private const int MaxKeyLength = 255;
    private const int FirstChunk = 64 << 10;

    /// <summary>
    /// Memory an event takes beside its bytes until its commit is done (its array, source position and row; measured: a body of
    /// 16.7 million one-byte lines took 4.7 GB), charged against <see cref="HttpIngestOptions.MaxBufferedBytes"/> with the body's.
    /// </summary>
    internal const int EventOverheadBytes = 256;
    private const string QueueFull = "The commit queue is full; send the request again later.";

    private readonly HttpIngestOptions _options;
    private readonly ILakeStorage _lake;
    private readonly DuckEngine _engine;
    private readonly ILoggerFactory _loggerFactory;
    private readonly ILogger _log;
    private readonly BodyMemory _memory;
    private readonly ConcurrentDictionary<string, BronzeGroupCommitter> _committers = new(StringComparer.Ordinal);
    private readonly Lock _gate = new();
    private DatasetLookup? _datasets;
    private volatile bool _stopping;
    private bool _stopped;
    private long _requests, _accepted, _duplicates, _events, _refused, _overloaded, _clientsGone, _failed;

    internal HttpIngestEndpoint(HttpIngestOptions options, ILakeStorage lake, DuckEngine engine, ILoggerFactory loggerFactory)
    {
        options.Validate();
        _options = options;
        _lake = lake;
        _engine = engine;
        _loggerFactory = loggerFactory;
        _log = loggerFactory.CreateLogger<HttpIngestEndpoint>();
        _memory = new BodyMemory(options.MaxBufferedBytes);
    }

    internal HttpIngestStatistics Statistics => new(Interlocked.Read(ref _requests), Interlocked.Read(ref _accepted), Interlocked.Read(ref _duplicates),
        Interlocked.Read(ref _events), Interlocked.Read(ref _refused), Interlocked.Read(ref _overloaded), Interlocked.Read(ref _clientsGone), Interlocked.Read(ref _failed));

    /// <summary>Bronze commits made so far, over every dataset.</summary>
    internal long Commits => _committers.Values.Sum(c => c.Statistics.Commits);

    /// <summary>Submissions waiting for a commit now, over every dataset.</summary>
    internal int Queued => _committers.Values.Sum(c => c.Statistics.Queued);

    /// <summary>Request bodies held in memory now.</summary>
    internal long BufferedBytes => _memory.Used;

    /// <summary>
    /// Opens the lake's datasets (unless the options name them): a lake whose definitions are not valid is refused here, naming
    /// each broken file, as <c>bronze ingest</c> refuses it; one added or fixed while the server runs is seen without a restart.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.IsKnownDataset is not null) return;
        _datasets = DatasetCatalog.Lookup(_lake);
        await _datasets.CatalogAsync(cancellationToken).ConfigureAwait(false);
    }

    public void Map(WebApplication app) => app.MapPost(Route, HandleAsync);

    public void BeginStop() => _stopping = true;

    public async Task StopAsync()
    {
        _stopping = true;
        lock (_gate)
        {
            if (_stopped) return;
            _stopped = true;
        }
        foreach (var committer in _committers.Values) await committer.DisposeAsync().ConfigureAwait(false);
    }

    private async Task HandleAsync(HttpContext context)
    {
        Interlocked.Increment(ref _requests);
        var requestId = Guid.CreateVersion7().ToString("N");
        context.Response.Headers[RequestIdHeader] = requestId;
        var dataset = context.Request.RouteValues["dataset"] as string ?? "";
        if (!IsDatasetName(dataset))
        {
            // Echoed in the answer and the log: bounded, and without control characters (a decoded %0A would forge log lines).
            dataset = new string([.. dataset.Take(200).Select(c => char.IsControl(c) ? '?' : c)]) + (dataset.Length > 200 ? "…" : "");
        }
        if (_stopping)
        {
            await OverloadedAsync(context, requestId, dataset, "The server is stopping; send the request again to another server or later.").ConfigureAwait(false);
            return;
        }
        if (_options.OnlyDataset is { } only && !string.Equals(dataset, only, StringComparison.Ordinal))
        {
            await RefuseAsync(context, requestId, dataset, StatusCodes.Status404NotFound, "Unknown dataset",
                $"This server does not ingest dataset '{dataset}': it is the stream of dataset '{only}' (lakehouse serve takes every dataset of the lake).").ConfigureAwait(false);
            return;
        }
        var known = IsDatasetName(dataset) ? await KnownAsync(dataset).ConfigureAwait(false) : (false, false);
        if (known is null)
        {
            await OverloadedAsync(context, requestId, dataset, "The lake's dataset definitions could not be read; send the request again later.").ConfigureAwait(false);
            return;
        }
        if (!known.Value.Defined)
        {
            await RefuseAsync(context, requestId, dataset, StatusCodes.Status404NotFound, "Unknown dataset", known.Value.Broken
                ? $"There is no dataset '{dataset}': the lake's dataset definitions are not valid (the server's log names the file and the field)."
                : $"There is no dataset '{dataset}' (a dataset is built in, or defined by a file in the lake's _lakehouse/datasets/).").ConfigureAwait(false);
            return;
        }
        if (IngestMediaTypes.FormatOf(context.Request.ContentType, out var refusal) is not { } format)
        {
            context.Response.Headers["Accept-Post"] = IngestMediaTypes.Accepted;
            await RefuseAsync(context, requestId, dataset, StatusCodes.Status415UnsupportedMediaType, "Unsupported media type", refusal!).ConfigureAwait(false);
            return;
        }
        string? decoding = null;
        if (context.Request.Headers.ContentEncoding is { Count: > 0 } coding && !string.Equals(coding.ToString().Trim(), "identity", StringComparison.OrdinalIgnoreCase)
            && (decoding = DecodedStream.Codings.FirstOrDefault(c => string.Equals(c, coding.ToString().Trim(), StringComparison.OrdinalIgnoreCase))) is null)
        {
            // Any other coding would land compressed bytes.
            context.Response.Headers.AcceptEncoding = "gzip, deflate, br";
            await RefuseAsync(context, requestId, dataset, StatusCodes.Status415UnsupportedMediaType, "Unsupported content encoding",
                $"Content-Encoding '{coding}' is not taken; send the body as it is, or gzip, deflate or br.").ConfigureAwait(false);
            return;
        }
        if (!TryReadKey(context.Request.Headers, out var key, out var keyProblem))
        {
            await RefuseAsync(context, requestId, dataset, StatusCodes.Status400BadRequest, "Bad Idempotency-Key", keyProblem!).ConfigureAwait(false);
            return;
        }
        if (context.Request.ContentLength > _options.MaxBodyBytes)
        {
            await TooLargeAsync(context, requestId, dataset).ConfigureAwait(false);
            return;
        }
        if (_committers.TryGetValue(dataset, out var busy) && busy.IsFull)
        {
            // Refused before the body is read: sending it again later costs the client, not this server's memory.
            await OverloadedAsync(context, requestId, dataset, QueueFull).ConfigureAwait(false);
            return;
        }

        var body = new Body(_memory, _options.MaxBodyBytes);
        try
        {
            var (outcome, undecodable) = await ReadBodyAsync(context, requestId, dataset, body, decoding).ConfigureAwait(false);
            switch (outcome)
            {
                case ReadOutcome.Undecodable:
                    await RefuseAsync(context, requestId, dataset, StatusCodes.Status400BadRequest, "Body does not decode",
                        $"The body was sent with Content-Encoding '{decoding}', but {undecodable}; nothing of it was landed.").ConfigureAwait(false);
                    return;
                case ReadOutcome.TooLarge:
                    await TooLargeAsync(context, requestId, dataset).ConfigureAwait(false);
                    return;
                case ReadOutcome.NoMemory:
                    await OverloadedAsync(context, requestId, dataset, "The server holds as many request bodies as it may; send the request again later.").ConfigureAwait(false);
                    return;
                case ReadOutcome.Incomplete:
                    await AnswerQuietlyAsync(context, () => ProblemAsync(context, requestId, StatusCodes.Status400BadRequest, "Incomplete body",
                        "The body ended before its declared length or its last chunk; nothing of it was landed.")).ConfigureAwait(false);
                    return;
                default:
                    break;
            }
            await LandAsync(context, requestId, dataset, format, key, body).ConfigureAwait(false);
        }
        finally
        {
            body.Dispose();
        }
    }

    private async Task LandAsync(HttpContext context, string requestId, string dataset, HttpBodyFormat format, string? key, Body body)
    {
        IReadOnlyList<HttpBodyElement> elements;
        try
        {
            elements = HttpBodyFraming.Frame(body.Span, format);
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.InvalidInput)
        {
            await RefuseAsync(context, requestId, dataset, StatusCodes.Status400BadRequest, "Malformed body", e.Message + " Nothing of it was landed.", bodyUnread: false).ConfigureAwait(false);
            return;
        }
        // Bronze lands no event over 32 MiB from a file; with --max-body-bytes above that, a body could land one (it did).
        if (elements.FirstOrDefault(e => e.Length > HttpBodyFraming.MaxEventBytes) is { Length: > 0 } large)
        {
            await RefuseAsync(context, requestId, dataset, StatusCodes.Status413PayloadTooLarge, "Event too large", string.Create(CultureInfo.InvariantCulture,
                $"The event at {(format == HttpBodyFormat.Lines ? "line" : "element")} {large.Line} is {large.Length} bytes, more than the {HttpBodyFraming.MaxEventBytes} bytes (32 MiB) an event may hold. Split it into smaller events. Nothing of the body was landed."),
                bodyUnread: false).ConfigureAwait(false);
            return;
        }
        // A body of many tiny events costs far more memory than its bytes: each event is charged too, so the budget holds.
        var overhead = (long)elements.Count * EventOverheadBytes;
        if (body.Reserved + overhead > _options.MaxBufferedBytes)
        {
            await RefuseAsync(context, requestId, dataset, StatusCodes.Status413PayloadTooLarge, "Too many events", string.Create(CultureInfo.InvariantCulture,
                $"The body holds {elements.Count} events; with {EventOverheadBytes} bytes of memory each beside their bytes, that is more than the {_options.MaxBufferedBytes} bytes all bodies may hold (--max-buffered-bytes). Send fewer events per request. Nothing of it was landed."),
                bodyUnread: false).ConfigureAwait(false);
            return;
        }
        if (!body.TryReserve(overhead))
        {
            await OverloadedAsync(context, requestId, dataset, "The server holds as many request bodies as it may; send the request again later.").ConfigureAwait(false);
            return;
        }
        // A body with no events and no key lands nothing; with a key, the key is committed (a later body under it is a reuse).
        if (elements.Count == 0 && key is null)
        {
            Interlocked.Increment(ref _accepted);
            await AcceptedAsync(context, requestId, dataset, 0, null, duplicate: false).ConfigureAwait(false);
            return;
        }
        var span = body.Span;
        var events = new BronzeEvent[elements.Count];
        for (var i = 0; i < events.Length; i++)
        {
            var e = elements[i];
            events[i] = new BronzeEvent(span.Slice(e.Offset, e.Length).ToArray(), new SourcePosition(SourceKinds.Http, requestId, null, e.Offset, e.Line));
        }
        var fingerprint = key is null ? 0 : HttpBodyFraming.Fingerprint(span, format);
        body.ReturnBuffer(); // the events hold their own copies; the reservation stays until the commit is done

        var committer = CommitterOf(dataset);
        if (committer is null || !committer.TryEnqueue(new BronzeSubmission(requestId, events, key, fingerprint), out var pending))
        {
            await OverloadedAsync(context, requestId, dataset, committer is null
                ? "The server is stopping; send the request again to another server or later."
                : QueueFull).ConfigureAwait(false);
            return;
        }
        BronzeSubmissionResult outcome;
        try
        {
            // Not cancelled by the client going away: once queued, the events are committed, answered or not.
            outcome = await pending.ConfigureAwait(false);
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref _failed);
            Log.CommitFailed(_log, requestId, dataset, e);
            var transient = e is LakehouseException { IsTransient: true };
            if (transient) context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
            await AnswerQuietlyAsync(context, () => ProblemAsync(context, requestId, transient ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError,
                "Bronze commit failed", $"The events of this request were not committed to bronze.{dataset}: {ClientMessages.FromLakeRoot(_lake, e.Message)}")).ConfigureAwait(false);
            return;
        }
        if (outcome.Status == BronzeSubmissionStatus.KeyReused)
        {
            await RefuseAsync(context, requestId, dataset, StatusCodes.Status422UnprocessableEntity, "Idempotency-Key reused",
                $"Idempotency-Key '{key}' was used before with a different body; nothing of this request was landed.", bodyUnread: false).ConfigureAwait(false);
            return;
        }
        var duplicate = outcome.Status == BronzeSubmissionStatus.Duplicate;
        Interlocked.Increment(ref _accepted);
        if (duplicate) Interlocked.Increment(ref _duplicates);
        else Interlocked.Add(ref _events, events.Length);
        Log.Accepted(_log, requestId, dataset, events.Length, outcome.Version, outcome.Status);
        if (duplicate) context.Response.Headers[ReplayedHeader] = "true";
        await AnswerQuietlyAsync(context, () => AcceptedAsync(context, requestId, dataset, events.Length, events.Length == 0 ? null : outcome.Version, duplicate)).ConfigureAwait(false);
    }

    private BronzeGroupCommitter? CommitterOf(string dataset)
    {
        lock (_gate)
        {
            if (_stopped) return null;
            return _committers.GetOrAdd(dataset, name => new BronzeGroupCommitter(
                BronzeTable.Open(_lake.Scope("bronze/" + name), _engine, _loggerFactory), _options.GroupCommit, _loggerFactory));
        }
    }

    private enum ReadOutcome
    {
        Whole,
        TooLarge,
        NoMemory,
        Incomplete,
        Undecodable,
    }

    /// <summary>
    /// Reads the whole body into <paramref name="body"/>, reserving its memory first (or as it grows, when no length was declared);
    /// decoded from <paramref name="decoding"/> (one of <see cref="DecodedStream.Codings"/>) when it is not null, and then refused as
    /// Undecodable with the problem when it does not decode or is not whole.
    /// </summary>
    private async Task<(ReadOutcome Outcome, string? Problem)> ReadBodyAsync(HttpContext context, string requestId, string dataset, Body body, string? decoding)
    {
        // This endpoint enforces its own limit (it reads at most one byte past it), with a problem+json answer.
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = null;
        // Reads are not tied to RequestAborted: a body that arrived whole is landed even if the connection closes right after
        // (deterministically, not depending on which the server notices first); one that did not fails the read (reset, end of
        // data before the declared length or the last chunk, or Kestrel's minimum data rate for a stalled client).
        using var decoded = decoding is null ? null : DecodedStream.Open(context.Request.Body, decoding);
        var stream = decoded ?? context.Request.Body;
        var max = (int)_options.MaxBodyBytes;
        try
        {
            // The body is read to its end whatever Content-Length says (a gzip body decompresses to more than was sent);
            // the declared length only sizes the first segment, with one byte to spare for the read that finds the end. Memory is
            // reserved as bytes arrive, never for more than the first chunk on a declared length alone: clients that declare the
            // largest body and then send slowly or nothing hold what they sent, not the server's whole budget.
            // A body as large as the largest allowed fills its segments; one more read (of one byte, outside them) tells whether
            // it ends there or is too large, so no body holds more than the largest allowed.
            var first = (int)Math.Min(Math.Min(FirstChunk, max), (context.Request.ContentLength ?? long.MaxValue - 1) + 1);
            if (!body.TryAddSegment(first)) return (ReadOutcome.NoMemory, null);
            while (true)
            {
                if (body.IsFull)
                {
                    if (body.Length == max)
                        return await stream.ReadAsync(new byte[1]).ConfigureAwait(false) == 0 ? Whole() : (ReadOutcome.TooLarge, null);
                    if (!body.TryAddSegment(0)) return (ReadOutcome.NoMemory, null);
                }
                var read = await stream.ReadAsync(body.Free).ConfigureAwait(false);
                if (read == 0) return Whole();
                body.Advance(read);
            }
        }
        catch (InvalidDataException e)
        {
            // Not the coding it says, cut short, or bytes after its end: DecodedStream says which.
            return (ReadOutcome.Undecodable, e.Message);
        }
        catch (Exception e) when (e is BadHttpRequestException or IOException or OperationCanceledException)
        {
            return (Gone(e), null);
        }

        (ReadOutcome, string?) Whole()
        {
            decoded?.Verify();
            return (ReadOutcome.Whole, null);
        }

        ReadOutcome Gone(Exception e)
        {
            Interlocked.Increment(ref _clientsGone);
            Log.ClientGone(_log, requestId, dataset, e);
            return ReadOutcome.Incomplete;
        }
    }

    /// <summary>The Idempotency-Key header: absent, or 1 to 255 visible ASCII characters (a quoted structured-header string is unquoted).</summary>
    private static bool TryReadKey(IHeaderDictionary headers, out string? key, out string? problem)
    {
        key = null;
        problem = null;
        if (!headers.TryGetValue(IdempotencyKeyHeader, out var values) || values.Count == 0) return true;
        if (values.Count > 1)
        {
            problem = "The request has more than one Idempotency-Key header.";
            return false;
        }
        var text = values[0] ?? "";
        if (text.Length >= 2 && text[0] == '"' && text[^1] == '"') text = text[1..^1];
        if (text.Length is 0 or > MaxKeyLength || !text.All(c => c is >= '!' and <= '~'))
        {
            problem = $"An Idempotency-Key is 1 to {MaxKeyLength} visible ASCII characters (no spaces).";
            return false;
        }
        key = text;
        return true;
    }

    /// <summary>
    /// Whether <paramref name="dataset"/> is defined (and, when not, whether broken definitions may be why); null when the
    /// definitions could not be read (storage).
    /// </summary>
    private async ValueTask<(bool Defined, bool Broken)?> KnownAsync(string dataset)
    {
        if (_options.IsKnownDataset is { } isKnown) return (isKnown(dataset), false);
        try
        {
            return (await _datasets!.FindAsync(dataset).ConfigureAwait(false) is not null, false);
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.InvalidInput)
        {
            Log.DefinitionsNotValid(_log, dataset, e.Message);
            return (false, true);
        }
        catch (LakehouseException e)
        {
            Log.DefinitionsUnreadable(_log, dataset, e);
            return null;
        }
    }

    /// <summary>A name a bronze table can take (<see cref="LakeNames.IsTableName"/>); the dataset catalog says whether it is one.</summary>
    private static bool IsDatasetName(string name) => LakeNames.IsTableName(name);

    private Task TooLargeAsync(HttpContext context, string requestId, string dataset)
    {
        return RefuseAsync(context, requestId, dataset, StatusCodes.Status413PayloadTooLarge, "Body too large",
            string.Create(CultureInfo.InvariantCulture, $"A body may have at most {_options.MaxBodyBytes} bytes (--max-body-bytes); send the events in smaller batches. Nothing of it was landed."));
    }

    private async Task OverloadedAsync(HttpContext context, string requestId, string dataset, string detail)
    {
        Interlocked.Increment(ref _overloaded);
        Log.Overloaded(_log, requestId, dataset, detail);
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        // The body may be unread: closing spares reading it just to keep the connection.
        context.Response.Headers.Connection = "close";
        await AnswerQuietlyAsync(context, () => ProblemAsync(context, requestId, StatusCodes.Status503ServiceUnavailable, "Overloaded", detail + " Nothing of it was landed.")).ConfigureAwait(false);
    }

    private async Task RefuseAsync(HttpContext context, string requestId, string dataset, int status, string title, string detail, bool bodyUnread = true)
    {
        Interlocked.Increment(ref _refused);
        Log.Refused(_log, requestId, dataset, status, detail);
        // A body left unread is not read just to keep the connection: it is closed after the answer.
        if (bodyUnread && context.Request.ContentLength is null or > 0) context.Response.Headers.Connection = "close";
        await AnswerQuietlyAsync(context, () => ProblemAsync(context, requestId, status, title, detail)).ConfigureAwait(false);
    }

    private static Task ProblemAsync(HttpContext context, string requestId, int status, string title, string detail) =>
        Results.Problem(detail: detail, statusCode: status, title: title, instance: context.Request.Path,
            extensions: new Dictionary<string, object?> { ["requestId"] = requestId }).ExecuteAsync(context);

    private static Task AcceptedAsync(HttpContext context, string requestId, string dataset, int accepted, long? version, bool duplicate) =>
        Results.Json(new IngestAnswer(requestId, dataset, "bronze." + dataset, accepted, version, duplicate), statusCode: StatusCodes.Status202Accepted).ExecuteAsync(context);

    /// <summary>Writes an answer; a client that went away meanwhile is no error (what was committed stays committed).</summary>
    private async Task AnswerQuietlyAsync(HttpContext context, Func<Task> answer)
    {
        try
        {
            await answer().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
        {
            string requestId = context.Response.Headers[RequestIdHeader]!;
            Log.AnswerLost(_log, requestId, e);
        }
    }

    /// <summary>The body of a 202 answer.</summary>
    /// <param name="RequestId">The request id: the events' <c>source</c> in bronze.</param>
    /// <param name="Dataset">The dataset.</param>
    /// <param name="Table">The table written.</param>
    /// <param name="Accepted">Events of this body that bronze holds now.</param>
    /// <param name="BronzeVersion">The table version that holds them (null when the body held no events).</param>
    /// <param name="Duplicate">True when an earlier request with the same Idempotency-Key landed them (nothing was landed now).</param>
    internal sealed record IngestAnswer(string RequestId, string Dataset, string Table, int Accepted, long? BronzeVersion, bool Duplicate);

    /// <summary>
    /// A request body in pooled segments, and the memory it has reserved (kept until the request is answered): the bytes of its
    /// segments, at most the largest body. Segments double from the first chunk up to 1 MiB, so a body grows without copies
    /// and no array larger than 1 MiB goes back to the shared pool (a growing contiguous buffer left every smaller size there,
    /// about twice the body per request, beyond the budget's view). A body of more than one segment is joined into one array
    /// when it is framed.
    /// </summary>
    private sealed class Body(BodyMemory memory, long maxReserved) : IDisposable
    {
        private const int LargestSegment = 1 << 20;
        private readonly List<byte[]> _segments = [];
        private byte[]? _joined;
        private int _lastLength;
        private long _reserved;

        /// <summary>The bytes read so far.</summary>
        internal int Length { get; private set; }

        /// <summary>The memory reserved so far.</summary>
        internal long Reserved => _reserved;

        /// <summary>Reserves <paramref name="bytes"/> more (released with the rest at <see cref="Dispose"/>); false when the budget has no room.</summary>
        internal bool TryReserve(long bytes)
        {
            if (!memory.TryReserve(bytes)) return false;
            _reserved += bytes;
            return true;
        }

        /// <summary>True when the last segment has no room left (or there is none yet).</summary>
        internal bool IsFull => _segments.Count == 0 || _lastLength == Math.Min(_segments[^1].Length, maxReserved - (Length - _lastLength));

        /// <summary>The room left in the last segment.</summary>
        internal Memory<byte> Free => _segments[^1].AsMemory(_lastLength, (int)Math.Min(_segments[^1].Length, maxReserved - (Length - _lastLength)) - _lastLength);

        /// <summary>The whole body (joined into one array on first use when it spans segments).</summary>
        internal ReadOnlySpan<byte> Span
        {
            get
            {
                if (_segments.Count == 1) return _segments[0].AsSpan(0, Length);
                if (_joined is null && _segments.Count > 1)
                {
                    _joined = GC.AllocateUninitializedArray<byte>(Length);
                    var at = 0;
                    for (var i = 0; i < _segments.Count; i++)
                    {
                        var n = i == _segments.Count - 1 ? _lastLength : _segments[i].Length;
                        _segments[i].AsSpan(0, n).CopyTo(_joined.AsSpan(at));
                        at += n;
                    }
                    ReturnSegments();
                }
                return _joined;
            }
        }

        /// <summary>Counts <paramref name="bytes"/> just read into <see cref="Free"/>.</summary>
        internal void Advance(int bytes)
        {
            _lastLength += bytes;
            Length += bytes;
        }

        /// <summary>
        /// Adds a segment of at least <paramref name="size"/> bytes (the first) or double the last one, up to 1 MiB, if the
        /// memory for it can be reserved; false when it cannot.
        /// </summary>
        internal bool TryAddSegment(int size)
        {
            if (_segments.Count > 0) size = Math.Min(2 * _segments[^1].Length, LargestSegment);
            size = (int)Math.Clamp(size, 1, maxReserved - Length);
            var rented = (long)BitOperations.RoundUpToPowerOf2((uint)size);
            var more = Math.Min(rented, maxReserved - _reserved);
            if (more > 0 && !memory.TryReserve(more)) return false;
            _reserved += Math.Max(more, 0);
            _segments.Add(ArrayPool<byte>.Shared.Rent(size));
            _lastLength = 0;
            return true;
        }

        /// <summary>Gives the buffers back (the events hold their own copies); the reservation stays until <see cref="Dispose"/>.</summary>
        internal void ReturnBuffer()
        {
            ReturnSegments();
            _joined = null;
        }

        private void ReturnSegments()
        {
            foreach (var segment in _segments) ArrayPool<byte>.Shared.Return(segment);
            _segments.Clear();
            _lastLength = 0;
        }

        public void Dispose()
        {
            ReturnBuffer();
            memory.Release(_reserved);
            _reserved = 0;
        }
    }
}
