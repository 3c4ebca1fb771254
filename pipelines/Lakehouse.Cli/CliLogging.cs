using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Console;

namespace Lakehouse.Cli;

/// <summary>
/// The run's logging: Microsoft.Extensions.Logging's console logger, on standard error only (standard output carries data).
/// Warnings and errors by default, as <c>warning: message</c>; with --verbose also debug events, each with its event id and category.
/// The console logger (and the container it is built with) is only created when the first event at an enabled level is logged:
/// most runs log nothing, and its start-up would be a large part of a short command's time.
/// </summary>
internal sealed class CliLoggerFactory(bool verbose) : ILoggerFactory
{
    private readonly LogLevel _minimum = verbose ? LogLevel.Debug : LogLevel.Warning;
    private readonly Lazy<ILoggerFactory> _console = new(() => CreateConsole(verbose), LazyThreadSafetyMode.ExecutionAndPublication);

    public ILogger CreateLogger(string categoryName) => new DeferredLogger(this, categoryName);

    public void AddProvider(ILoggerProvider provider) => _console.Value.AddProvider(provider);

    /// <summary>Flushes the console logger's queue (it writes on a thread of its own).</summary>
    public void Dispose()
    {
        if (_console.IsValueCreated) _console.Value.Dispose();
    }

    private static ILoggerFactory CreateConsole(bool verbose) => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Warning)
        .AddConsole(options =>
        {
            options.FormatterName = CliLogFormatter.FormatterName;
            options.LogToStandardErrorThreshold = LogLevel.Trace;
        })
        .AddConsoleFormatter<CliLogFormatter, CliLogFormatterOptions>(options => options.Verbose = verbose));

    private sealed class DeferredLogger(CliLoggerFactory owner, string category) : ILogger
    {
        private ILogger? _logger;

        private ILogger Logger => _logger ??= owner._console.Value.CreateLogger(category);

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner._minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) Logger.Log(logLevel, eventId, state, exception, formatter);
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null; // scopes are not shown
    }
}

/// <summary>Options of <see cref="CliLogFormatter"/>.</summary>
internal sealed class CliLogFormatterOptions : ConsoleFormatterOptions
{
    /// <summary>Write event ids, categories and exceptions (--verbose).</summary>
    public bool Verbose { get; set; }
}

/// <summary>One line per event: <c>warning: message</c>, or with --verbose <c>debug [2001 Lakehouse.Storage] message</c> and the exception.</summary>
internal sealed class CliLogFormatter(Microsoft.Extensions.Options.IOptionsMonitor<CliLogFormatterOptions> options) : ConsoleFormatter(FormatterName)
{
    internal const string FormatterName = "lakehouse";

    public override void Write<TState>(in LogEntry<TState> logEntry, IExternalScopeProvider? scopeProvider, TextWriter textWriter)
    {
        var message = logEntry.Formatter?.Invoke(logEntry.State, logEntry.Exception);
        if (message is null) return;
        var level = logEntry.LogLevel switch
        {
            LogLevel.Trace => "trace",
            LogLevel.Debug => "debug",
            LogLevel.Information => "info",
            LogLevel.Warning => "warning",
            LogLevel.Error => "error",
            _ => "critical",
        };
        if (options.CurrentValue.Verbose)
        {
            textWriter.Write($"{level} [{logEntry.EventId.Id} {logEntry.Category}] {message}\n");
            if (logEntry.Exception is not null) textWriter.Write(logEntry.Exception + "\n");
        }
        else
        {
            textWriter.Write($"{level}: {message}\n");
        }
    }
}
