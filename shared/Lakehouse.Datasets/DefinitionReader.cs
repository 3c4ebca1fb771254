using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lakehouse.Core;

namespace Lakehouse.Datasets;

/// <summary>
/// Reads and validates one definition file. Every problem is refused with a message naming the file and the field
/// (<c>columns[2].type</c>) and saying what is expected; nothing is guessed or defaulted silently beyond the documented defaults.
/// </summary>
internal sealed partial class DefinitionReader
{
    internal const int MaxNameLength = 63;

    /// <summary>How deep a definition may nest objects and arrays (a definition needs a few levels; deeper is refused, not parsed).</summary>
    internal const int MaxDepth = 32;
    private const int MaxIdColumns = 8;

    private static readonly string[] RootFields = ["name", "description", "payload", "parse", "columns", "event_time", "id", "expectations", "gold_outputs", "quality_gates"];
    private static readonly string[] GateFields = ["max_quarantine_share", "min_rows", "rule_jump"];
    private static readonly string[] RuleJumpFields = ["factor", "history_runs", "min_failures"];
    private static readonly string[] ParseFields = ["format", "pattern", "timestamp_format"];
    private static readonly string[] ColumnFields = ["name", "type", "nullable", "path", "description", "preprocess", "converts"];

    private static readonly (ColumnPreprocess Rule, string Name)[] PreprocessNames =
        [(ColumnPreprocess.Url, "url"), (ColumnPreprocess.UserAgent, "user_agent"), (ColumnPreprocess.Country, "country"), (ColumnPreprocess.Unit, "unit")];
    private static readonly string[] ExpectationCommonFields = ["name", "column", "check", "action", "enabled", "description"];

    private static readonly Dictionary<ExpectationCheck, string[]> CheckFields = new()
    {
        [ExpectationCheck.NotNull] = [],
        [ExpectationCheck.Between] = ["min", "max", "min_exclusive", "max_exclusive"],
        [ExpectationCheck.In] = ["values"],
        [ExpectationCheck.Matches] = ["pattern"],
        [ExpectationCheck.MaxLength] = ["max"],
        [ExpectationCheck.WithinIngestWindow] = ["max_age", "max_future"],
    };

    private readonly string _source;

    private DefinitionReader(string source) => _source = source;

    internal static DatasetDefinition Read(ReadOnlySpan<byte> utf8Json, string source, bool isBuiltIn)
    {
        var reader = new DefinitionReader(source);
        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(utf8Json);
        }
        catch (DecoderFallbackException)
        {
            throw reader.Refuse(null, "the file is not UTF-8 text");
        }
        if (text.Length > 0 && text[0] == '\uFEFF') text = text[1..];
        // An empty file (one saved before it was written, or truncated) is not "invalid JSON at line 1, column 1".
        if (string.IsNullOrWhiteSpace(text))
            throw reader.Refuse(null, "the file is empty; a definition is one JSON object (see 'lakehouse dataset show weblogs')");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = MaxDepth });
        }
        catch (JsonException e)
        {
            // .NET says "not valid" for JSON that is only nested too deeply: say that, and where, in the definition's terms.
            if (TooDeep(text) is { } deep)
                throw reader.Refuse(deep.Field, $"objects and arrays are nested more than {MaxDepth} levels deep at line {deep.Line}, column {deep.Column}; a definition nests a few levels (see 'lakehouse dataset show weblogs')");
            var where = e.LineNumber is { } line ? $" at line {line + 1}, column {(e.BytePositionInLine ?? 0) + 1}" : "";
            throw reader.Refuse(null, $"the file is not valid JSON{where}");
        }
        using (document)
        {
            return reader.ReadRoot(document.RootElement, isBuiltIn, text);
        }
    }

    /// <summary>
    /// Where <paramref name="text"/> first opens an object or array deeper than <see cref="MaxDepth"/>, if it does before any
    /// syntax error: 1-based line and column, and the top-level field it is in (null at the top level).
    /// </summary>
    private static (long Line, long Column, string? Field)? TooDeep(string text)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        var reader = new Utf8JsonReader(utf8, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, MaxDepth = MaxDepth + 2 });
        string? field = null;
        try
        {
            while (reader.Read())
            {
                if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName) field = reader.GetString();
                if ((reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray) && reader.CurrentDepth >= MaxDepth)
                {
                    var before = utf8.AsSpan(0, (int)reader.TokenStartIndex);
                    var lineStart = before.LastIndexOf((byte)'\n') + 1;
                    return (before.Count((byte)'\n') + 1, Encoding.UTF8.GetCharCount(before[lineStart..]) + 1, field);
                }
            }
        }
        catch (JsonException)
        {
            // A syntax error comes first: the file is not valid JSON.
        }
        return null;
    }

    private DatasetDefinition ReadRoot(JsonElement root, bool isBuiltIn, string json)
    {
        if (root.ValueKind != JsonValueKind.Object) throw Refuse(null, $"a definition is a JSON object, not {KindOf(root)}");
        CheckFieldsOf(root, "", RootFields);

        var name = RequiredString(root, "", "name");
        if (!IsDatasetName(name))
            throw Refuse("name", $"'{name}' is not a dataset name: 1 to {MaxNameLength} lower-case letters, digits and '_', starting with a letter");
        var description = OptionalString(root, "", "description");

        var payloadText = RequiredString(root, "", "payload");
        var payload = payloadText switch
        {
            "json" => DatasetPayloadKind.Json,
            "text" => DatasetPayloadKind.Text,
            _ => throw Refuse("payload", $"'{payloadText}' is not a payload kind; use json or text"),
        };

        var columns = ReadColumns(root, payload);
        var textFormat = ReadParse(root, payload, columns);

        var eventTime = RequiredString(root, "", "event_time");
        var eventColumn = columns.FirstOrDefault(c => Same(c.Name, eventTime))
            ?? throw Refuse("event_time", $"'{eventTime}' is not one of the columns ({string.Join(", ", columns.Select(c => c.Name))})");
        if (eventColumn.Type != DatasetColumnType.Timestamp)
            throw Refuse("event_time", $"column '{eventColumn.Name}' is {eventColumn.TypeName}; the event time must be a timestamp column");

        var id = ReadId(root, columns);
        var expectations = ReadExpectations(root, columns);
        CheckNotNullableRuleNames(columns, id, expectations);
        var gold = ReadGoldOutputs(root);
        var gates = ReadQualityGates(root);
        return new DatasetDefinition(name, description, payload, textFormat, columns, eventColumn.Name, id, expectations, gold,
            isBuiltIn ? "built-in" : _source, isBuiltIn, json)
        {
            QualityGates = gates,
        };
    }

    private List<DatasetColumn> ReadColumns(JsonElement root, DatasetPayloadKind payload)
    {
        var array = RequiredArray(root, "", "columns");
        if (array.GetArrayLength() == 0) throw Refuse("columns", "a dataset has at least one column");
        // Silver checks every column in one expression; from about 990 columns DuckDB refuses it as deeper than its limit.
        if (array.GetArrayLength() > MaxColumns) throw Refuse("columns", $"a dataset has at most {MaxColumns} columns, not {array.GetArrayLength()}");
        var columns = new List<DatasetColumn>();
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var at = $"columns[{i++}]";
            if (item.ValueKind != JsonValueKind.Object) throw Refuse(at, $"a column is an object with name and type, not {KindOf(item)}");
            CheckFieldsOf(item, at, ColumnFields);
            var name = RequiredString(item, at, "name");
            if (!IsColumnName(name))
                throw Refuse(at + ".name", $"'{name}' is not a column name: 1 to 128 lower-case letters, digits and '_', starting with a letter or '_'");
            if (columns.Any(c => Same(c.Name, name))) throw Refuse(at + ".name", $"column '{name}' is defined twice");
            var typeText = RequiredString(item, at, "type");
            if (!DatasetColumnTypes.TryParse(typeText, out var type))
                throw Refuse(at + ".type", $"'{typeText}' is not a column type; use {Alternatives(DatasetColumnTypes.Names)}");
            var nullable = OptionalBool(item, at, "nullable") ?? true;
            var path = OptionalString(item, at, "path");
            if (path is not null)
            {
                if (payload != DatasetPayloadKind.Json) throw Refuse(at + ".path", "a path selects a value inside a JSON event; text datasets take columns from their parse format");
                if (!IsJsonPath(path)) throw Refuse(at + ".path", $"'{path}' is not a path: field names separated by '.', none of them '*' alone, such as attrs.browser");
                RefuseNul(path, at + ".path", "the path");
            }
            var preprocess = ColumnPreprocess.None;
            if (OptionalString(item, at, "preprocess") is { } rule)
            {
                if (PreprocessNames.FirstOrDefault(p => p.Name == rule) is not { Name: not null } known)
                    throw Refuse(at + ".preprocess", $"'{rule}' is not a preprocessing rule; use {Alternatives([.. PreprocessNames.Select(p => p.Name)])}");
                if (type != DatasetColumnType.String) throw Refuse(at + ".preprocess", $"preprocessing applies to string columns, and '{name}' is {typeText}");
                preprocess = known.Rule;
            }
            var converts = OptionalString(item, at, "converts");
            if ((converts is not null) != (preprocess == ColumnPreprocess.Unit))
                throw Refuse(at + ".converts", "\"converts\" names the number column of a \"preprocess\": \"unit\" column, and only there");
            columns.Add(new DatasetColumn(name, type, nullable, path, OptionalString(item, at, "description")) { Preprocess = preprocess, Converts = converts });
        }
        foreach (var group in columns.Where(c => c.Preprocess is ColumnPreprocess.Url or ColumnPreprocess.UserAgent).GroupBy(c => c.Preprocess).Where(g => g.Count() > 1))
            throw Refuse("columns", $"only one column may be preprocessed as {PreprocessNames.First(p => p.Rule == group.Key).Name} (its outputs have fixed names)");
        for (var c = 0; c < columns.Count; c++)
        {
            if (columns[c].Converts is not { } target) continue;
            var number = columns.FirstOrDefault(x => Same(x.Name, target));
            if (number is null || number.Type != DatasetColumnType.Number)
                throw Refuse($"columns[{c}].converts", $"'{target}' is not a number column of the dataset");
            // Two unit columns converting one number: each conversion would overwrite the other's (one was lost, silently).
            var first = columns.FindIndex(x => x.Converts is { } t && Same(t, target));
            if (first < c)
                throw Refuse($"columns[{c}].converts", $"'{target}' is converted by columns[{first}] ('{columns[first].Name}') already; a number column has one unit column");
        }
        return columns;
    }

    private DatasetTextFormat? ReadParse(JsonElement root, DatasetPayloadKind payload, List<DatasetColumn> columns)
    {
        if (!root.TryGetProperty("parse", out var parse))
        {
            if (payload == DatasetPayloadKind.Text) throw Refuse("parse", "a text dataset needs \"parse\": { \"format\": \"access_log\" } or { \"format\": \"regex\", \"pattern\": … }");
            return null;
        }
        if (payload == DatasetPayloadKind.Json) throw Refuse("parse", "only text datasets have a parse format (JSON events are parsed by their columns)");
        if (parse.ValueKind != JsonValueKind.Object) throw Refuse("parse", $"parse is an object such as {{ \"format\": \"access_log\" }}, not {KindOf(parse)}");
        CheckFieldsOf(parse, "parse", ParseFields);
        var formatText = RequiredString(parse, "parse", "format");
        switch (formatText)
        {
            case "access_log":
                foreach (var field in new[] { "pattern", "timestamp_format" })
                    if (parse.TryGetProperty(field, out _)) throw Refuse("parse." + field, "does not apply to format access_log");
                for (var i = 0; i < columns.Count; i++)
                {
                    if (!AccessLogColumns.Names.Contains(columns[i].Name, StringComparer.Ordinal))
                        throw Refuse($"columns[{i}].name", $"'{columns[i].Name}' is not a field of the access_log format ({string.Join(", ", AccessLogColumns.Names)})");
                }
                return new DatasetTextFormat(DatasetTextFormatKind.AccessLog);
            case "regex":
                var pattern = RequiredString(parse, "parse", "pattern");
                Regex regex;
                try
                {
                    regex = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
                }
                catch (ArgumentException e)
                {
                    throw Refuse("parse.pattern", $"not a valid regular expression: {e.Message.TrimEnd('.')}");
                }
                var groups = regex.GetGroupNames().Where(g => !int.TryParse(g, NumberStyles.None, CultureInfo.InvariantCulture, out _)).ToList();
                foreach (var g in groups)
                {
                    if (!columns.Any(c => c.Name == g))
                        throw Refuse("parse.pattern", $"group '{g}' is not one of the columns ({string.Join(", ", columns.Select(c => c.Name))})");
                }
                for (var i = 0; i < columns.Count; i++)
                {
                    if (!groups.Contains(columns[i].Name, StringComparer.Ordinal))
                        throw Refuse($"columns[{i}]", $"column '{columns[i].Name}' has no named group (?<{columns[i].Name}>…) in parse.pattern");
                    if (columns[i].Type is DatasetColumnType.Object or DatasetColumnType.StringList)
                        throw Refuse($"columns[{i}].type", $"a regex group is one text value; {columns[i].TypeName} columns come only from JSON or access_log");
                }
                return new DatasetTextFormat(DatasetTextFormatKind.Regex, pattern, OptionalString(parse, "parse", "timestamp_format"));
            default:
                throw Refuse("parse.format", $"'{formatText}' is not a text format; use access_log or regex");
        }
    }

    private DatasetId ReadId(JsonElement root, List<DatasetColumn> columns)
    {
        if (!root.TryGetProperty("id", out var id)) throw Refuse("id", "is missing: the id columns, e.g. [\"event_id\"], or \"source_position\"");
        if (id.ValueKind == JsonValueKind.String)
        {
            return id.GetString() == "source_position"
                ? DatasetId.SourcePosition
                : throw Refuse("id", $"'{id.GetString()}' is not an id; give the id columns as a list, e.g. [\"{id.GetString()}\"], or \"source_position\"");
        }
        if (id.ValueKind != JsonValueKind.Array) throw Refuse("id", $"the id is a list of columns or \"source_position\", not {KindOf(id)}");
        var names = new List<string>();
        var i = 0;
        foreach (var item in id.EnumerateArray())
        {
            var at = $"id[{i++}]";
            if (item.ValueKind != JsonValueKind.String) throw Refuse(at, $"an id column is a column name, not {KindOf(item)}");
            var column = columns.FirstOrDefault(c => Same(c.Name, item.GetString()!))
                ?? throw Refuse(at, $"'{item.GetString()}' is not one of the columns ({string.Join(", ", columns.Select(c => c.Name))})");
            if (column.Type is DatasetColumnType.Object or DatasetColumnType.StringList)
                throw Refuse(at, $"column '{column.Name}' is {column.TypeName}; an id column holds one value");
            if (names.Contains(column.Name, StringComparer.Ordinal)) throw Refuse(at, $"column '{column.Name}' is in the id twice");
            names.Add(column.Name);
        }
        if (names.Count == 0) throw Refuse("id", "an id has at least one column (or is \"source_position\")");
        if (names.Count > MaxIdColumns) throw Refuse("id", $"an id has at most {MaxIdColumns} columns");
        return new DatasetId(names);
    }

    private List<DatasetExpectation> ReadExpectations(JsonElement root, List<DatasetColumn> columns)
    {
        var result = new List<DatasetExpectation>();
        if (!root.TryGetProperty("expectations", out var array)) return result;
        if (array.ValueKind != JsonValueKind.Array) throw Refuse("expectations", $"expectations are a list of rules, not {KindOf(array)}");
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var at = $"expectations[{i++}]";
            if (item.ValueKind != JsonValueKind.Object) throw Refuse(at, $"a rule is an object with name, column, check and action, not {KindOf(item)}");
            var checkText = RequiredString(item, at, "check");
            var check = ExpectationNames.Checks.FirstOrDefault(c => c.Name == checkText);
            if (check.Name is null)
                throw Refuse(at + ".check", $"'{checkText}' is not a check; use {Alternatives([.. ExpectationNames.Checks.Select(c => c.Name)])}");
            CheckFieldsOf(item, at, [.. ExpectationCommonFields, .. CheckFields[check.Check]], checkText);

            var name = RequiredString(item, at, "name");
            if (!IsColumnName(name)) throw Refuse(at + ".name", $"'{name}' is not a rule name: lower-case letters, digits and '_'");
            if (result.Any(e => e.Name == name)) throw Refuse(at + ".name", $"rule '{name}' is defined twice");
            var columnName = RequiredString(item, at, "column");
            var column = columns.FirstOrDefault(c => Same(c.Name, columnName))
                ?? throw Refuse(at + ".column", $"'{columnName}' is not one of the columns ({string.Join(", ", columns.Select(c => c.Name))})");
            var actionText = RequiredString(item, at, "action");
            var action = ExpectationNames.Actions.FirstOrDefault(a => a.Name == actionText);
            if (action.Name is null) throw Refuse(at + ".action", $"'{actionText}' is not an action; use warn, drop or fail");

            var rule = new DatasetExpectation
            {
                Name = name,
                Column = column.Name,
                Check = check.Check,
                Action = action.Action,
                Enabled = OptionalBool(item, at, "enabled") ?? true,
                Description = OptionalString(item, at, "description"),
            };
            result.Add(check.Check switch
            {
                ExpectationCheck.NotNull => rule,
                ExpectationCheck.Between => ReadBetween(item, at, column, rule),
                ExpectationCheck.In => ReadIn(item, at, column, rule),
                ExpectationCheck.Matches => ReadMatches(item, at, column, rule),
                ExpectationCheck.MaxLength => ReadMaxLength(item, at, column, rule),
                _ => ReadWindow(item, at, column, rule),
            });
        }
        return result;
    }

    /// <summary>
    /// Refuses an expectation named like a rule silver adds for a non-nullable column (<see cref="DatasetDefinition.NotNullableRules"/>):
    /// the two would run under one name and share its counts.
    /// </summary>
    private void CheckNotNullableRuleNames(List<DatasetColumn> columns, DatasetId id, List<DatasetExpectation> expectations)
    {
        foreach (var added in DatasetDefinition.NotNullableRulesOf(columns, id, expectations.Where(e => e.Enabled)))
        {
            var i = expectations.FindIndex(e => e.Name == added.Name);
            if (i < 0) continue;
            throw Refuse($"expectations[{i}].name",
                $"'{added.Name}' is the name of the rule silver adds itself for the column '{added.Column}', which is not nullable and has no " +
                "enabled not_null expectation that drops or fails; make this one that expectation (\"check\": \"not_null\", \"action\": \"drop\"), " +
                "give it another name, or make the column nullable");
        }
    }

    private DatasetExpectation ReadBetween(JsonElement item, string at, DatasetColumn column, DatasetExpectation rule)
    {
        RequireType(at, column, "between", DatasetColumnType.Integer, DatasetColumnType.Number);
        var min = OptionalBound(item, at, "min", rule.Name, column);
        var max = OptionalBound(item, at, "max", rule.Name, column);
        if (min is null && max is null) throw Refuse(at, "check between needs min, max or both");
        if (min > max) throw Refuse(at + ".min", $"min {Show(min.Value)} is greater than max {Show(max!.Value)}");
        return rule with
        {
            Min = min,
            Max = max,
            MinExclusive = OptionalBool(item, at, "min_exclusive") ?? false,
            MaxExclusive = OptionalBool(item, at, "max_exclusive") ?? false,
        };
    }

    private DatasetExpectation ReadIn(JsonElement item, string at, DatasetColumn column, DatasetExpectation rule)
    {
        RequireType(at, column, "in", DatasetColumnType.String, DatasetColumnType.Integer);
        var array = RequiredArray(item, at, "values");
        var values = new List<string>();
        var i = 0;
        foreach (var v in array.EnumerateArray())
        {
            var vat = $"{at}.values[{i++}]";
            if (column.Type == DatasetColumnType.String)
            {
                if (v.ValueKind != JsonValueKind.String) throw Refuse(vat, $"column '{column.Name}' is string: the values are strings, not {KindOf(v)}");
                RefuseNul(v.GetString()!, vat, "the value");
                values.Add(v.GetString()!);
            }
            else
            {
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt64(out var n)) throw Refuse(vat, $"column '{column.Name}' is integer: the values are whole numbers, not {v.GetRawText()}");
                values.Add(n.ToString(CultureInfo.InvariantCulture));
            }
        }
        if (values.Count == 0) throw Refuse(at + ".values", "check in needs at least one value");
        return rule with { Values = values };
    }

    private DatasetExpectation ReadMatches(JsonElement item, string at, DatasetColumn column, DatasetExpectation rule)
    {
        RequireType(at, column, "matches", DatasetColumnType.String);
        var pattern = RequiredString(item, at, "pattern");
        try
        {
            _ = new Regex(pattern, RegexOptions.None, TimeSpan.FromSeconds(1));
        }
        catch (ArgumentException e)
        {
            throw Refuse(at + ".pattern", $"not a valid regular expression: {e.Message.TrimEnd('.')}");
        }
        RefuseNul(pattern, at + ".pattern", "the pattern", @" (write \x00 to match one)");
        return rule with { Pattern = pattern };
    }

    private DatasetExpectation ReadMaxLength(JsonElement item, string at, DatasetColumn column, DatasetExpectation rule)
    {
        RequireType(at, column, "max_length", DatasetColumnType.String);
        if (!item.TryGetProperty("max", out var max)) throw Refuse(at + ".max", "is missing: the greatest length, a whole number");
        if (max.ValueKind != JsonValueKind.Number || !max.TryGetInt32(out var n) || n < 1)
            throw Refuse(at + ".max", $"the greatest length is a whole number of at least 1, not {max.GetRawText()}");
        return rule with { Max = n };
    }

    private DatasetExpectation ReadWindow(JsonElement item, string at, DatasetColumn column, DatasetExpectation rule)
    {
        RequireType(at, column, "within_ingest_window", DatasetColumnType.Timestamp);
        var maxAge = OptionalDuration(item, at, "max_age");
        var maxFuture = OptionalDuration(item, at, "max_future");
        if (maxAge is null && maxFuture is null) throw Refuse(at, "check within_ingest_window needs max_age, max_future or both");
        return rule with { MaxAge = maxAge, MaxFuture = maxFuture };
    }

    private List<string> ReadGoldOutputs(JsonElement root)
    {
        var result = new List<string>();
        if (!root.TryGetProperty("gold_outputs", out var array)) return result;
        if (array.ValueKind != JsonValueKind.Array) throw Refuse("gold_outputs", $"gold_outputs is a list of gold table names, not {KindOf(array)}");
        var i = 0;
        foreach (var item in array.EnumerateArray())
        {
            var at = $"gold_outputs[{i++}]";
            if (item.ValueKind != JsonValueKind.String) throw Refuse(at, $"a gold output is a table name, not {KindOf(item)}");
            var name = item.GetString()!;
            if (!IsColumnName(name)) throw Refuse(at, $"'{name}' is not a gold table name: lower-case letters, digits and '_'");
            if (result.Contains(name, StringComparer.Ordinal)) throw Refuse(at, $"'{name}' is listed twice");
            result.Add(name);
        }
        return result;
    }

    private void RequireType(string at, DatasetColumn column, string check, params DatasetColumnType[] types)
    {
        if (!types.Contains(column.Type))
            throw Refuse(at + ".column", $"check {check} applies to {Alternatives([.. types.Select(DatasetColumnTypes.NameOf)])} columns; '{column.Name}' is {column.TypeName}");
    }

    /// <summary>Refuses a field that is not one of <paramref name="allowed"/> (with a suggestion), and a field given twice.</summary>
    private void CheckFieldsOf(JsonElement obj, string at, IReadOnlyList<string> allowed, string? check = null)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in obj.EnumerateObject())
        {
            var field = Join(at, property.Name);
            if (!seen.Add(property.Name)) throw Refuse(field, "is given twice");
            if (allowed.Contains(property.Name, StringComparer.Ordinal)) continue;
            if (check is not null && CheckFields.Values.Any(f => f.Contains(property.Name, StringComparer.Ordinal)))
                throw Refuse(field, $"does not apply to check {check}");
            var suggestion = Suggest(property.Name, allowed);
            throw Refuse(field, $"is not a field of {(at.Length == 0 ? "a dataset definition" : Describe(at))}" +
                (suggestion is null ? $" (the fields are {string.Join(", ", allowed)})" : $" (did you mean '{suggestion}'?)"));
        }
    }

    private static string Describe(string at) =>
        at.StartsWith("columns", StringComparison.Ordinal) ? "a column"
        : at.StartsWith("expectations", StringComparison.Ordinal) ? "a rule"
        : at;

    private string RequiredString(JsonElement obj, string at, string name)
    {
        if (!obj.TryGetProperty(name, out var value)) throw Refuse(Join(at, name), "is missing");
        if (value.ValueKind != JsonValueKind.String) throw Refuse(Join(at, name), $"is a string, not {KindOf(value)}");
        var text = value.GetString()!;
        if (text.Trim().Length == 0) throw Refuse(Join(at, name), "is blank");
        return text;
    }

    private string? OptionalString(JsonElement obj, string at, string name)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null) return null;
        if (value.ValueKind != JsonValueKind.String) throw Refuse(Join(at, name), $"is a string, not {KindOf(value)}");
        return value.GetString();
    }

    private bool? OptionalBool(JsonElement obj, string at, string name)
    {
        if (!obj.TryGetProperty(name, out var value)) return null;
        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Refuse(Join(at, name), $"is true or false, not {KindOf(value)}"),
        };
    }

    private DatasetQualityGates? ReadQualityGates(JsonElement root)
    {
        if (!root.TryGetProperty("quality_gates", out var gates)) return null;
        const string At = "quality_gates";
        if (gates.ValueKind != JsonValueKind.Object)
            throw Refuse(At, $"quality_gates is an object such as {{ \"max_quarantine_share\": 0.05 }}, not {KindOf(gates)}");
        CheckFieldsOf(gates, At, GateFields);
        var share = OptionalNumber(gates, At, "max_quarantine_share");
        if (share is < 0 or >= 1)
            throw Refuse(At + ".max_quarantine_share", $"is the largest share of a batch that may be quarantined, from 0 up to (not including) 1, such as 0.05 for 5 %; not {Show(share.Value)}");
        var minRows = OptionalWhole(gates, At, "min_rows", 1, int.MaxValue) ?? 1;
        RuleJumpGate? jump = null;
        if (gates.TryGetProperty("rule_jump", out var j))
        {
            const string JumpAt = At + ".rule_jump";
            if (j.ValueKind != JsonValueKind.Object)
                throw Refuse(JumpAt, $"rule_jump is an object such as {{ \"factor\": 3 }}, not {KindOf(j)}");
            CheckFieldsOf(j, JumpAt, RuleJumpFields);
            var factor = OptionalNumber(j, JumpAt, "factor") ?? throw Refuse(JumpAt + ".factor", "is missing: how many times its usual failure rate a rule may fail before the run stops, e.g. 3");
            if (factor is <= 1 or > 1_000_000) throw Refuse(JumpAt + ".factor", $"is a number above 1 (and at most 1000000), not {Show(factor)}");
            jump = new RuleJumpGate(factor, (int)(OptionalWhole(j, JumpAt, "history_runs", 1, 100) ?? 5), OptionalWhole(j, JumpAt, "min_failures", 1, int.MaxValue) ?? 10);
        }
        if (share is null && jump is null)
            throw Refuse(At, "names no gate: give max_quarantine_share, rule_jump or both");
        return new DatasetQualityGates(share, minRows, jump);
    }

    private long? OptionalWhole(JsonElement obj, string at, string name, long min, long max)
    {
        if (!obj.TryGetProperty(name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var n) || n < min || n > max)
            throw Refuse(Join(at, name), $"is a whole number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, not {(value.ValueKind == JsonValueKind.Number ? value.GetRawText() : KindOf(value))}");
        return n;
    }

    private double? OptionalNumber(JsonElement obj, string at, string name)
    {
        if (!obj.TryGetProperty(name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var d) || !double.IsFinite(d))
            throw Refuse(Join(at, name), $"is a number, not {(value.ValueKind == JsonValueKind.Number ? value.GetRawText() : KindOf(value))}");
        return d;
    }

    /// <summary>
    /// A bound of a between check, exactly as written: a decimal holds every 64-bit integer and every bound of up to 28 significant
    /// digits, where a double rounded whole numbers beyond 2^53 (a bound of 9007199254740993 on an integer column compared as
    /// 9007199254740992). A number the decimal would round (more digits, or 7.9e28 and beyond) is refused rather than rounded.
    /// </summary>
    private decimal? OptionalBound(JsonElement obj, string at, string name, string rule, DatasetColumn column)
    {
        if (!obj.TryGetProperty(name, out var value)) return null;
        if (value.ValueKind != JsonValueKind.Number) throw Refuse(Join(at, name), $"is a number, not {KindOf(value)}");
        if (!value.TryGetDecimal(out var bound) || Significand(value.GetRawText()) != Significand(bound.ToString(CultureInfo.InvariantCulture)))
            throw Refuse(Join(at, name),
                $"rule '{rule}' on column '{column.Name}': the bound {value.GetRawText()} cannot be held exactly (at most 28 significant digits, less than 7.9e28 in size); " +
                "it would be compared rounded");
        return bound;
    }

    /// <summary>A JSON number's significant digits and power of ten (<c>1.50e2</c> → ("15", 1), <c>-0.0015</c> → ("15", -4)), to tell whether two texts are one number.</summary>
    private static (string Digits, long Exponent) Significand(string number)
    {
        long exponent = 0;
        var e = number.AsSpan().IndexOfAny('e', 'E');
        if (e >= 0)
        {
            if (!long.TryParse(number.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out exponent) || Math.Abs(exponent) > int.MaxValue) return ("?", 0);
            number = number[..e];
        }
        number = number.TrimStart('-');
        var point = number.IndexOf('.', StringComparison.Ordinal);
        if (point >= 0)
        {
            exponent -= number.Length - point - 1;
            number = number.Remove(point, 1);
        }
        var digits = number.TrimStart('0');
        if (digits.Length == 0) return ("0", 0);
        var trimmed = digits.TrimEnd('0');
        return (trimmed, exponent + digits.Length - trimmed.Length);
    }

    private JsonElement RequiredArray(JsonElement obj, string at, string name)
    {
        if (!obj.TryGetProperty(name, out var value)) throw Refuse(Join(at, name), "is missing");
        if (value.ValueKind != JsonValueKind.Array) throw Refuse(Join(at, name), $"is a list, not {KindOf(value)}");
        return value;
    }

    private TimeSpan? OptionalDuration(JsonElement obj, string at, string name)
    {
        var text = OptionalString(obj, at, name);
        if (text is null) return null;
        return TryParseDuration(text, out var span) && span > TimeSpan.Zero
            ? span
            : throw Refuse(Join(at, name), $"'{text}' is not a duration; write a positive number and a unit: ms, s, m, h or d (e.g. 30d, 5m)");
    }

    /// <summary>Parses <c>&lt;number&gt;&lt;unit&gt;</c> with unit ms, s, m, h or d.</summary>
    internal static bool TryParseDuration(string text, out TimeSpan span)
    {
        span = default;
        var m = DurationPattern().Match(text);
        if (!m.Success || !double.TryParse(m.Groups[1].Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n)) return false;
        var ms = n * m.Groups[2].Value switch { "ms" => 1, "s" => 1_000, "m" => 60_000, "h" => 3_600_000, _ => 86_400_000 };
        if (ms > TimeSpan.MaxValue.TotalMilliseconds / 2) return false;
        span = TimeSpan.FromMilliseconds(ms);
        return true;
    }

    internal static bool IsDatasetName(string name) =>
        name.Length is > 0 and <= MaxNameLength && char.IsAsciiLetterLower(name[0]) && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_');

    private static bool IsColumnName(string name) =>
        name.Length is > 0 and <= 128 && (char.IsAsciiLetterLower(name[0]) || name[0] == '_') && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_');

    /// <summary>The most columns a definition may have.</summary>
    internal const int MaxColumns = 512;

    /// <summary>
    /// Field names separated by '.': no blank name, no whitespace, and no name that is '*' alone, which DuckDB reads as JSONPath's
    /// wildcard even quoted (silver failed); other punctuation is taken literally.
    /// </summary>
    private static bool IsJsonPath(string path) => path.Split('.').All(p => p.Length > 0 && p != "*" && !p.Any(char.IsWhiteSpace));

    private static bool Same(string a, string b) => string.Equals(a, b, StringComparison.OrdinalIgnoreCase);

    private static string Join(string at, string name) => at.Length == 0 ? name : at + "." + name;

    private static string Show(double d) => d.ToString(CultureInfo.InvariantCulture);

    private static string Show(decimal d) => d.ToString(CultureInfo.InvariantCulture);

    private static string KindOf(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => $"the string \"{e.GetString()}\"",
        JsonValueKind.Number => $"the number {e.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => e.GetRawText(),
        _ => "null",
    };

    internal static string Alternatives(IReadOnlyList<string> values) =>
        values.Count == 1 ? values[0] : string.Join(", ", values.Take(values.Count - 1)) + " or " + values[^1];

    /// <summary>The closest of <paramref name="candidates"/> within two edits, or null.</summary>
    internal static string? Suggest(string value, IEnumerable<string> candidates)
    {
        string? best = null;
        var bestDistance = 3;
        foreach (var c in candidates)
        {
            var d = Distance(value, c);
            if (d < bestDistance)
            {
                best = c;
                bestDistance = d;
            }
        }
        return best;
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++) previous[j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }

    /// <summary>
    /// Refuses <paramref name="text"/> holding NUL: silver writes paths, <c>in</c> values and patterns into its SQL as literals,
    /// which DuckDB refuses with NUL ("Literals cannot contain NUL."), so the definition passed its check and every run failed.
    /// </summary>
    private void RefuseNul(string text, string field, string what, string hint = "")
    {
        if (text.Contains('\0', StringComparison.Ordinal))
            throw Refuse(field, $"{what} holds a NUL character (\\u0000) at index {text.IndexOf('\0', StringComparison.Ordinal)}, which silver's SQL cannot carry{hint}");
    }

    private LakehouseException Refuse(string? field, string problem) =>
        new(LakehouseErrorReason.InvalidInput, field is null
            ? $"Dataset definition '{_source}': {problem}."
            : $"Dataset definition '{_source}', field '{field}': {problem}.");

    [GeneratedRegex(@"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d)\s*$")]
    private static partial Regex DurationPattern();
}
