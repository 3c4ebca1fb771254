using System.CommandLine;
using System.Globalization;
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
                infinities are the strings "NaN", "Infinity" and "-Infinity".
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
            var text = await QueryTextAsync(parse.GetValue(query), parse.GetValue(file), cancellationToken).ConfigureAwait(false);
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
    internal static async Task<string> QueryTextAsync(string? argument, string? file, CancellationToken cancellationToken)
    {
        if (file is not null && argument is not null) throw CommandLine.Usage("give the query as an argument or with --file, not both");
        var source = file ?? argument ?? throw CommandLine.Usage("'lakehouse sql' needs the query: an argument, --file FILE, or - for standard input (see lakehouse sql --help)");
        if (source == "-") return await ReadQueryAsync(Console.In, "standard input", cancellationToken).ConfigureAwait(false);
        if (file is null) return source;
        if (Directory.Exists(file)) throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Cannot read the query file '{file}': it is a folder.");
        try
        {
            using var reader = new StreamReader(file);
            return await ReadQueryAsync(reader, $"the query file '{file}'", cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LakehouseException(LakehouseErrorReason.NotFound, $"Cannot read the query file '{file}': {e.Message}", e);
        }
    }

    /// <summary>The most characters a query may have (16 Mi): a query file or standard input is not read past it.</summary>
    internal const int MaxQueryChars = 16 << 20;

    /// <summary>
    /// Reads a query from <paramref name="reader"/>, refusing one longer than <see cref="MaxQueryChars"/> before it is all in memory
    /// (<c>--file /dev/zero</c> or <c>yes | lakehouse sql -</c> grew without end).
    /// </summary>
    private static async Task<string> ReadQueryAsync(TextReader reader, string what, CancellationToken cancellationToken)
    {
        var text = new System.Text.StringBuilder();
        var buffer = new char[1 << 16];
        int read;
        while ((read = await reader.ReadAsync(buffer.AsMemory(), cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (text.Length + read > MaxQueryChars)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"The query in {what} is longer than {MaxQueryChars.ToString("N0", CultureInfo.InvariantCulture)} characters, the most a query may have; nothing was run.");
            text.Append(buffer, 0, read);
        }
        return text.ToString();
    }

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
