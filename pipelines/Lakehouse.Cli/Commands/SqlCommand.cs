using System.Globalization;
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

    internal static async Task<int> RunAsync(string[] args, TextWriter stdout, CancellationToken cancellationToken)
    {
        var line = CommandLine.Parse(args, new HashSet<string>(StringComparer.Ordinal) { "unsafe" });
        var lakeLocation = LakeContext.Location(line);
        var file = line.Option("file");
        var format = line.Option("format") ?? "table";
        var maxRows = line.LongOption("max-rows") ?? DefaultMaxRows;
        var unsafeMode = line.Flag("unsafe");
        line.RejectUnknownOptions();
        if (format is not ("table" or "csv" or "jsonl" or "json")) throw CommandLine.Usage($"--format must be table, csv or jsonl, not '{format}'");
        if (maxRows is < 0 or > int.MaxValue) throw CommandLine.Usage("--max-rows must be between 0 and 2147483647");
        var text = await QueryTextAsync(line.Positionals, file, cancellationToken).ConfigureAwait(false);
        return await RunQueryAsync(lakeLocation, text, format, (int)maxRows, unsafeMode, stdout, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The query: the argument, the content of --file, or standard input for '-' (as argument or file).</summary>
    internal static async Task<string> QueryTextAsync(IReadOnlyList<string> positionals, string? file, CancellationToken cancellationToken)
    {
        if (positionals.Count > 1) throw CommandLine.Usage($"give the query as one argument (quote it); got {positionals.Count} arguments");
        if (file is not null && positionals.Count > 0) throw CommandLine.Usage("give the query as an argument or with --file, not both");
        var source = file ?? (positionals.Count == 1 ? positionals[0] : throw CommandLine.Usage("missing the SQL query (an argument, --file FILE, or - for standard input)"));
        if (source == "-") return await Console.In.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        if (file is null) return source;
        try
        {
            return await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Core.LakehouseException(Core.LakehouseErrorReason.NotFound, $"Cannot read the query file '{file}': {e.Message}", e);
        }
    }

    /// <summary>Runs <paramref name="text"/> over the lake at <paramref name="lakeLocation"/> and prints the result in <paramref name="format"/>.</summary>
    internal static async Task<int> RunQueryAsync(string lakeLocation, string text, string format, int maxRows, bool unsafeMode, TextWriter stdout,
        CancellationToken cancellationToken)
    {
        var lake = LakeStorage.Open(lakeLocation);
        using var engine = DuckEngine.Open(new DuckEngineOptions { AllowedDirectories = unsafeMode ? null : SandboxFolders(lake) });
        using var lease = engine.Lease();
        var connection = lease.Connection;
        using var query = await LakeQuery.PrepareAsync(engine, connection, lake, text, new LakeSqlOptions { Unsafe = unsafeMode }, cancellationToken).ConfigureAwait(false);
        if (query.IsQuery && format != "table")
        {
            var select = format == "csv" ? query.Sql : LakeQuery.JsonSafe(connection, query.Sql, cancellationToken);
            await Output.CopyToStdoutAsync(connection, select, format, stdout, cancellationToken).ConfigureAwait(false);
            return CliApp.ExitOk;
        }
        if (!query.IsQuery)
        {
            connection.Execute(query.Sql, cancellationToken);
            await stdout.WriteLineAsync("ok").ConfigureAwait(false);
            return CliApp.ExitOk;
        }
        await Output.WriteQueryAsTableAsync(connection, $"SELECT COLUMNS(*)::VARCHAR FROM ({query.Sql})", maxRows, stdout, cancellationToken).ConfigureAwait(false);
        return CliApp.ExitOk;
    }

    /// <summary>The folders the sandboxed engine may read: the lake itself when it is local, else the local copies of its files.</summary>
    private static string[] SandboxFolders(ILakeStorage lake) =>
        lake.LocalPathOrNull("") is { } local ? [local] : [Path.GetFullPath(LakeStorageOptions.FromEnvironment().CacheDirectory ?? LakeStorageOptions.DefaultCacheDirectory)];

    internal static string Plural(long n, string what) => n.ToString("N0", CultureInfo.InvariantCulture) + " " + what + (n == 1 ? "" : "s");
}
