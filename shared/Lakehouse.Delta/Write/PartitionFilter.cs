using System.Text;
using System.Text.Json;
using Lakehouse.Delta.Schema;
using Lakehouse.Engine;

namespace Lakehouse.Delta.Write;

/// <summary>Evaluates a SQL predicate over partition values (replaceWhere, DELETE on partitions, OPTIMIZE filters, conflict checks).</summary>
internal static class PartitionFilter
{
    /// <summary>Functions a partition condition may not call: they read the engine's settings or the process's environment.</summary>
    private static readonly HashSet<string> Refused = new(StringComparer.OrdinalIgnoreCase)
    {
        "getenv", "current_setting", "current_database", "current_schema", "current_schemas", "current_user", "session_user", "user", "version",
    };

    /// <summary>
    /// Why <paramref name="predicate"/> is not one condition over columns and literals (null: it is). A predicate is pasted into SQL
    /// on the writer's engine, which reads any file: DuckDB's own parse of <c>SELECT 1 WHERE (predicate)</c> must be that one SELECT
    /// with nothing added (no UNION, GROUP BY, …), its parentheses must pair up within it, and its condition may hold no subquery (which could read files or settings and
    /// show them in an error message) and call no function that reads settings or the environment. Every column it names must be one
    /// of <paramref name="partitionColumns"/> (as DuckDB binds them, case-insensitively); the problem names the others (before, DuckDB's
    /// binder error was the message: 'Referenced column "v" not found in FROM clause! Candidate bindings: …').
    /// </summary>
    internal static string? Problem(DuckConnection connection, string predicate, IReadOnlyList<string> partitionColumns)
    {
        var json = (string?)connection.Scalar($"SELECT json_serialize_sql({SqlText.Literal($"SELECT 1 WHERE ({predicate})")})") ?? "{}";
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.True)
            return root.TryGetProperty("error_message", out var m) ? $"it does not parse as a condition ({m.GetString()})" : "it does not parse as a condition";
        if (!root.TryGetProperty("statements", out var statements) || statements.GetArrayLength() != 1) return "it is not one condition";
        // "a = 1) OR (true" parses above as the one condition "(a = 1) OR (true)", a wider one than written; as the element of a
        // list, a parenthesis that closes one it did not open (or a bracket) does not parse.
        var alone = (string?)connection.Scalar($"SELECT json_serialize_sql({SqlText.Literal($"SELECT [{predicate}]")})") ?? "{}";
        using (var list = JsonDocument.Parse(alone))
        {
            if (list.RootElement.TryGetProperty("error", out var unpaired) && unpaired.ValueKind == JsonValueKind.True)
                return "it is not one condition (its parentheses do not pair up: it closes one it did not open)";
        }

        var node = statements[0].GetProperty("node");
        if (!Is(node, "type", "SELECT_NODE") || !Empty(node, "modifiers") || !Empty(node, "group_expressions") || !Null(node, "having") || !Null(node, "qualify")
            || !Null(node, "sample") || !node.TryGetProperty("cte_map", out var ctes) || !Empty(ctes, "map") || !node.TryGetProperty("from_table", out var from) || !Is(from, "type", "EMPTY"))
            return "it is not one condition (the text closes the condition's parentheses and adds to the query)";
        var stack = new Stack<JsonElement>([node.GetProperty("where_clause")]);
        var named = new List<(long At, string Name)>();
        var lambdaParameters = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (stack.Count > 0)
        {
            var e = stack.Pop();
            if (e.ValueKind == JsonValueKind.Array)
            {
                foreach (var child in e.EnumerateArray()) stack.Push(child);
                continue;
            }
            if (e.ValueKind != JsonValueKind.Object) continue;
            if (Is(e, "class", "SUBQUERY")) return "it holds a subquery; a partition condition compares partition columns with values";
            if (Is(e, "class", "FUNCTION") && e.TryGetProperty("function_name", out var f) && Refused.Contains(f.GetString() ?? ""))
                return $"it calls {f.GetString()}(), which a partition condition may not";
            if (Is(e, "class", "COLUMN_REF") && e.TryGetProperty("column_names", out var names) && names.ValueKind == JsonValueKind.Array)
            {
                var at = e.TryGetProperty("query_location", out var l) && l.TryGetInt64(out var position) ? position : long.MaxValue;
                named.Add((at, string.Join('.', names.EnumerateArray().Select(n => n.GetString()))));
                continue;
            }
            if (Is(e, "class", "LAMBDA") && e.TryGetProperty("lhs", out var lhs))
            {
                // x -> … names its parameter x, which is not a column.
                lambdaParameters.UnionWith(ColumnRefs(lhs));
                if (e.TryGetProperty("expr", out var body)) stack.Push(body);
                continue;
            }
            foreach (var p in e.EnumerateObject()) stack.Push(p.Value);
        }
        // In the order the text names them.
        var others = named.OrderBy(n => n.At).Select(n => n.Name).Where(n => !lambdaParameters.Contains(n) && !partitionColumns.Contains(n, StringComparer.OrdinalIgnoreCase))
            .Distinct(StringComparer.Ordinal).ToList();
        if (others.Count > 0)
            return others.Count == 1 ? $"it names {others[0]}, which is not a partition column" : $"it names {string.Join(", ", others)}, which are not partition columns";
        return null;

        static IEnumerable<string> ColumnRefs(JsonElement e)
        {
            if (e.ValueKind == JsonValueKind.Array) return e.EnumerateArray().SelectMany(ColumnRefs);
            if (e.ValueKind != JsonValueKind.Object) return [];
            if (Is(e, "class", "COLUMN_REF") && e.TryGetProperty("column_names", out var n) && n.ValueKind == JsonValueKind.Array)
                return [string.Join('.', n.EnumerateArray().Select(x => x.GetString()))];
            return e.EnumerateObject().SelectMany(p => ColumnRefs(p.Value));
        }

        static bool Is(JsonElement e, string name, string value) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && v.ValueEquals(value);
        static bool Empty(JsonElement e, string name) => !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null || (v.ValueKind == JsonValueKind.Array && v.GetArrayLength() == 0);
        static bool Null(JsonElement e, string name) => !e.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null;
    }

    /// <summary>
    /// The indexes of <paramref name="tuples"/> for which <paramref name="predicate"/> is true, with the partition columns
    /// typed as in the schema. A predicate that names anything but partition columns fails with an Engine error.
    /// </summary>
    internal static HashSet<int> Evaluate(DuckConnection connection, StructType schema, IReadOnlyList<string> partitionColumns,
        IReadOnlyList<IReadOnlyDictionary<string, string?>> tuples, string predicate)
    {
        var matches = new HashSet<int>();
        if (tuples.Count == 0) return matches;
        var table = "__lakehouse_pf_" + Guid.NewGuid().ToString("N")[..16];
        var columns = new StringBuilder("__lakehouse_i BIGINT");
        for (var c = 0; c < partitionColumns.Count; c++) columns.Append(", __lakehouse_v").Append(c).Append(" VARCHAR");
        connection.Execute($"CREATE TEMP TABLE {SqlText.Identifier(table)}({columns})");
        try
        {
            using (var appender = connection.CreateAppender(table))
            {
                for (var i = 0; i < tuples.Count; i++)
                {
                    appender.Append((long)i);
                    foreach (var c in partitionColumns) appender.Append(PartitionEncoding.Lookup(tuples[i], c));
                    appender.EndRow();
                }
                appender.Close();
            }
            var typed = new StringBuilder("SELECT __lakehouse_i");
            for (var c = 0; c < partitionColumns.Count; c++)
            {
                var field = schema.Find(partitionColumns[c])!;
                typed.Append(", ").Append(PartitionEncoding.ParseSql("__lakehouse_v" + c, field.Type)).Append(" AS ").Append(SqlText.Identifier(field.Name));
            }
            using var r = connection.Query($"SELECT __lakehouse_i FROM ({typed} FROM {SqlText.Identifier(table)}) AS __p WHERE ({predicate})");
            while (r.Read()) matches.Add((int)r.GetInt64(0));
        }
        finally
        {
            connection.Execute($"DROP TABLE IF EXISTS {SqlText.Identifier(table)}");
        }
        return matches;
    }
}
