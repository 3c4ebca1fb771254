using Microsoft.Extensions.Logging;

namespace Lakehouse.Testing;

/// <summary>One logged event: its id, level, formatted message (with the exception, when there is one) and structured values.</summary>
public sealed record CapturedEvent(EventId Id, LogLevel Level, string Message, IReadOnlyDictionary<string, object?> Values);

/// <summary>A logger factory that keeps every event of every logger it made, at every level.</summary>
public sealed class CapturingLoggerFactory : ILoggerFactory
{
    private readonly List<CapturedEvent> _events = [];

    /// <summary>Every event so far, in order.</summary>
    public IReadOnlyList<CapturedEvent> Events
    {
        get
        {
            lock (_events) return [.. _events];
        }
    }

    /// <inheritdoc/>
    public ILogger CreateLogger(string categoryName) => new Logger(this);

    /// <inheritdoc/>
    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    /// <inheritdoc/>
    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerFactory owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var values = state is IEnumerable<KeyValuePair<string, object?>> pairs
                ? pairs.ToDictionary(p => p.Key, p => p.Value)
                : new Dictionary<string, object?>();
            var message = formatter(state, exception) + (exception is null ? "" : "\n" + exception);
            lock (owner._events) owner._events.Add(new CapturedEvent(eventId, logLevel, message, values));
        }
    }
}
