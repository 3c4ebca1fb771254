using System.CommandLine;
using Lakehouse.Engine;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Cli;

/// <summary>The options every command accepts anywhere on the line.</summary>
internal sealed class GlobalOptions
{
    internal Option<string?> Lake { get; } = LakeOption();

    private static Option<string?> LakeOption()
    {
        var option = new Option<string?>("--lake")
        {
            Description = "The lake: a folder, or abfss://container@account.dfs.core.windows.net/path (default: $LAKEHOUSE_LAKE, else ./lake).",
            HelpName = "folder|uri",
            Recursive = true,
        };
        // '--lake --json' would take the next option as the lake's folder (a folder named like an option is still ./--json).
        option.Validators.Add(result =>
        {
            if (result.Tokens.Count > 0 && result.Tokens[^1].Value.StartsWith("--", StringComparison.Ordinal))
                result.AddError($"--lake needs a folder or URI; '{result.Tokens[^1].Value}' is an option (a folder of that name is ./{result.Tokens[^1].Value})");
        });
        return option;
    }

    internal Option<bool> Verbose { get; } = new("--verbose", "-v")
    {
        Description = "Also show debug logs with their event ids, and an error's causes and stack.",
        Arity = ArgumentArity.Zero,
        Recursive = true,
    };
}

/// <summary>
/// What the commands of one run share: the output streams, the global options and their values, logging and progress.
/// Created before parsing; <see cref="Start"/> reads --verbose and starts logging once the line is parsed.
/// </summary>
internal sealed class CliSession(TextWriter stdout, TextWriter stderr, bool endsProcess = false) : IDisposable
{
    private ILoggerFactory? _loggerFactory;

    internal TextWriter Out { get; } = stdout;

    internal TextWriter Error { get; } = stderr;

    internal GlobalOptions Globals { get; } = new();

    internal bool Verbose { get; private set; }

    internal ILoggerFactory LoggerFactory => _loggerFactory ?? NullLoggerFactory.Instance;

    internal ILogger Logger => LoggerFactory.CreateLogger("Lakehouse.Cli");

    /// <summary>Progress on the terminal; nothing when standard error is redirected.</summary>
    internal CliProgress Progress { get; } = CliProgress.For(stderr);

    internal void Start(ParseResult parse)
    {
        Verbose = parse.GetValue(Globals.Verbose);
        _loggerFactory = new CliLoggerFactory(Verbose);
    }

    /// <summary>The lake location: --lake, else $LAKEHOUSE_LAKE, else ./lake.</summary>
    internal string LakeLocation(ParseResult parse)
    {
        var lake = parse.GetValue(Globals.Lake);
        if (string.IsNullOrWhiteSpace(lake)) lake = Environment.GetEnvironmentVariable("LAKEHOUSE_LAKE");
        return string.IsNullOrWhiteSpace(lake) ? "./lake" : lake;
    }

    internal LakeContext OpenLake(ParseResult parse) => OpenLake(LakeLocation(parse));

    /// <summary>
    /// The lake at <paramref name="location"/>, its engine opened with <paramref name="engineOptions"/>. When this run ends the
    /// process (the <c>lakehouse</c> executable, not a test calling <see cref="CliApp.RunAsync"/>), the engine's database is left to
    /// the process's exit instead of being closed (<see cref="DuckEngineOptions.CloseDatabaseOnDispose"/>).
    /// </summary>
    internal LakeContext OpenLake(string location, DuckEngineOptions? engineOptions = null)
    {
        engineOptions ??= new DuckEngineOptions();
        engineOptions.CloseDatabaseOnDispose = !endsProcess;
        return new(location, LoggerFactory, engineOptions);
    }

    /// <summary>Flushes the logger (its console writer runs on a thread of its own) so every line is out before the process ends.</summary>
    public void Dispose() => _loggerFactory?.Dispose();
}
