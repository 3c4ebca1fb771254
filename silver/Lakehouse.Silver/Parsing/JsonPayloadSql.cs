using System.Globalization;
using System.Text;
using Lakehouse.Datasets;
using Lakehouse.Engine;

namespace Lakehouse.Silver.Parsing;

/// <summary>
/// Parses JSON payloads with the dataset's schema in DuckDB: one pass of yyjson per payload for validity, one for the JSON types of
/// every column's path, one for their values as text, one to count the keys (NaN, infinities and trailing commas, which yyjson
/// takes, are malformed: found by a scan of the text, checked exactly on the few it matches); each value is then cast from its text to its
/// column's type. Numbers are taken as sent: a string holding a number is a wrong type, never converted; integers accept whole
/// numbers exactly as written (200.0, 2e2, 9007199254740993.0), numbers accept no NaN or infinity; timestamps are ISO-8601 strings, with an offset converted to UTC and without
/// one taken as UTC (the engine's time zone).
/// </summary>
internal static class JsonPayloadSql
{
    /// <summary>
    /// A SELECT over <paramref name="source"/> (a column <c>payload</c> BLOB plus any others, passed through) that adds the
    /// definition's columns, typed, and <c>parse_violations</c>: a list of {rule, message} for the payload's problems (empty when it
    /// parsed).
    /// </summary>
    /// <remarks>
    /// With <paramref name="fastFunction"/> (<see cref="JsonFastPath.FunctionName"/>), the payloads it takes are read from its record
    /// and only the others through DuckDB's JSON functions: every branch below is guarded so that a row takes one path.
    /// </remarks>
    internal static string Select(DatasetDefinition definition, string source, string? fastFunction = null)
    {
        var columns = definition.Columns;
        var paths = "[" + string.Join(", ", columns.Select(c => SqlText.Literal(JsonPath(c.Path ?? c.Name)))) + "]";
        // One lookup of every path per payload for the JSON types, one for the values as text (an object or array as its JSON).
        // The keys of the objects the paths go through (attrs of attrs.release), looked up in the same parse as the payload's own.
        var objects = ObjectsAlongPaths(definition);
        var keys = objects.Count == 0 ? "json_keys(txt)" : "json_keys(txt, ['$', " + string.Join(", ", objects.Select(o => SqlText.Literal(JsonPath(o)))) + "])";
        var fast = fastFunction is null ? JsonFastPath.NoRecord(definition) : $"{SqlText.Identifier(fastFunction)}(payload)";
        var looked = new StringBuilder("SELECT *, CASE WHEN __rule IS NULL AND __fast IS NULL THEN json_type(txt, ").Append(paths).Append(") END AS __types")
            .Append(", CASE WHEN __rule IS NULL AND __fast IS NULL THEN json_extract_string(txt, ").Append(paths).Append(") END AS __texts")
            .Append(", CASE WHEN __rule IS NULL AND __fast IS NULL THEN ").Append(keys).Append(" END AS ").Append(objects.Count == 0 ? "__keys" : "__objects")
            .Append(" FROM (SELECT *, CASE WHEN __fast IS NULL THEN ").Append(ParseRule()).Append(" END AS __rule FROM (")
            // The payload as text (null when it is not UTF-8), for the payloads the SQL path reads only.
            .Append("SELECT *, CASE WHEN __fast IS NULL THEN try(decode(payload)) END AS txt FROM (SELECT *, ").Append(fast)
            .Append(" AS __fast FROM ").Append(source).Append(")))");
        if (objects.Count > 0) looked.Insert(0, "SELECT * EXCLUDE (__objects), __objects[1] AS __keys, __objects[2:] AS __nested FROM (").Append(')');

        // A duplicate key: json_keys lists every key as written, the paths found count each top-level schema key once. Any key written
        // twice needs two more keys than schema keys found, or a schema key among the keys as written more often than found. Only then
        // is the exact, costlier count of distinct keys made: made for every row, it was a fifth of the parse of payloads that carry
        // one key the schema does not read (as the bench's events do).
        var top = columns.Select((c, i) => (c, i)).Where(x => x.c.Path is null).ToList();
        var present = top.Count == 0 ? "0" : string.Join(" + ", top.Select(x => $"CAST(__types[{x.i + 1}] IS NOT NULL AS INTEGER)"));
        var written = top.Count == 0 ? "0" : $"len(list_filter(__keys, __k -> __k IN ({string.Join(", ", top.Select(x => SqlText.Literal(x.c.Name)))})))";
        var split = new StringBuilder("SELECT * EXCLUDE (__rule, __keys, __types, __texts").Append(objects.Count == 0 ? "" : ", __nested")
            .Append("), coalesce(__rule, CASE WHEN __fast IS NOT NULL THEN NULL WHEN (len(__keys) - (")
            .Append(present).Append(") > 1 OR ").Append(written).Append(" <> ").Append(present).Append(')')
            .Append($" AND list_unique(__keys) <> len(__keys) THEN '{SilverRules.DuplicateKey}'");
        // A nested object along a path, as the payload: a key written twice there makes the value read ambiguous just the same.
        for (var i = 1; i <= objects.Count; i++)
            split.Append(CultureInfo.InvariantCulture, $" WHEN len(__nested[{i}]) > 1 AND list_unique(__nested[{i}]) <> len(__nested[{i}]) THEN '{SilverRules.DuplicateKey}'");
        split.Append(" END) AS parse_rule");
        for (var i = 0; i < columns.Count; i++)
            split.Append(", __types[").Append(i + 1).Append("] AS ").Append(Kind(columns[i])).Append(", __texts[").Append(i + 1).Append("] AS ").Append(Text(columns[i]));
        split.Append(" FROM (").Append(looked).Append(')');

        var typed = new StringBuilder("SELECT *");
        for (var i = 0; i < columns.Count; i++)
            typed.Append(", CASE WHEN __fast IS NOT NULL THEN ").Append(JsonFastPath.Value(definition, i, "__fast")).Append(" ELSE ").Append(Value(columns[i]))
                .Append(" END AS ").Append(SqlText.Identifier(columns[i].Name));
        typed.Append(" FROM (").Append(split).Append(')');

        var outer = new StringBuilder("SELECT * EXCLUDE (txt, parse_rule, __fast");
        foreach (var c in columns) outer.Append(", ").Append(Kind(c)).Append(", ").Append(Text(c));
        outer.Append(')');
        // The list is built only for rows with a problem (CASE evaluates its branches for the rows that take them): most rows are clean.
        var checks = new[] { ParseViolation() }.Concat(columns.Select(TypeViolation)).ToList();
        outer.Append(", CASE WHEN __fast IS NULL AND (").Append(string.Join(" OR ", checks.Select(c => $"({c}) IS NOT NULL"))).Append(')')
            .Append(" THEN list_filter([").Append(string.Join(", ", checks)).Append("], __x -> __x IS NOT NULL) ELSE CAST([] AS STRUCT(rule VARCHAR, message VARCHAR)[]) END AS parse_violations");
        outer.Append(" FROM (").Append(typed).Append(')');
        return outer.ToString();
    }

    private static string ParseRule() =>
        $"CASE WHEN txt IS NULL THEN '{SilverRules.InvalidUtf8}' " +
        $"WHEN octet_length(payload) > {SilverRules.MaxPayloadBytes} THEN '{SilverRules.TooLarge}' " +
        $"WHEN NOT json_valid(txt) THEN '{SilverRules.MalformedJson}' " +
        $"WHEN ({string.Join(" OR ", MaybeNotJson.Select(p => $"regexp_matches(txt, '{p}')"))}) AND regexp_matches(regexp_replace(txt, '{JsonString}', '\"\"', 'g'), '{NotJson}') THEN '{SilverRules.MalformedJson}' " +
        $"WHEN left(ltrim(txt, ' ' || chr(9) || chr(10) || chr(13)), 1) <> '{{' THEN '{SilverRules.NotAnObject}' END";

    /// <summary>
    /// What DuckDB's JSON reader (yyjson) takes beyond RFC 8259, as a cheap prefilter over the text: a NaN or infinity literal
    /// (<c>NaN</c>, <c>nan</c>, <c>-Infinity</c>, <c>inf</c>, any case) where a value starts, after ':', ',' or '[' or as the whole payload, or a comma
    /// before <c>}</c> or <c>]</c>. Three patterns, each starting with its one character, which RE2 finds by memchr: one pattern
    /// starting with a class of them scanned every byte and cost four times as much (0.8 against 0.2 s per 1M web-log payloads,
    /// json_valid's 0.2). They also match inside strings (<c>"x: NaN"</c>, <c>",}"</c>), so a payload they match is checked
    /// exactly by <see cref="NotJson"/> with its strings emptied; every other payload pays these scans, not a parse.
    /// </summary>
    private static readonly string[] MaybeNotJson =
    [
        @":[ \t\n\r]*-?(?:[Nn][Aa][Nn]|[Ii][Nn][Ff])",
        @",[ \t\n\r]*(?:-?(?:[Nn][Aa][Nn]|[Ii][Nn][Ff])|[}\]])",
        @"\[[ \t\n\r]*-?(?:[Nn][Aa][Nn]|[Ii][Nn][Ff])",
        @"^[ \t\n\r]*-?(?:[Nn][Aa][Nn]|[Ii][Nn][Ff])",
    ];

    /// <summary>A JSON string, quotes and escapes included (the text is valid JSON to DuckDB, so every string is closed).</summary>
    private const string JsonString = @"""(?:[^""\\]|\\[\s\S])*""";

    /// <summary>
    /// A NaN or infinity literal or a trailing comma in a payload whose strings are emptied: outside strings the only letters JSON has
    /// are those of true, false, null and exponents, none of which holds "nan" or "inf".
    /// </summary>
    private const string NotJson = @"(?i)nan|inf|,[ \t\n\r]*[}\]]";

    /// <summary>The payload-level problem as a violation; its message is refined in C# for the few rows that have one (see <see cref="PayloadDiagnostics"/>).</summary>
    private static string ParseViolation() =>
        "CASE WHEN parse_rule IS NOT NULL THEN {'rule': parse_rule, 'message': CASE parse_rule " +
        $"WHEN '{SilverRules.TooLarge}' THEN 'the payload has ' || octet_length(payload) || ' bytes, more than the limit of {SilverRules.MaxPayloadBytes} (1 MiB)' " +
        $"WHEN '{SilverRules.NotAnObject}' THEN 'the payload is JSON but not an object: ' || left(txt, 60) " +
        "ELSE parse_rule END} END";

    /// <summary>The column's value as text: a string unquoted and unescaped, a number as written, an object or array as its JSON.</summary>
    private static string Text(DatasetColumn c) => SqlText.Identifier("__s_" + c.Name);

    private static string Kind(DatasetColumn c) => SqlText.Identifier("__t_" + c.Name);

    /// <summary>The column's typed value from its JSON type and text; NULL when it is missing, JSON null, or does not fit.</summary>
    private static string Value(DatasetColumn c)
    {
        var s = Text(c);
        var t = Kind(c);
        return c.Type switch
        {
            DatasetColumnType.String => $"CASE WHEN {t} = 'VARCHAR' THEN {s} END",
            DatasetColumnType.Integer => $"CASE WHEN {t} IN ('BIGINT', 'UBIGINT') THEN TRY_CAST({s} AS BIGINT) WHEN {t} = 'DOUBLE' THEN ({WholeNumber(c)}).value END",
            DatasetColumnType.Number => $"CASE WHEN {t} IN ('BIGINT', 'UBIGINT', 'DOUBLE') AND isfinite(TRY_CAST({s} AS DOUBLE)) THEN TRY_CAST({s} AS DOUBLE) END",
            DatasetColumnType.Boolean => $"CASE WHEN {t} = 'BOOLEAN' THEN TRY_CAST({s} AS BOOLEAN) END",
            DatasetColumnType.Timestamp =>
                $"CASE WHEN {t} = 'VARCHAR' AND regexp_full_match({s}, '{IsoTimestamp}') AND isfinite(TRY_CAST(upper({s}) AS TIMESTAMPTZ)) THEN TRY_CAST(upper({s}) AS TIMESTAMPTZ) END",
            DatasetColumnType.Object => $"CASE WHEN {t} = 'OBJECT' THEN {s} END",
            DatasetColumnType.StringList => $"CASE WHEN {t} = 'ARRAY' AND {OnlyStrings(s)} THEN TRY_CAST(CAST({s} AS JSON) AS VARCHAR[]) END",
            _ => throw new ArgumentOutOfRangeException(nameof(c), c.Type, "Unknown column type."),
        };
    }

    /// <summary>A {rule, message} when the field's JSON type does not fit the column, else NULL (the typed value is the column itself).</summary>
    private static string TypeViolation(DatasetColumn c)
    {
        var s = Text(c);
        var t = Kind(c);
        var value = SqlText.Identifier(c.Name);
        var name = SqlText.Literal(c.Path ?? c.Name);
        var got = $"CASE {t} WHEN 'VARCHAR' THEN 'a string' WHEN 'BOOLEAN' THEN 'a boolean' WHEN 'OBJECT' THEN 'an object' WHEN 'ARRAY' THEN 'an array' ELSE 'a number' END";
        // The value as written (a string in its quotes), read again only for the rows with a problem; a number with a fraction or an
        // exponent from the text, since yyjson's double may print another number (9007199254740993.0 as 9007199254740992.0).
        var sample = $"left(CASE WHEN {t} = 'DOUBLE' THEN {Written(c)} ELSE CAST(json_extract(txt, {SqlText.Literal(JsonPath(c.Path ?? c.Name))}) AS VARCHAR) END, 60)";
        string Wrong(string expected) => $"{{'rule': '{SilverRules.WrongType}', 'message': {name} || ': expected {expected}, got ' || {got} || ' (' || {sample} || ')'}}";
        string Range(string why) => $"{{'rule': '{SilverRules.OutOfRange}', 'message': {name} || ': ' || {sample} || ' {why}'}}";
        var numeric = $"{t} IN ('BIGINT', 'UBIGINT', 'DOUBLE')";
        var condition = c.Type switch
        {
            DatasetColumnType.String => $"WHEN {t} NOT IN ('VARCHAR', 'NULL') THEN {Wrong("a string")}",
            DatasetColumnType.Integer =>
                $"WHEN {t} NOT IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'NULL') THEN {Wrong("an integer")} " +
                $"WHEN {t} = 'DOUBLE' AND NOT ({WholeNumber(c)}).whole THEN {Wrong("an integer")} " +
                $"WHEN {numeric} AND {value} IS NULL THEN {Range("does not fit a 64-bit integer")}",
            DatasetColumnType.Number =>
                $"WHEN {t} NOT IN ('BIGINT', 'UBIGINT', 'DOUBLE', 'NULL') THEN {Wrong("a number")} " +
                $"WHEN {numeric} AND {value} IS NULL THEN {Range("is not a finite number")}",
            DatasetColumnType.Boolean => $"WHEN {t} NOT IN ('BOOLEAN', 'NULL') THEN {Wrong("true or false")}",
            DatasetColumnType.Timestamp =>
                $"WHEN {t} NOT IN ('VARCHAR', 'NULL') THEN {Wrong("an ISO-8601 timestamp string")} " +
                $"WHEN {t} = 'VARCHAR' AND {value} IS NULL THEN {{'rule': '{SilverRules.WrongType}', 'message': {name} || ': ' || {sample} || ' is not an ISO-8601 timestamp (YYYY-MM-DDThh:mm:ss, optional fraction, Z or ±hh:mm)'}}",
            DatasetColumnType.Object => $"WHEN {t} NOT IN ('OBJECT', 'NULL') THEN {Wrong("an object")}",
            DatasetColumnType.StringList =>
                $"WHEN {t} NOT IN ('ARRAY', 'NULL') THEN {Wrong("an array of strings")} " +
                $"WHEN {t} = 'ARRAY' AND NOT {OnlyStrings(s)} THEN {{'rule': '{SilverRules.WrongType}', 'message': {name} || ': expected an array of strings, got one holding other values (' || {sample} || ')'}}",
            _ => throw new ArgumentOutOfRangeException(nameof(c), c.Type, "Unknown column type."),
        };
        return "CASE " + condition + " END";
    }

    /// <summary>
    /// The column's number as written in the payload, for a JSON number yyjson typed DOUBLE (a fraction, an exponent, or an integer
    /// beyond 64 bits): yyjson keeps only the double, which rounds 9007199254740993.0 to …992 and 200.00000000000001 to 200. The
    /// payload is read again with every number outside its strings quoted, so the path's text is the number's text. Only the rows
    /// that take it pay for it (CASE evaluates a branch for the rows that take it).
    /// </summary>
    private static string Written(DatasetColumn c) =>
        $"json_extract_string(regexp_replace(txt, '{StringOrNumber}', '{QuoteNumber}', 'g'), {SqlText.Literal(JsonPath(c.Path ?? c.Name))})";

    /// <summary>A JSON string (its content captured) or a number (captured): <see cref="QuoteNumber"/> gives the string back and quotes the number.</summary>
    private const string StringOrNumber = @"""((?:[^""\\]|\\[\s\S])*)""|(-?[0-9][0-9.eE+-]*)";

    private const string QuoteNumber = @"""\1\2""";

    /// <summary>A JSON number's parts: sign, whole part, fraction, exponent (each '' when absent).</summary>
    private const string JsonNumber = @"^(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$";

    /// <summary>
    /// A JSON number of type DOUBLE as an integer, exactly, from its written digits (<see cref="Written"/>): a struct of <c>whole</c>
    /// (true when the number is a whole number: 200.0, 2e2, 1.5e1, -0.0; false for 200.00000000000001 or 1.5) and <c>value</c> (the
    /// BIGINT, null when it is not whole or does not fit 64 bits). The significant digits shifted by the exponent, less the fraction's
    /// length, plus the trailing zeros cut: a whole number has a shift of 0 or more.
    /// </summary>
    private static string WholeNumber(DatasetColumn c)
    {
        const string m = "__m";
        var digits = $"ltrim({m}.whole_part || {m}.fraction, '0')";
        var significant = $"rtrim({digits}, '0')";
        // An exponent of more than 6 digits is any large one (the number is 0, a fraction or out of range whatever its size).
        var exponent = $"CASE WHEN length({m}.exponent) > 7 THEN CASE WHEN {m}.exponent LIKE '-%' THEN -10000000 ELSE 10000000 END " +
                       $"ELSE CAST(coalesce(nullif({m}.exponent, ''), '0') AS BIGINT) END";
        var shift = $"({exponent} - length({m}.fraction) + length({digits}) - length({significant}))";
        var value = $"CASE WHEN {significant} = '' THEN 0 WHEN {shift} < 0 OR length({significant}) + {shift} > 19 THEN NULL " +
                    $"ELSE TRY_CAST({m}.sign || {significant} || repeat('0', CAST({shift} AS INTEGER)) AS BIGINT) END";
        return $"list_transform([regexp_extract({Written(c)}, '{JsonNumber}', ['sign', 'whole_part', 'fraction', 'exponent'])], " +
               $"{m} -> {{'value': {value}, 'whole': {significant} = '' OR {shift} >= 0}})[1]";
    }

    /// <summary>
    /// What a timestamp string must look like before DuckDB's cast reads it: an ISO-8601 date, time to the second (fraction
    /// optional) and UTC offset (Z, z, or ±hh[:mm] with hours up to 23); DuckDB's cast alone also took "epoch" and offsets such as
    /// +99:00, moving the time by days. A date alone is midnight UTC; no offset is UTC (the engine's time zone).
    /// </summary>
    private const string IsoTimestamp = @"\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-](?:[01]\d|2[0-3])(?::?[0-5]\d)?)?)?";

    /// <summary>An array's elements are all strings (or null): numbers, booleans and objects are not turned into text.</summary>
    private static string OnlyStrings(string arrayText) =>
        $"len(list_filter(json_type({arrayText}, '$[*]'), __e -> __e NOT IN ('VARCHAR', 'NULL'))) = 0";

    /// <summary>
    /// The objects the definition's paths go through below the payload, as dotted paths, each once: <c>attrs</c> for
    /// <c>attrs.release</c>; <c>a</c> and <c>a.b</c> for <c>a.b.c</c>. A duplicate key in one of them is a duplicate_key, as in the payload.
    /// </summary>
    internal static IReadOnlyList<string> ObjectsAlongPaths(DatasetDefinition definition)
    {
        var objects = new List<string>();
        foreach (var path in definition.Columns.Select(c => c.Path).OfType<string>())
        {
            for (var dot = path.IndexOf('.', StringComparison.Ordinal); dot > 0; dot = path.IndexOf('.', dot + 1))
            {
                if (!objects.Contains(path[..dot], StringComparer.Ordinal)) objects.Add(path[..dot]);
            }
        }
        return objects;
    }

    /// <summary>A JSONPath for a dotted path: <c>attrs.browser</c> → <c>$."attrs"."browser"</c>.</summary>
    private static string JsonPath(string dotted) =>
        "$" + string.Concat(dotted.Split('.').Select(s => "." + "\"" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\""));

}
