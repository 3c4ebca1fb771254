using System.Text;
using Lakehouse.Engine;

namespace Lakehouse.Sql;

/// <summary>
/// Makes DuckDB's JSON output valid JSON: FLOAT and DOUBLE values that JSON cannot hold (NaN, ±infinity), which DuckDB writes
/// bare, become the strings "NaN", "Infinity" and "-Infinity" (as Spark and Jackson write them), at any depth of LIST, ARRAY,
/// STRUCT, MAP and UNION values. A JSON value whose text may hold such a number (DuckDB's JSON type accepts bare NaN) is written as
/// a JSON string of its text. Columns without floating-point or JSON values pass through untouched.
/// </summary>
internal static class JsonSafeProjection
{
    internal static string Select(DuckConnection connection, string select, CancellationToken cancellationToken)
    {
        var columns = new List<(string Name, string Type)>();
        using (var r = connection.Query($"DESCRIBE {select}", cancellationToken))
        {
            while (r.Read()) columns.Add((r.GetString(0), r.GetString(1)));
        }
        var parsed = columns.Select(c => (c.Name, Type: TypeParser.Parse(c.Type))).ToList();
        if (!parsed.Any(c => c.Type.HasFloat)) return select;
        var list = parsed.Select(c =>
        {
            var id = "__q." + SqlText.Identifier(c.Name);
            return c.Type.HasFloat ? $"{ToJson(c.Type, id, 0)} AS {SqlText.Identifier(c.Name)}" : id;
        });
        return $"SELECT {string.Join(", ", list)} FROM ({select}) AS __q";
    }

    /// <summary>An expression turning <paramref name="expr"/> of <paramref name="type"/> into JSON with non-finite numbers as strings.</summary>
    private static string ToJson(DuckType type, string expr, int depth)
    {
        if (!type.HasFloat) return $"to_json({expr})";
        var x = "x" + depth.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return type.Kind switch
        {
            DuckTypeKind.Float =>
                $"CASE WHEN {expr} IS NULL THEN NULL WHEN isnan({expr}) THEN '\"NaN\"'::JSON WHEN {expr} = 'infinity'::DOUBLE THEN '\"Infinity\"'::JSON " +
                $"WHEN {expr} = '-infinity'::DOUBLE THEN '\"-Infinity\"'::JSON ELSE to_json({expr}) END",
            DuckTypeKind.List => $"to_json(list_transform({expr}, lambda {x}: {ToJson(type.Children[0], x, depth + 1)}))",
            DuckTypeKind.Struct => $"CASE WHEN {expr} IS NULL THEN NULL ELSE json_object(" +
                string.Join(", ", type.FieldNames.Select((f, i) => $"{SqlText.Literal(f)}, {ToJson(type.Children[i], $"struct_extract({expr}, {SqlText.Literal(f)})", depth + 1)}")) + ") END",
            DuckTypeKind.Map => $"to_json(map_from_entries(list_transform(map_entries({expr}), lambda {x}: struct_pack(key := {x}.key, value := {ToJson(type.Children[1], x + ".value", depth + 1)}))))",
            DuckTypeKind.Union => $"CASE WHEN {expr} IS NULL THEN NULL " +
                string.Concat(type.FieldNames.Select((f, i) =>
                    $"WHEN union_tag({expr}) = {SqlText.Literal(f)} THEN json_object({SqlText.Literal(f)}, {ToJson(type.Children[i], $"union_extract({expr}, {SqlText.Literal(f)})", depth + 1)}) ")) + "END",
            DuckTypeKind.Json => $"CASE WHEN regexp_matches(CAST({expr} AS VARCHAR), '(?i)nan|inf') THEN to_json(CAST({expr} AS VARCHAR)) ELSE {expr} END",
            _ => $"to_json({expr})",
        };
    }

    internal enum DuckTypeKind
    {
        Other,
        Float,
        List,
        Struct,
        Map,
        Union,

        /// <summary>JSON text, which may hold bare non-finite numbers.</summary>
        Json,
    }

    /// <summary>A DuckDB type as DESCRIBE prints it, parsed only as deep as JSON output needs.</summary>
    internal sealed record DuckType(DuckTypeKind Kind, IReadOnlyList<DuckType> Children, IReadOnlyList<string> FieldNames)
    {
        internal bool HasFloat => Kind is DuckTypeKind.Float or DuckTypeKind.Json || Children.Any(c => c.HasFloat);
    }

    /// <summary>
    /// Parses type strings such as <c>DOUBLE</c>, <c>STRUCT("a b" FLOAT[], c VARCHAR)[]</c>, <c>MAP(VARCHAR, DOUBLE[3])</c>,
    /// <c>DECIMAL(10,2)</c>, <c>UNION(x DOUBLE, s VARCHAR)</c>, <c>JSON</c>. Anything unknown counts as "other" (passed through as DuckDB writes it).
    /// </summary>
    internal sealed class TypeParser
    {
        private readonly string _text;
        private int _pos;

        private TypeParser(string text) => _text = text;

        internal static DuckType Parse(string text)
        {
            var parser = new TypeParser(text);
            try
            {
                var type = parser.ParseType();
                return parser._pos == text.Length ? type : Other;
            }
            catch (FormatException)
            {
                return Other; // A type this parser does not know is written as DuckDB writes it.
            }
        }

        private static readonly DuckType Other = new(DuckTypeKind.Other, [], []);

        private DuckType ParseType()
        {
            SkipSpaces();
            var name = ReadWord().ToUpperInvariant();
            DuckType type;
            SkipSpaces();
            if (name is "STRUCT" or "UNION" && Peek('('))
            {
                _pos++;
                var names = new List<string>();
                var children = new List<DuckType>();
                while (true)
                {
                    SkipSpaces();
                    names.Add(ReadIdentifier());
                    children.Add(ParseType());
                    SkipSpaces();
                    if (Peek(','))
                    {
                        _pos++;
                        continue;
                    }
                    Expect(')');
                    break;
                }
                type = new DuckType(name == "UNION" ? DuckTypeKind.Union : DuckTypeKind.Struct, children, names);
            }
            else if (name == "MAP" && Peek('('))
            {
                _pos++;
                var key = ParseType();
                SkipSpaces();
                Expect(',');
                var value = ParseType();
                SkipSpaces();
                Expect(')');
                type = new DuckType(DuckTypeKind.Map, [key, value], []);
            }
            else
            {
                // Modifiers such as DECIMAL(10,2), ENUM('a', 'b') or UNION(...): skipped as a balanced group.
                if (Peek('(')) SkipGroup();
                while (Peek(' ') && NextIsWord())
                {
                    // Multi-word names: TIMESTAMP WITH TIME ZONE, DOUBLE PRECISION.
                    SkipSpaces();
                    ReadWord();
                }
                type = name is "DOUBLE" or "FLOAT" or "REAL" or "FLOAT4" or "FLOAT8" ? new DuckType(DuckTypeKind.Float, [], [])
                    : name == "JSON" ? new DuckType(DuckTypeKind.Json, [], []) : Other;
            }
            while (Peek('['))
            {
                while (_pos < _text.Length && _text[_pos] != ']') _pos++;
                _pos++;
                type = new DuckType(DuckTypeKind.List, [type], []);
            }
            return type;
        }

        private bool NextIsWord()
        {
            var i = _pos;
            while (i < _text.Length && _text[i] == ' ') i++;
            if (i >= _text.Length || !char.IsAsciiLetter(_text[i])) return false;
            var end = i;
            while (end < _text.Length && char.IsAsciiLetter(_text[end])) end++;
            return _text[i..end].ToUpperInvariant() is "WITH" or "TIME" or "ZONE" or "PRECISION" or "VARYING";
        }

        private string ReadWord()
        {
            var start = _pos;
            while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] == '_')) _pos++;
            return _text[start.._pos];
        }

        private string ReadIdentifier()
        {
            if (!Peek('"')) return ReadWord();
            var sb = new StringBuilder();
            _pos++;
            while (_pos < _text.Length)
            {
                if (_text[_pos] == '"')
                {
                    if (_pos + 1 < _text.Length && _text[_pos + 1] == '"')
                    {
                        sb.Append('"');
                        _pos += 2;
                        continue;
                    }
                    _pos++;
                    break;
                }
                sb.Append(_text[_pos++]);
            }
            return sb.ToString();
        }

        private void SkipGroup()
        {
            var depth = 0;
            var quote = '\0';
            for (; _pos < _text.Length; _pos++)
            {
                var c = _text[_pos];
                if (quote != '\0')
                {
                    if (c == quote) quote = '\0';
                    continue;
                }
                if (c is '\'' or '"') quote = c;
                else if (c == '(') depth++;
                else if (c == ')' && --depth == 0)
                {
                    _pos++;
                    return;
                }
            }
        }

        private void SkipSpaces()
        {
            while (_pos < _text.Length && _text[_pos] == ' ') _pos++;
        }

        private bool Peek(char c) => _pos < _text.Length && _text[_pos] == c;

        private void Expect(char c)
        {
            if (!Peek(c)) throw new FormatException($"Expected '{c}' at {_pos} in type '{_text}'.");
            _pos++;
        }
    }
}
