using System.Collections.Frozen;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lakehouse.Core;
using Lakehouse.Delta;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Sql;

/// <summary>How a query over the lake may run.</summary>
public sealed class LakeSqlOptions
{
    /// <summary>
    /// False (the default): the text must be exactly one read-only query (SELECT, WITH … SELECT, VALUES, …), run through
    /// DuckDB's <c>query()</c> so nothing can be appended to it. True: any statements run as written (COPY, ATTACH, SET …),
    /// for a user who opts in; the engine should then not be sandboxed either.
    /// </summary>
    public bool Unsafe { get; set; }

    /// <summary>Where the tables the query opens log (checkpoint and read problems); null for nowhere.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}

/// <summary>
/// One query over a lake, ready to run on a connection: the lake tables it names (<c>bronze.x</c>, <c>silver.x</c>,
/// <c>gold.x</c>, and time travel <c>silver."x@v3"</c> or <c>silver."x@2026-11-01T00:00:00Z"</c>, see <see cref="LakeTableName"/>)
/// are found in DuckDB's own parse of it and become views over exactly those tables' snapshots. No other table of the lake is
/// opened, so a broken or huge table elsewhere costs nothing, and a table that cannot be read is named in the error.
/// Dispose it to drop the views and the scans' helper tables.
/// </summary>
public sealed partial class LakeQuery : IDisposable
{
    private readonly DuckConnection _connection;
    private readonly List<DeltaScan> _scans;
    private readonly List<string> _views;

    private LakeQuery(DuckConnection connection, string sql, bool isQuery, IReadOnlyList<LakeTableName> tables, List<DeltaScan> scans, List<string> views)
    {
        _connection = connection;
        Sql = sql;
        IsQuery = isQuery;
        Tables = tables;
        _scans = scans;
        _views = views;
    }

    /// <summary>The SQL to run on the connection the query was prepared on.</summary>
    public string Sql { get; }

    /// <summary>True when <see cref="Sql"/> is one query that returns rows (always, unless the options were unsafe).</summary>
    public bool IsQuery { get; }

    /// <summary>The lake tables the query names, in the order first named.</summary>
    public IReadOnlyList<LakeTableName> Tables { get; }

    /// <summary>
    /// Checks <paramref name="text"/>, opens the lake tables it names under <paramref name="lake"/> and creates their views on
    /// <paramref name="connection"/> (a connection of <paramref name="engine"/>).
    /// </summary>
    /// <exception cref="LakehouseException">
    /// The text is empty, not valid SQL, more than one statement or not read-only (reason InvalidInput); a table it names does
    /// not exist (NotFound) or cannot be read (the table's own reason, the message naming the table).
    /// </exception>
    public static async Task<LakeQuery> PrepareAsync(DuckEngine engine, DuckConnection connection, ILakeStorage lake, string text, LakeSqlOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(lake);
        ArgumentNullException.ThrowIfNull(text);
        options ??= new LakeSqlOptions();
        if (text.Contains('\0', StringComparison.Ordinal)) throw Invalid("The SQL text contains a NUL character.");
        if (IsBlank(text)) throw Invalid("No SQL was given.");

        var parse = Parse(connection, text, cancellationToken);
        List<LakeTableName> tables;
        bool isQuery;
        if (parse.Statements is { } statements)
        {
            if (statements.Count != 1 && !options.Unsafe)
                throw Invalid($"The SQL text holds {statements.Count} statements; give exactly one query.");
            tables = TablesNamedIn(statements, refuseEngineFunctions: !options.Unsafe);
            isQuery = statements.Count == 1;
        }
        else if (parse.SyntaxError is not null || !options.Unsafe)
        {
            throw Invalid(parse.SyntaxError ?? NotOneQuery(connection, text, cancellationToken));
        }
        else
        {
            // Unsafe mode, not a query (COPY, CREATE …): DuckDB does not serialize those, so lake names are found in the text.
            tables = TablesNamedInText(text);
            isQuery = false;
        }

        var scans = new List<DeltaScan>();
        var views = new List<string>();
        try
        {
            foreach (var layer in tables.Select(t => t.Layer).Distinct(StringComparer.Ordinal))
                connection.Execute($"CREATE SCHEMA IF NOT EXISTS {SqlText.Identifier(layer)}", cancellationToken);
            foreach (var table in tables)
            {
                var scan = await OpenAsync(engine, connection, lake, table, options.LoggerFactory, cancellationToken).ConfigureAwait(false);
                scans.Add(scan);
                var view = $"{SqlText.Identifier(table.Layer)}.{SqlText.Identifier(table.SqlName)}";
                connection.Execute($"CREATE OR REPLACE VIEW {view} AS {scan.Sql}", cancellationToken);
                views.Add(view);
            }
        }
        catch
        {
            Drop(connection, views, scans);
            throw;
        }
        // One query runs inside query(): DuckDB parses the literal as exactly one SELECT, so nothing can be appended to it.
        var sql = isQuery ? $"SELECT * FROM query({SqlText.Literal(text)})" : text;
        return new LakeQuery(connection, sql, isQuery, tables, scans, views);
    }

    /// <summary>
    /// A SELECT over <paramref name="select"/> whose JSON is valid JSON: FLOAT and DOUBLE values that JSON cannot hold (NaN,
    /// ±infinity), at any depth of lists, structs and maps, become the strings "NaN", "Infinity" and "-Infinity", as Spark and
    /// Jackson write them; DuckDB would write them bare.
    /// </summary>
    public static string JsonSafe(DuckConnection connection, string select, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(select);
        return JsonSafeProjection.Select(connection, select, cancellationToken);
    }

    private static async Task<DeltaScan> OpenAsync(DuckEngine engine, DuckConnection connection, ILakeStorage lake, LakeTableName name, ILoggerFactory? loggerFactory,
        CancellationToken cancellationToken)
    {
        var table = DeltaTable.Open(lake.Scope(name.Folder), engine, loggerFactory);
        if (!await table.ExistsAsync(cancellationToken).ConfigureAwait(false))
            throw new LakehouseException(LakehouseErrorReason.NotFound, $"Table {name.Layer}.{name.Name} does not exist: no Delta table at {table.Location}.");
        try
        {
            var snapshot = name.Timestamp is { } time
                ? await table.GetSnapshotAsync(time, cancellationToken).ConfigureAwait(false)
                : await table.GetSnapshotAsync(name.Version, cancellationToken).ConfigureAwait(false);
            return await DeltaScan.CreateAsync(table, snapshot, connection, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (LakehouseException e)
        {
            throw new LakehouseException(e.Reason, $"Table {name} cannot be read: {e.Message}", e);
        }
    }

    /// <summary>The statements' trees, or why the text does not parse; neither when it parses but is not only queries.</summary>
    private sealed record ParseResult(List<JsonElement>? Statements, string? SyntaxError);

    /// <summary>DuckDB's own parse of the text (json_serialize_sql): the statements' trees, or why the text does not parse.</summary>
    private static ParseResult Parse(DuckConnection connection, string text, CancellationToken cancellationToken)
    {
        using var document = Serialize(connection, text, cancellationToken);
        var root = document.RootElement;
        switch (ErrorType(root))
        {
            case "parser":
                var message = root.TryGetProperty("error_message", out var m) ? m.GetString() : null;
                var position = root.TryGetProperty("position", out var p) ? $" (at character {p.GetString()})" : "";
                return new ParseResult(null, $"The SQL does not parse: {message}{position}.");
            case not null:
                return new ParseResult(null, null);
            default:
                break;
        }
        var statements = root.TryGetProperty("statements", out var s) && s.ValueKind == JsonValueKind.Array
            ? s.EnumerateArray().Select(e => e.Clone()).ToList()
            : [];
        return statements.Count == 0 ? new ParseResult(null, "No SQL statement was given.") : new ParseResult(statements, null);
    }

    private static JsonDocument Serialize(DuckConnection connection, string text, CancellationToken cancellationToken)
    {
        var json = (string?)connection.Scalar($"SELECT json_serialize_sql({SqlText.Literal(text)})", cancellationToken) ?? "{}";
        // DuckDB nests a few JSON levels per level of SQL: a sum of 30 terms is deeper than the reader's default of 64.
        return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 100_000 });
    }

    /// <summary>Null when the text was serialized; else DuckDB's error type: "parser" when it does not parse, another when a statement is not a query.</summary>
    private static string? ErrorType(JsonElement root) =>
        root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.True
            ? root.TryGetProperty("error_type", out var type) ? type.GetString() ?? "" : ""
            : null;

    /// <summary>
    /// Why a text that parses but is not one query is refused, naming the statement that is not a query and, when there are
    /// several, its place. The text is cut into the user's statements (<see cref="SqlStatements.Split"/>) and each is parsed
    /// alone; should a piece not parse, the cut went wrong, and no statement is named rather than the wrong one.
    /// </summary>
    private static string NotOneQuery(DuckConnection connection, string text, CancellationToken cancellationToken)
    {
        const string OneQuery = "Only one read-only query (SELECT, WITH … SELECT, VALUES, FROM …) can run here";
        const string UnsafeMode = "Statements that write files, attach databases, load extensions or change settings need the unsafe mode (lakehouse sql --unsafe).";
        var statements = SqlStatements.Split(text);
        int? refused = null;
        for (var i = 0; i < statements.Count; i++)
        {
            using var document = Serialize(connection, statements[i], cancellationToken);
            var type = ErrorType(document.RootElement);
            if (type == "parser") return $"{OneQuery}, and the SQL text is not one. {UnsafeMode}";
            if (type is not null) refused ??= i;
        }
        if (statements.Count > 1)
        {
            var named = refused is { } r && FirstKeyword(statements[r]) is { } keyword ? $", and statement {r + 1} is {Article(keyword)} {keyword} statement" : "";
            return $"{OneQuery}; the SQL text holds {statements.Count} statements{named}. " +
                   "Several statements, and statements other than queries, run only in the unsafe mode (lakehouse sql --unsafe).";
        }
        var only = statements.Count == 1 ? FirstKeyword(statements[0]) : null;
        // A PIVOT with an IN list is one query and runs; without one, DuckDB first creates a type of the values it finds. It may
        // stand in a subquery or a CTE of a SELECT: the statement DuckDB refused is then a SELECT, which it is not for the user.
        if (only is "PIVOT" or "SELECT" or "WITH" or "FROM" && PivotWord().IsMatch(StringLiterals().Replace(Comments().Replace(statements[0], " "), "''")))
            return $"{OneQuery}; this PIVOT has no IN list, so DuckDB would run it as two statements (the first creates a type of the values it finds). " +
                   "Name the values (PIVOT … ON column IN ('a', 'b') USING …), or run it in the unsafe mode (lakehouse sql --unsafe).";
        return $"{OneQuery}{(only is null ? "" : $"; this is {Article(only)} {only} statement")}. {UnsafeMode}";
    }

    private static string Article(string word) => "AEIOU".Contains(word[0], StringComparison.Ordinal) ? "an" : "a";

    /// <summary>
    /// Every base-table reference with a layer as its schema, anywhere in the trees (joins, subqueries, CTE bodies); in the same
    /// pass, with <paramref name="refuseEngineFunctions"/>, refuses a call of a table function that is not read-only
    /// (<see cref="ReadOnlyTableFunctions"/>).
    /// </summary>
    private static List<LakeTableName> TablesNamedIn(IEnumerable<JsonElement> statements, bool refuseEngineFunctions)
    {
        var result = new List<LakeTableName>();
        var stack = new Stack<JsonElement>(statements);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            if (node.ValueKind == JsonValueKind.Array)
            {
                foreach (var child in node.EnumerateArray().Reverse()) stack.Push(child);
                continue;
            }
            if (node.ValueKind != JsonValueKind.Object) continue;
            if (node.TryGetProperty("type", out var type) && type.ValueKind == JsonValueKind.String && type.ValueEquals("BASE_TABLE")
                && node.TryGetProperty("schema_name", out var schema) && node.TryGetProperty("table_name", out var table)
                && LakeTableName.TryParse(schema.GetString() ?? "", table.GetString() ?? "") is { } name)
            {
                if (node.TryGetProperty("catalog_name", out var catalog) && catalog.GetString() is { Length: > 0 } c)
                    throw Invalid($"'{c}.{name}' names a catalog; lake tables are layer.name.");
                if (!result.Contains(name)) result.Add(name);
            }
            if (refuseEngineFunctions && type.ValueKind == JsonValueKind.String && type.ValueEquals("TABLE_FUNCTION")
                && node.TryGetProperty("function", out var function) && function.ValueKind == JsonValueKind.Object
                && function.TryGetProperty("function_name", out var called) && called.GetString() is { } f
                && (!ReadOnlyTableFunctions.Contains(f) || function.TryGetProperty("schema", out var prefix) && prefix.GetString() is { Length: > 0 }))
                throw Invalid($"The table function {f}() is not available to a read-only query: it changes the engine's state, runs SQL given as text, " +
                              "or is not known to read only. The unsafe mode allows it (lakehouse sql --unsafe).");
            foreach (var property in node.EnumerateObject().Reverse()) stack.Push(property.Value);
        }
        return result;
    }

    /// <summary>
    /// The table functions a read-only query may call: readers (the engine's sandbox keeps them to the lake's files), metadata of
    /// files and of the engine, and generators. The others change the engine's state or run SQL given as text, which the check of
    /// the query's tree cannot see into: enable_logging writes log files wherever it is told (and ends the process when it may not),
    /// checkpoint, the profiling and parser switches, query and query_table, json_execute_serialized_sql, arrow_scan (reads
    /// memory at an address), and any a later DuckDB adds.
    /// </summary>
    private static readonly FrozenSet<string> ReadOnlyTableFunctions = FrozenSet.Create(StringComparer.OrdinalIgnoreCase,
        "read_csv", "read_csv_auto", "read_json", "read_json_auto", "read_json_objects", "read_json_objects_auto", "read_ndjson", "read_ndjson_auto",
        "read_ndjson_objects", "read_parquet", "parquet_scan", "read_text", "read_blob", "glob", "sniff_csv", "parquet_metadata", "parquet_file_metadata",
        "parquet_full_metadata", "parquet_kv_metadata", "parquet_schema", "parquet_bloom_probe", "range", "generate_series", "unnest", "repeat", "repeat_row",
        "json_each", "json_tree", "summary", "icu_calendar_names", "pg_timezone_names", "duckdb_columns", "duckdb_constraints", "duckdb_databases",
        "duckdb_dependencies", "duckdb_functions", "duckdb_indexes", "duckdb_keywords", "duckdb_schemas", "duckdb_sequences", "duckdb_settings",
        "duckdb_tables", "duckdb_types", "duckdb_views", "duckdb_memory", "duckdb_optimizers", "duckdb_temporary_files", "duckdb_variables",
        "pragma_table_info", "pragma_show", "pragma_version", "pragma_platform", "pragma_database_size", "pragma_storage_info", "pragma_metadata_info",
        "pragma_collations", "pragma_user_agent", "test_all_types", "test_vector_types");

    private static List<LakeTableName> TablesNamedInText(string text)
    {
        var result = new List<LakeTableName>();
        foreach (Match m in LakeNameInText().Matches(text))
        {
            var table = m.Groups["quoted"].Success ? m.Groups["quoted"].Value.Replace("\"\"", "\"", StringComparison.Ordinal) : m.Groups["plain"].Value;
            if (LakeTableName.TryParse(m.Groups["layer"].Value, table) is { } name && !result.Contains(name)) result.Add(name);
        }
        return result;
    }

    private static string? FirstKeyword(string text)
    {
        var m = FirstWord().Match(text);
        return m.Success ? m.Groups[1].Value.ToUpperInvariant() : null;
    }

    private static bool IsBlank(string text) => Comments().Replace(text, " ").Trim().Trim(';').Trim().Length == 0;

    private static LakehouseException Invalid(string message) => new(LakehouseErrorReason.InvalidInput, message);

    [GeneratedRegex(@"\b(?<layer>bronze|silver|gold)\s*\.\s*(?:""(?<quoted>(?:[^""]|"""")+)""|(?<plain>[A-Za-z0-9_]+))", RegexOptions.IgnoreCase)]
    private static partial Regex LakeNameInText();

    [GeneratedRegex(@"^(?:\s|--[^\n]*\n?|/\*.*?\*/|\()*([A-Za-z]+)", RegexOptions.Singleline)]
    private static partial Regex FirstWord();

    [GeneratedRegex(@"--[^\n]*|/\*.*?\*/", RegexOptions.Singleline)]
    private static partial Regex Comments();

    /// <summary>String literals and quoted identifiers, whose text is no keyword.</summary>
    [GeneratedRegex(@"'(?:[^']|'')*'|""(?:[^""]|"""")*""")]
    private static partial Regex StringLiterals();

    [GeneratedRegex(@"\bPIVOT\b", RegexOptions.IgnoreCase)]
    private static partial Regex PivotWord();

    private static void Drop(DuckConnection connection, List<string> views, List<DeltaScan> scans)
    {
        foreach (var view in views)
        {
            try
            {
                connection.Execute($"DROP VIEW IF EXISTS {view}");
            }
            catch (LakehouseException)
            {
                // Best effort: views die with the in-memory database.
            }
        }
        foreach (var scan in scans) scan.Dispose();
    }

    /// <inheritdoc />
    public void Dispose() => Drop(_connection, _views, _scans);
}
