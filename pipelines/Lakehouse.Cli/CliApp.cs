using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using System.Diagnostics;
using Lakehouse.Cli.Commands;
using Lakehouse.Core;
using Lakehouse.Engine;

namespace Lakehouse.Cli;

/// <summary>
/// The <c>lakehouse</c> command: the command tree (System.CommandLine), the run of one command line, and the mapping of every
/// outcome to an exit code: 0 done, 1 a data, configuration or runtime error, 2 a command line that cannot run as written,
/// 130 (143) stopped by Ctrl+C (SIGTERM). No exception leaves this class: whatever is thrown ends as <c>error: message</c>.
/// </summary>
internal static class CliApp
{
    internal const int ExitOk = 0;
    internal const int ExitFailed = 1;
    internal const int ExitUsage = 2;

    private const string RootDetails = $"""
        Tables (<table> in every command):
          bronze.name, silver.name, gold.name   a table in the lake; the name is {LakeNames.TableNameRule}
          ./folder, /abs/folder, dir/table      a table in that folder (a text with a '/', or starting with '.')
          folder                                a bare name without '.' is a folder in the working directory
          abfss://container@account.dfs.core.windows.net/path   a table in ADLS Gen2 / Blob storage
        Any other name with a '.' (platinum.t, sliver.x, bronze.x.y) is refused.

        Output: data on standard output; errors, warnings and progress (on a terminal only) on standard error.
        Exit codes: 0 done, 1 data or runtime error, 2 command line cannot run as written, 130 stopped by Ctrl+C.
        Azure credentials come from the environment (AZURE_STORAGE_CONNECTION_STRING, AZURE_STORAGE_KEY, ...; see the README).
        """;

    private static readonly string[] RootExamples =
    [
        "lakehouse demo                                   # sample web logs into bronze, gold rebuilt, printed",
        "lakehouse table list                             # the lake's tables with version, files, rows and size",
        "lakehouse sql \"SELECT count(*) FROM bronze.weblogs\"",
        "lakehouse table import landing/*.ndjson --to bronze.events --lake /data/lake",
        "lakehouse table read silver.weblogs --version 3 --format jsonl --limit 10",
        "lakehouse table vacuum --help                    # help on any command",
    ];

    /// <summary>
    /// Runs one command line and returns its exit code; never throws. <paramref name="endsProcess"/>: the process ends when this
    /// returns (the executable's entry point), so what it would only free (DuckDB's database) is left to the exit.
    /// </summary>
    internal static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, bool endsProcess = false)
    {
        using var session = new CliSession(stdout, stderr, endsProcess);
        // A command that reads or writes the lake opens DuckDB: its library loads while the command line is parsed and the table's
        // log read. Started here, not on Main's first line, where it slowed the session's own loading by more than it gained.
        if (endsProcess && args.FirstOrDefault() is { } first && first != "version" && TopLevelNamed(first) is not null) DuckEngine.PreloadLibrary();
        var clock = Stopwatch.StartNew();
        var command = CliHelp.ProgramName;
        AppDomain.CurrentDomain.UnhandledException += OnUnhandled;
        try
        {
            var root = Build(session, args.FirstOrDefault());
            var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
            session.Start(parse);
            command = CliHelp.PathOf(parse.CommandResult.Command);
            if (parse.Action is ParseErrorAction)
            {
                await stderr.WriteLineAsync("error: " + CommandLine.Describe(parse)).ConfigureAwait(false);
                return ExitUsage;
            }
            using var signals = new CliSignals(signal =>
            {
                stderr.WriteLine($"{signal}: stopping '{command}' (press Ctrl+C again to end at once)");
                stderr.Flush();
            });
            var lake = session.LakeLocation(parse);
            Log.CommandStarting(session.Logger, command, lake);
            var invocation = new InvocationConfiguration
            {
                Output = stdout,
                Error = stderr,
                EnableDefaultExceptionHandler = false,
                ProcessTerminationTimeout = null, // CliSignals handles Ctrl+C and SIGTERM
            };
            try
            {
                var code = await parse.InvokeAsync(invocation, signals.Token).ConfigureAwait(false);
                Log.CommandEnded(session.Logger, command, code, clock.ElapsedMilliseconds);
                return code;
            }
            catch (Exception e) when (signals.ExitCode is { } interrupted)
            {
                // Whatever the interrupted work threw (OperationCanceledException, DuckDB's "interrupted"), it was stopped on request.
                signals.WaitForNotice();
                Log.Cancelled(session.Logger, command, interrupted);
                if (session.Verbose) await stderr.WriteLineAsync("details: " + e).ConfigureAwait(false);
                await stderr.WriteLineAsync("cancelled").ConfigureAwait(false);
                return interrupted;
            }
        }
        catch (Exception e)
        {
            if (!CliErrors.IsExpected(e)) Log.Unexpected(session.Logger, command, e);
            CliErrors.Write(stderr, e, session.Verbose);
            return CliErrors.ExitCodeOf(e);
        }
        finally
        {
            AppDomain.CurrentDomain.UnhandledException -= OnUnhandled;
        }

        // The last resort for an exception on a thread of its own, which would otherwise abort the process (exit code 134).
        void OnUnhandled(object sender, UnhandledExceptionEventArgs e)
        {
            try
            {
                CliErrors.Write(stderr, e.ExceptionObject as Exception ?? new InvalidOperationException(e.ExceptionObject?.ToString()), session.Verbose);
            }
            finally
            {
                Environment.Exit(ExitFailed);
            }
        }
    }

    /// <summary>The top-level commands by name, in the order help lists them.</summary>
    internal static IReadOnlyList<(string Name, Func<CliSession, Command> Create)> TopLevel { get; } =
    [
        ("table", TableCommands.Create),
        ("bronze", BronzeCommands.Create),
        ("silver", SilverCommands.Create),
        ("gold", GoldCommands.Create),
        ("status", StatusCommand.Create),
        ("produce", ProduceCommand.Create),
        ("dataset", DatasetCommands.Create),
        ("serve", ServeCommand.Create),
        ("stream", StreamCommand.Create),
        ("sql", SqlCommand.Create),
        ("synapse", SynapseCommands.Create),
        ("adf", AdfCommands.Create),
        ("pipeline", PipelineCommands.Create),
        ("watch", WatchCommand.Create),
        ("demo", DemoCommand.Create),
        ("bench", BenchCommand.Create),
        ("version", VersionCommand.Create),
    ];

    /// <summary>
    /// The command tree. A command line whose first word names a top-level command (<paramref name="first"/>) gets a tree with only
    /// that one: building all of them costs a short command about 7 ms. Anything else (no command, an option first, a typo to
    /// suggest a name for) gets the whole tree.
    /// </summary>
    internal static RootCommand Build(CliSession session, string? first = null)
    {
        var root = new RootCommand("lakehouse: a medallion lakehouse on Delta tables (bronze, silver, gold), with DuckDB for SQL and Parquet.");
        root.Options.Add(session.Globals.Lake);
        root.Options.Add(session.Globals.Verbose);
        var maxWidth = Console.IsOutputRedirected ? 120 : Math.Clamp(SafeWindowWidth(), 60, 160);
        foreach (var option in root.Options)
        {
            switch (option)
            {
                case HelpOption help:
                    help.Action = new CliHelp.Action(maxWidth, RootDetails, RootExamples);
                    break;
                case VersionOption version:
                    version.Action = new VersionCommand.Action();
                    break;
                default:
                    break;
            }
        }
        if (TopLevelNamed(first) is { } named) root.Subcommands.Add(named(session));
        else foreach (var (_, create) in TopLevel) root.Subcommands.Add(create(session));
        return root;
    }

    /// <summary>What builds the top-level command <paramref name="name"/>; null when no top-level command has that name.</summary>
    internal static Func<CliSession, Command>? TopLevelNamed(string? name)
    {
        foreach (var (commandName, create) in TopLevel)
        {
            if (commandName == name) return create;
        }
        return null;
    }

    private static int SafeWindowWidth()
    {
        try
        {
            return Console.WindowWidth;
        }
        catch (IOException)
        {
            return 120;
        }
    }
}
