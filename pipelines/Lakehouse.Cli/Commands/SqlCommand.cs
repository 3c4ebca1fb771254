using System.CommandLine;
using Lakehouse.Core;
using Lakehouse.Engine;
using Lakehouse.Sql;
using Lakehouse.Storage;

namespace Lakehouse.Cli.Commands;

/// <summary>
/// <c>lakehouse sql "&lt;query&gt;"</c>: one read-only DuckDB query over the lake's tables (bronze.x, silver.x, gold.x, time travel
/// silver."x@v3"); only the tables it names are opened (<see cref="LakeQuery"/>). The engine is sandboxed to the lake's files
/// unless --unsafe is given, which also allows any statement (COPY, ATTACH, SET …).
/// </summary>
internal static class SqlCommand
{
    /// <summary>How many rows the table format prints by default; the rest are counted, not held.</summary>
    internal const int DefaultMaxRows = 1000;

    internal static Command Create(CliSession session)
    {
        var command = new CliCommand("sql", "Run one read-only DuckDB query over the lake's tables: bronze.x, silver.x and gold.x are views of the tables it names.")
        {
            Details = """
                Only the tables the query names are opened. Time travel: silver."weblogs@v3" is version 3, silver."weblogs@2026-11-01T12:00:00Z"
                the version committed at or before that time (the quotes are needed because of the '@').
                The query must be one statement that reads (SELECT, WITH … SELECT, FROM …, VALUES); a trailing ';' is fine. It may read files
                inside the lake only. --unsafe lifts both limits: any statements (COPY … TO, ATTACH, INSTALL/LOAD, SET) and files anywhere.
                The table format prints at most --max-rows rows (the rest are counted); csv and jsonl stream every row. In jsonl, NaN and
                infinities are the strings "NaN", "Infinity" and "-Infinity"; a JSON value whose text holds them is written as a string.
                """,
            Examples =
            [
                "lakehouse sql \"SELECT page_url, sum(events) FROM gold.page_performance_daily GROUP BY ALL ORDER BY 2 DESC\"",
                "lakehouse sql --file report.sql --format csv > report.csv",
                "echo 'SELECT * FROM gold.alerts' | lakehouse sql - --format jsonl",
                "lakehouse sql --unsafe \"COPY (SELECT * FROM gold.alerts) TO 'alerts.parquet'\"",
            ],
        };
        var query = new Argument<string?>("query")
        {
            Description = "The SQL query (quote it for the shell), or - to read it from standard input.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var file = CommandLine.Text("--file", "Read the query from this file (- for standard input).", "path");
        var format = CommandLine.Choice("--format", "table (aligned text), csv (with a header) or jsonl (one JSON object per row).", "table", "table", "csv", "jsonl");
        var maxRows = CommandLine.WholeNumber("--max-rows", $"The most rows the table format prints (default {DefaultMaxRows}); the rest are counted.", min: 0, max: int.MaxValue);
        var unsafeMode = CommandLine.Flag("--unsafe", "Allow any statement and files outside the lake (COPY … TO, ATTACH, INSTALL/LOAD, SET).");
        command.Add(query);
        command.Add(file);
        command.Add(format);
        command.Add(maxRows);
        command.Add(unsafeMode);
        command.SetAction(async (parse, cancellationToken) =>
        {
            // Standard input or a FIFO may never end: the read waits on a thread of its own, and Ctrl+C ends the wait (exit 130).
            var text = await Task.Run(() => QueryText(parse.GetValue(query), parse.GetValue(file)), CancellationToken.None).WaitAsync(cancellationToken).ConfigureAwait(false);
            var location = session.LakeLocation(parse);
            var lakeStorage = LakeContext.OpenStorage(location, session.LoggerFactory);
            var isUnsafe = parse.GetValue(unsafeMode);
            using var lake = session.OpenLake(location, new DuckEngineOptions { AllowedDirectories = isUnsafe ? null : SandboxFolders(lakeStorage) });
            return await RunAsync(lake, lakeStorage, text, parse.GetValue(format)!, (int)(parse.GetValue(maxRows) ?? DefaultMaxRows), isUnsafe, session.Out, cancellationToken)
                .ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>The query: the argument, the content of --file, or standard input for '-' (as argument or file).</summary>
    private static string QueryText(string? argument, string? file)
    {
        if (file is not null && argument is not null) throw CommandLine.Usage("give the query as an argument or with --file, not both");
        if (file is not null && string.IsNullOrWhiteSpace(file)) throw CommandLine.Usage("--file is blank: give the query file (- for standard input)");
        var source = file ?? argument ?? throw CommandLine.Usage("'lakehouse sql' needs the query: an argument, --file FILE, or - for standard input (see lakehouse sql --help)");
        if (file is null && source != "-") return source;
        return source == "-"
            ? UserFiles.ReadText(Console.OpenStandardInput(), MaxQueryBytes, "the query from standard input", "a query")
            : UserFiles.ReadText(source, MaxQueryBytes, $"the query file '{source}'", "a query");
    }

    /// <summary>The most bytes a query file or standard input may hold (16 MiB): neither is read past it.</summary>
    internal const int MaxQueryBytes = 16 << 20;

    /// <summary>Runs <paramref name="text"/> over the lake and prints the result in <paramref name="format"/>.</summary>
    internal static async Task<int> RunAsync(LakeContext lake, ILakeStorage lakeStorage, string text, string format, int maxRows, bool unsafeMode, TextWriter stdout,
        CancellationToken cancellationToken)
    {
        using var lease = lake.Engine.Lease();
        var connection = lease.Connection;
        using var query = await LakeQuery.PrepareAsync(lake.Engine, connection, lakeStorage, text, new LakeSqlOptions { Unsafe = unsafeMode, LoggerFactory = lake.LoggerFactory }, cancellationToken)
            .ConfigureAwait(false);
        if (!query.IsQuery)
        {
            connection.Execute(query.Sql, cancellationToken);
            await stdout.WriteLineAsync("ok").ConfigureAwait(false);
            return CliApp.ExitOk;
        }
        if (format == "table")
        {
            await Output.WriteQueryAsTableAsync(connection, $"SELECT COLUMNS(*)::VARCHAR FROM ({query.Sql})", maxRows, stdout, cancellationToken).ConfigureAwait(false);
            return CliApp.ExitOk;
        }
        var select = format == "csv" ? query.Sql : LakeQuery.JsonSafe(connection, query.Sql, cancellationToken);
        await Output.CopyToStdoutAsync(connection, select, format, stdout, cancellationToken).ConfigureAwait(false);
        return CliApp.ExitOk;
    }

    /// <summary>The folders the sandboxed engine may read: the lake itself when it is local, else the local copies of its files.</summary>
    private static string[] SandboxFolders(ILakeStorage lake) =>
        lake.LocalPathOrNull("") is { } local ? [local] : [Path.GetFullPath(LakeStorageOptions.FromEnvironment().CacheDirectory ?? LakeStorageOptions.DefaultCacheDirectory)];
}
