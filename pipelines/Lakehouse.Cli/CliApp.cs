using Lakehouse.Cli.Commands;
using Lakehouse.Core;

namespace Lakehouse.Cli;

/// <summary>The <c>lakehouse</c> command: dispatch, help, and the mapping of errors to exit codes.</summary>
internal static class CliApp
{
    internal const int ExitOk = 0;
    internal const int ExitFailed = 1;
    internal const int ExitUsage = 2;

    private const string Help = """
        lakehouse — a medallion lakehouse on Delta tables

        usage: lakehouse <command> [options]      (global: --lake <path|abfss://...>, default $LAKEHOUSE_LAKE or ./lake)

          demo                                   end-to-end run on the embedded default; prints the results
          table read <table> [--version N | --timestamp T] [--format csv|jsonl] [--limit N]
          table info <table> [--version N] [--json]
          table history <table> [--limit N] [--json]
          table import <files...|-> --to <table> [--mode append|overwrite] [--partition-by col[,col]]
                 [--format ndjson|json|csv|parquet] [--txn appId:version]   (exactly once: skipped if the table holds it)
                 [--max-object-size 16MiB]   (largest JSON record read)
          table vacuum <table> [--retention-hours H] [--force] [--dry-run]
          table optimize <table> [--target-size-mb M] [--where "<partition condition>"]
          table restore <table> --version N
          sql "<query>"                          DuckDB SQL; tables: bronze.x, silver.x, gold.x views over the lake
          bench [--size small|full] [--out report.json] [--azure abfss://...] [--work dir]
                                                 the benchmark suite; JSON report on stdout, progress on stderr

        <table> is a folder, an abfss://container@account.dfs.core.windows.net/path URI, or a lake name (silver.weblogs).
        """;

    internal static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr)
    {
        if (args.Length == 0 || args[0] is "help" or "--help" or "-h")
        {
            await stdout.WriteLineAsync(Help).ConfigureAwait(false);
            return args.Length == 0 ? ExitUsage : ExitOk;
        }
        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        try
        {
            return args[0] switch
            {
                "table" => await TableCommands.RunAsync(args[1..], stdout, cancel.Token).ConfigureAwait(false),
                "sql" => await SqlCommand.RunAsync(args[1..], stdout, cancel.Token).ConfigureAwait(false),
                "demo" => await DemoCommand.RunAsync(args[1..], stdout, cancel.Token).ConfigureAwait(false),
                "bench" => await BenchCommand.RunAsync(args[1..], stdout, stderr, cancel.Token).ConfigureAwait(false),
                "version" or "--version" => await Version(stdout).ConfigureAwait(false),
                _ => throw CommandLine.Usage($"unknown command '{args[0]}' (try: lakehouse help)"),
            };
        }
        catch (UsageException e)
        {
            await stderr.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
            return ExitUsage;
        }
        catch (LakehouseException e)
        {
            await stderr.WriteLineAsync("error: " + e.Message).ConfigureAwait(false);
            return ExitFailed;
        }
        catch (OperationCanceledException)
        {
            await stderr.WriteLineAsync("cancelled").ConfigureAwait(false);
            return ExitFailed;
        }
    }

    private static async Task<int> Version(TextWriter stdout)
    {
        await stdout.WriteLineAsync($"lakehouse {typeof(CliApp).Assembly.GetName().Version} (DuckDB {Engine.DuckEngine.LibraryVersion})").ConfigureAwait(false);
        return ExitOk;
    }
}
