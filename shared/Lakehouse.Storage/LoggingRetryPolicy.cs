using System.Diagnostics;
using System.Text.RegularExpressions;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Storage;

/// <summary>
/// The SDK's retry policy (exponential back-off with jitter, the storage response classifier deciding what is transient),
/// with each retry logged (event 2000): the operation and blob from the <see cref="StorageCall"/> in scope, the try, what
/// failed the try before (status and error code, or the exception's type and message) and how long it waited.
/// It also counts the tries of the call, for the error message once the budget is spent.
/// </summary>
internal sealed partial class LoggingRetryPolicy : RetryPolicy
{
    /// <summary>The wait before the first retry; it doubles with each retry (with jitter).</summary>
    internal static readonly TimeSpan InitialDelay = TimeSpan.FromSeconds(0.5);

    /// <summary>The longest wait between two tries.</summary>
    internal static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(30);

    private const string FailureProperty = "Lakehouse.Storage.RetriedFailure";

    private readonly int _tries;
    private readonly ILogger _logger;

    public LoggingRetryPolicy(int maxRetries, ILogger logger)
        : base(maxRetries, DelayStrategy.CreateExponentialDelayStrategy(InitialDelay, MaxDelay))
    {
        _tries = maxRetries + 1;
        _logger = logger;
    }

    protected override bool ShouldRetry(HttpMessage message, Exception? exception) =>
        Remember(message, exception, base.ShouldRetry(message, exception));

    protected override async ValueTask<bool> ShouldRetryAsync(HttpMessage message, Exception? exception) =>
        Remember(message, exception, await base.ShouldRetryAsync(message, exception).ConfigureAwait(false));

    protected override void OnSendingRequest(HttpMessage message)
    {
        Sending(message);
        base.OnSendingRequest(message);
    }

    protected override ValueTask OnSendingRequestAsync(HttpMessage message)
    {
        Sending(message);
        return base.OnSendingRequestAsync(message);
    }

    /// <summary>"HttpRequestException: Connection refused (127.0.0.1:1234)": the type and message of what failed, any SAS signature redacted.</summary>
    internal static string Cause(Exception exception)
    {
        // The transport wraps network errors in a RequestFailedException without a status; the inner one says what happened.
        if (exception is RequestFailedException { Status: 0, InnerException: { } inner }) exception = inner;
        return $"{exception.GetType().Name}: {SasSignature().Replace(exception.Message, "$1REDACTED")}";
    }

    private static bool Remember(HttpMessage message, Exception? exception, bool retry)
    {
        if (retry)
        {
            var cause = exception is not null ? Cause(exception)
                : message.HasResponse ? $"HTTP {message.Response.Status} {(message.Response.Headers.TryGetValue("x-ms-error-code", out var code) ? code : "")}".TrimEnd()
                : "no response";
            message.SetProperty(FailureProperty, new Failure(cause, Stopwatch.GetTimestamp()));
        }
        return retry;
    }

    private void Sending(HttpMessage message)
    {
        var call = message.TryGetProperty(StorageCall.PropertyName, out var value) ? value as StorageCall : null;
        var attempt = message.ProcessingContext.RetryNumber + 1;
        call?.Tried(attempt);
        if (attempt > 1 && message.TryGetProperty(FailureProperty, out var failed) && failed is Failure failure)
        {
            Log.Retrying(_logger, call?.Operation ?? message.Request.Method.Method, call?.Target ?? message.Request.Uri.Path,
                attempt, _tries, failure.Cause, (long)Stopwatch.GetElapsedTime(failure.Timestamp).TotalMilliseconds);
        }
    }

    [GeneratedRegex("(sig=)[^&\\s\"']*", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SasSignature();

    private sealed record Failure(string Cause, long Timestamp);
}

/// <summary>
/// One storage operation as the pipeline sees it: what is done to which blob, and how many tries it took. Put in scope by
/// <see cref="Enter"/> (an SDK message-properties scope), so every request the SDK sends for it carries it to the retry policy.
/// </summary>
internal sealed class StorageCall(string operation, string target)
{
    /// <summary>The name of the message property that carries the call.</summary>
    internal const string PropertyName = "Lakehouse.Storage.Call";

    private readonly long _started = Stopwatch.GetTimestamp();
    private int _tries;

    /// <summary>The operation, e.g. "Get Blob".</summary>
    public string Operation => operation;

    /// <summary>The blob or container, as messages name it (no URL).</summary>
    public string Target => target;

    /// <summary>The most tries any one request of the call took so far.</summary>
    public int Tries => Volatile.Read(ref _tries);

    /// <summary>How long the call has run.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(_started);

    /// <summary>Marks requests the SDK creates from now on (in this async flow) as part of this call.</summary>
    public IDisposable Enter() => HttpPipeline.CreateHttpMessagePropertiesScope(new Dictionary<string, object?> { [PropertyName] = this });

    /// <summary>Records that a request of the call is on its try number <paramref name="attempt"/>.</summary>
    public void Tried(int attempt)
    {
        int seen;
        do
        {
            seen = Volatile.Read(ref _tries);
        }
        while (attempt > seen && Interlocked.CompareExchange(ref _tries, attempt, seen) != seen);
    }
}
