using System.Text;
using System.Text.Json.Nodes;
using Lakehouse.Core;

namespace Lakehouse.Datasets.Tests;

/// <summary>One definition file: every way it can be wrong is refused with the field and what is expected; valid forms are read as written.</summary>
public sealed class DatasetDefinitionTests
{
    private const string Base = """
        {
          "name": "orders",
          "payload": "json",
          "columns": [
            { "name": "order_id", "type": "string", "nullable": false },
            { "name": "placed_at", "type": "timestamp" },
            { "name": "amount", "type": "number" },
            { "name": "items", "type": "integer" },
            { "name": "channel", "type": "string" }
          ],
          "event_time": "placed_at",
          "id": ["order_id"],
          "expectations": [],
          "gold_outputs": []
        }
        """;

    public static TheoryData<string, string, string> Refusals => new()
    {
        // field to set (JSON pointer-ish path), new JSON value (or "<delete>"), expected message after "Dataset definition 'orders.json'"
        { "name", "<delete>", ", field 'name': is missing." },
        { "name", "\"Orders\"", ", field 'name': 'Orders' is not a dataset name: 1 to 63 lower-case letters, digits and '_', starting with a letter." },
        { "name", "42", ", field 'name': is a string, not the number 42." },
        { "name", "\"  \"", ", field 'name': is blank." },
        { "payload", "\"xml\"", ", field 'payload': 'xml' is not a payload kind; use json or text." },
        { "payload", "\"text\"", ", field 'parse': a text dataset needs \"parse\": { \"format\": \"access_log\" } or { \"format\": \"regex\", \"pattern\": … }." },
        { "parse", "{ \"format\": \"access_log\" }", ", field 'parse': only text datasets have a parse format (JSON events are parsed by their columns)." },
        { "columns", "[]", ", field 'columns': a dataset has at least one column." },
        { "columns/4", "{ \"name\": \"channel\", \"type\": \"string\", \"preprocess\": \"zip\" }", ", field 'columns[4].preprocess': 'zip' is not a preprocessing rule; use url, user_agent, country or unit." },
        { "columns/2", "{ \"name\": \"amount\", \"type\": \"number\", \"preprocess\": \"url\" }", ", field 'columns[2].preprocess': preprocessing applies to string columns, and 'amount' is number." },
        { "columns/4", "{ \"name\": \"channel\", \"type\": \"string\", \"preprocess\": \"unit\" }", ", field 'columns[4].converts': \"converts\" names the number column of a \"preprocess\": \"unit\" column, and only there." },
        { "columns/4", "{ \"name\": \"channel\", \"type\": \"string\", \"preprocess\": \"unit\", \"converts\": \"items\" }", ", field 'columns[4].converts': 'items' is not a number column of the dataset." },
        { "columns", "[{ \"name\": \"order_id\", \"type\": \"string\" }, { \"name\": \"placed_at\", \"type\": \"timestamp\" }, { \"name\": \"amount\", \"type\": \"number\" }, " +
            "{ \"name\": \"u1\", \"type\": \"string\", \"preprocess\": \"unit\", \"converts\": \"amount\" }, { \"name\": \"u2\", \"type\": \"string\", \"preprocess\": \"unit\", \"converts\": \"amount\" }]",
            ", field 'columns[4].converts': 'amount' is converted by columns[3] ('u1') already; a number column has one unit column." },
        { "columns", "{}", ", field 'columns': is a list, not an object." },
        { "columns/1/type", "\"datetime\"", ", field 'columns[1].type': 'datetime' is not a column type; use string, integer, number, boolean, timestamp, object or string[]." },
        { "columns/1/name", "\"Order_ID\"", ", field 'columns[1].name': 'Order_ID' is not a column name: 1 to 128 lower-case letters, digits and '_', starting with a letter or '_'." },
        { "columns/1/name", "\"order_id\"", ", field 'columns[1].name': column 'order_id' is defined twice." },
        { "columns/1/nullable", "\"yes\"", ", field 'columns[1].nullable': is true or false, not the string \"yes\"." },
        { "columns/1/tpye", "\"string\"", ", field 'columns[1].tpye': is not a field of a column (did you mean 'type'?)." },
        { "columns/2/path", "\"a..b\"", ", field 'columns[2].path': 'a..b' is not a path: field names separated by '.', none of them '*' alone, such as attrs.browser." },
        { "columns/2/path", "\"attrs.*\"", ", field 'columns[2].path': 'attrs.*' is not a path: field names separated by '.', none of them '*' alone, such as attrs.browser." },
        // NUL in what silver writes into its SQL as a literal: DuckDB refused it at every run ("Literals cannot contain NUL."), after the check said ok.
        { "columns/2/path", "\"attrs.a\\u0000b\"", ", field 'columns[2].path': the path holds a NUL character (\\u0000) at index 7, which silver's SQL cannot carry." },
        { "columns", "[" + string.Join(", ", Enumerable.Range(0, 513).Select(i => $"{{ \"name\": \"c{i}\", \"type\": \"string\" }}")) + "]", ", field 'columns': a dataset has at most 512 columns, not 513." },
        { "columns/0", "\"order_id\"", ", field 'columns[0]': a column is an object with name and type, not the string \"order_id\"." },
        { "event_time", "\"created\"", ", field 'event_time': 'created' is not one of the columns (order_id, placed_at, amount, items, channel)." },
        { "event_time", "\"amount\"", ", field 'event_time': column 'amount' is number; the event time must be a timestamp column." },
        { "id", "<delete>", ", field 'id': is missing: the id columns, e.g. [\"event_id\"], or \"source_position\"." },
        { "id", "\"order_id\"", ", field 'id': 'order_id' is not an id; give the id columns as a list, e.g. [\"order_id\"], or \"source_position\"." },
        { "id", "[]", ", field 'id': an id has at least one column (or is \"source_position\")." },
        { "id", "[\"order_id\", \"nope\"]", ", field 'id[1]': 'nope' is not one of the columns (order_id, placed_at, amount, items, channel)." },
        { "id", "[\"order_id\", \"order_id\"]", ", field 'id[1]': column 'order_id' is in the id twice." },
        { "expectations", "{}", ", field 'expectations': expectations are a list of rules, not an object." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"amount\", \"check\": \"positive\", \"action\": \"drop\" }]",
            ", field 'expectations[0].check': 'positive' is not a check; use not_null, between, in, matches, max_length or within_ingest_window." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"amount\", \"check\": \"between\", \"min\": 0, \"action\": \"quarantine\" }]",
            ", field 'expectations[0].action': 'quarantine' is not an action; use warn, drop or fail." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"total\", \"check\": \"not_null\", \"action\": \"drop\" }]",
            ", field 'expectations[0].column': 'total' is not one of the columns (order_id, placed_at, amount, items, channel)." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"channel\", \"check\": \"between\", \"min\": 0, \"action\": \"drop\" }]",
            ", field 'expectations[0].column': check between applies to integer or number columns; 'channel' is string." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"amount\", \"check\": \"between\", \"action\": \"drop\" }]",
            ", field 'expectations[0]': check between needs min, max or both." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"amount\", \"check\": \"between\", \"min\": 5, \"max\": 1, \"action\": \"drop\" }]",
            ", field 'expectations[0].min': min 5 is greater than max 1." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"items\", \"check\": \"between\", \"max\": 1e300, \"action\": \"drop\" }]",
            ", field 'expectations[0].max': rule 'r' on column 'items': the bound 1e300 cannot be held exactly (at most 28 significant digits, less than 7.9e28 in size); it would be compared rounded." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"amount\", \"check\": \"between\", \"min\": 0.12345678901234567890123456789, \"action\": \"drop\" }]",
            ", field 'expectations[0].min': rule 'r' on column 'amount': the bound 0.12345678901234567890123456789 cannot be held exactly (at most 28 significant digits, less than 7.9e28 in size); it would be compared rounded." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"amount\", \"check\": \"between\", \"min\": 1e-30, \"action\": \"drop\" }]",
            ", field 'expectations[0].min': rule 'r' on column 'amount': the bound 1e-30 cannot be held exactly (at most 28 significant digits, less than 7.9e28 in size); it would be compared rounded." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"amount\", \"check\": \"between\", \"min\": 0, \"pattern\": \"x\", \"action\": \"drop\" }]",
            ", field 'expectations[0].pattern': does not apply to check between." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"amount\", \"check\": \"not_null\", \"action\": \"drop\", \"severity\": 1 }]",
            ", field 'expectations[0].severity': is not a field of a rule (the fields are name, column, check, action, enabled, description)." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"items\", \"check\": \"in\", \"values\": [1, 2.5], \"action\": \"drop\" }]",
            ", field 'expectations[0].values[1]': column 'items' is integer: the values are whole numbers, not 2.5." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"channel\", \"check\": \"in\", \"values\": [\"web\", \"a\\u0000\"], \"action\": \"drop\" }]",
            ", field 'expectations[0].values[1]': the value holds a NUL character (\\u0000) at index 1, which silver's SQL cannot carry." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"channel\", \"check\": \"matches\", \"pattern\": \"^a\\u0000\", \"action\": \"warn\" }]",
            ", field 'expectations[0].pattern': the pattern holds a NUL character (\\u0000) at index 2, which silver's SQL cannot carry (write \\x00 to match one)." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"channel\", \"check\": \"in\", \"values\": [], \"action\": \"drop\" }]",
            ", field 'expectations[0].values': check in needs at least one value." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"channel\", \"check\": \"matches\", \"pattern\": \"(web\", \"action\": \"warn\" }]",
            ", field 'expectations[0].pattern': not a valid regular expression: Invalid pattern '(web' at offset 4. Not enough )'s." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"channel\", \"check\": \"max_length\", \"max\": 0, \"action\": \"warn\" }]",
            ", field 'expectations[0].max': the greatest length is a whole number of at least 1, not 0." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"placed_at\", \"check\": \"within_ingest_window\", \"max_age\": \"a week\", \"action\": \"warn\" }]",
            ", field 'expectations[0].max_age': 'a week' is not a duration; write a positive number and a unit: ms, s, m, h or d (e.g. 30d, 5m)." },
        { "expectations", "[{ \"name\": \"r\", \"column\": \"order_id\", \"check\": \"not_null\", \"action\": \"drop\" }, { \"name\": \"r\", \"column\": \"amount\", \"check\": \"not_null\", \"action\": \"drop\" }]",
            ", field 'expectations[1].name': rule 'r' is defined twice." },
        { "gold_outputs", "[\"daily\", \"daily\"]", ", field 'gold_outputs[1]': 'daily' is listed twice." },
        { "gold_outputs", "[\"gold.daily\"]", ", field 'gold_outputs[0]': 'gold.daily' is not a gold table name: lower-case letters, digits and '_'." },
        { "version", "2", ", field 'version': is not a field of a dataset definition (the fields are name, description, payload, parse, columns, event_time, id, expectations, gold_outputs, quality_gates)." },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Parse_InvalidField_RefusedNamingTheField(string field, string value, string expected)
    {
        var json = JsonNode.Parse(Base)!.AsObject();
        var path = field.Split('/');
        JsonNode parent = json;
        foreach (var part in path[..^1]) parent = int.TryParse(part, out var i) ? parent[i]! : parent[part]!;
        var last = path[^1];
        if (value == "<delete>") parent.AsObject().Remove(last);
        else if (int.TryParse(last, out var index)) parent.AsArray()[index] = JsonNode.Parse(value);
        else parent[last] = JsonNode.Parse(value);

        var e = Assert.Throws<LakehouseException>(() => DatasetDefinition.Parse(Encoding.UTF8.GetBytes(json.ToJsonString()), "orders.json"));
        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Equal("Dataset definition 'orders.json'" + expected, e.Message);
    }

    /// <summary>
    /// A non-nullable column outside the id that no enabled drop or fail not_null expectation checks gets silver's own rule
    /// <c>&lt;column&gt;_present</c>; an expectation of that name is refused unless it is that check, since the two would share one
    /// name and its counts.
    /// </summary>
    [Theory]
    [InlineData("", "channel_present")]
    [InlineData("""{ "name": "channel_present", "column": "channel", "check": "not_null", "action": "drop" }""", "")]
    [InlineData("""{ "name": "channel_required", "column": "channel", "check": "not_null", "action": "fail" }""", "")]
    [InlineData("""{ "name": "channel_required", "column": "channel", "check": "not_null", "action": "warn" }""", "channel_present")]
    [InlineData("""{ "name": "channel_required", "column": "channel", "check": "not_null", "action": "drop", "enabled": false }""", "channel_present")]
    [InlineData("""{ "name": "channel_present", "column": "amount", "check": "between", "min": 0, "action": "drop" }""", "refused")]
    [InlineData("""{ "name": "channel_present", "column": "channel", "check": "not_null", "action": "warn" }""", "refused")]
    [InlineData("""{ "name": "channel_present", "column": "channel", "check": "not_null", "action": "drop", "enabled": false }""", "refused")]
    public void Parse_NonNullableColumnWithoutItsOwnNotNullRule_SilverAddsOneWhoseNameNoOtherRuleTakes(string expectation, string added)
    {
        var json = Base
            .Replace("""{ "name": "channel", "type": "string" }""", """{ "name": "channel", "type": "string", "nullable": false }""", StringComparison.Ordinal)
            .Replace("\"expectations\": []", $"\"expectations\": [{expectation}]", StringComparison.Ordinal);

        if (added == "refused")
        {
            var e = Assert.Throws<LakehouseException>(() => DatasetDefinition.Parse(Encoding.UTF8.GetBytes(json), "orders.json"));
            Assert.Equal(
                "Dataset definition 'orders.json', field 'expectations[0].name': 'channel_present' is the name of the rule silver adds itself for the column 'channel', " +
                "which is not nullable and has no enabled not_null expectation that drops or fails; make this one that expectation (\"check\": \"not_null\", \"action\": \"drop\"), " +
                "give it another name, or make the column nullable.", e.Message);
            return;
        }
        var d = DatasetDefinition.Parse(Encoding.UTF8.GetBytes(json), "orders.json");
        var rules = d.NotNullableRules(d.Expectations.Where(x => x.Enabled)); // order_id is not nullable too, but the id: missing_id guards it
        Assert.Equal(added == "" ? [] : [$"{added}|channel|NotNull|Drop"], rules.Select(r => $"{r.Name}|{r.Column}|{r.Check}|{r.Action}"));
        // A run that turns on the opt-in not_null drop needs no rule of its own.
        if (expectation.Contains("\"enabled\": false", StringComparison.Ordinal)) Assert.Empty(d.NotNullableRules(d.Expectations));
    }

    [Fact]
    public void Parse_FieldGivenTwice_Refused()
    {
        var json = Base.Replace("\"payload\": \"json\",", "\"payload\": \"json\", \"payload\": \"text\",", StringComparison.Ordinal);
        var e = Assert.Throws<LakehouseException>(() => DatasetDefinition.Parse(Encoding.UTF8.GetBytes(json), "orders.json"));
        Assert.Equal("Dataset definition 'orders.json', field 'payload': is given twice.", e.Message);
    }

    [Fact]
    public void Parse_NotUtf8_Refused()
    {
        byte[] bytes = [.. Encoding.UTF8.GetBytes("{\"name\": \"or"), 0xFF, .. Encoding.UTF8.GetBytes("ders\"}")];
        var e = Assert.Throws<LakehouseException>(() => DatasetDefinition.Parse(bytes, "orders.json"));
        Assert.Equal("Dataset definition 'orders.json': the file is not UTF-8 text.", e.Message);
    }

    /// <summary>An empty file, or one of white space and a byte-order mark only, is refused as empty (before: "not valid JSON at line 1, column 1").</summary>
    [Theory]
    [InlineData("")]
    [InlineData(" \n\t\r\n")]
    [InlineData("\uFEFF\n")]
    public void Parse_EmptyFile_RefusedAsEmpty(string text)
    {
        var e = Assert.Throws<LakehouseException>(() => DatasetDefinition.Parse(Encoding.UTF8.GetBytes(text), "orders.json"));
        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Equal("Dataset definition 'orders.json': the file is empty; a definition is one JSON object (see 'lakehouse dataset show weblogs').", e.Message);
    }

    /// <summary>
    /// JSON nested past 32 levels is refused as too deep, naming the field, the limit and the line and column (before: "the file
    /// is not valid JSON at line 1, column …", as .NET's parser puts it); 32 levels parse and are then checked as usual.
    /// </summary>
    [Theory]
    [InlineData(29, ", field 'columns[0].type': is missing.")]
    [InlineData(30, ", field 'columns': objects and arrays are nested more than 32 levels deep at line 2, column 165; a definition nests a few levels (see 'lakehouse dataset show weblogs').")]
    [InlineData(500, ", field 'columns': objects and arrays are nested more than 32 levels deep at line 2, column 165; a definition nests a few levels (see 'lakehouse dataset show weblogs').")]
    public void Parse_NestedDeeperThan32Levels_RefusedAsTooDeepNamingFieldAndLine(int arrays, string expected)
    {
        // The root object, "columns", its first column, then the arrays of "description": 3 + arrays levels.
        var json = "{\n  \"name\": \"orders\", \"payload\": \"json\", \"event_time\": \"placed_at\", \"id\": [\"order_id\"], \"columns\": [{ \"name\": \"order_id\", \"description\": "
            + new string('[', arrays) + "1" + new string(']', arrays) + " }]\n}";
        var e = Assert.Throws<LakehouseException>(() => DatasetDefinition.Parse(Encoding.UTF8.GetBytes(json), "orders.json"));
        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Equal("Dataset definition 'orders.json'" + expected, e.Message);
    }

    [Fact]
    public void Parse_CommentsAndByteOrderMark_Accepted()
    {
        var json = "\uFEFF// orders from the shop\n" + Base.Replace("\"expectations\": [],", "\"expectations\": [], /* none yet */", StringComparison.Ordinal);
        var d = DatasetDefinition.Parse(Encoding.UTF8.GetBytes(json), "orders.json");
        Assert.Equal("orders", d.Name);
        Assert.Equal("orders.json", d.Source);
        Assert.Empty(d.Expectations);
    }

    [Fact]
    public void Parse_EveryCheck_ReadAsWritten()
    {
        var json = Base.Replace("\"expectations\": []", """
            "expectations": [
              { "name": "id_present", "column": "order_id", "check": "not_null", "action": "fail" },
              { "name": "amount_positive", "column": "amount", "check": "between", "min": 0, "min_exclusive": true, "action": "drop", "description": "no free orders" },
              { "name": "items_small", "column": "items", "check": "in", "values": [1, 2, 3], "action": "warn" },
              { "name": "channel_known", "column": "channel", "check": "matches", "pattern": "^(web|app)$", "action": "warn", "enabled": false },
              { "name": "channel_short", "column": "channel", "check": "max_length", "max": 16, "action": "warn" },
              { "name": "recent", "column": "placed_at", "check": "within_ingest_window", "max_age": "36h", "max_future": "90s", "action": "drop" }
            ]
            """, StringComparison.Ordinal);
        var e = DatasetDefinition.Parse(Encoding.UTF8.GetBytes(json), "orders.json").Expectations;
        Assert.Equal(["not_null", "between", "in", "matches", "max_length", "within_ingest_window"], e.Select(x => x.CheckName));
        Assert.Equal(ExpectationAction.Fail, e[0].Action);
        Assert.Equal((0m, (decimal?)null, true, false, "no free orders"), (e[1].Min, e[1].Max, e[1].MinExclusive, e[1].MaxExclusive, e[1].Description));
        Assert.Equal(["1", "2", "3"], e[2].Values);
        Assert.Equal(("^(web|app)$", false), (e[3].Pattern, e[3].Enabled));
        Assert.True(e[4].Enabled);
        Assert.Equal(16m, e[4].Max);
        Assert.Equal((TimeSpan.FromHours(36), TimeSpan.FromSeconds(90)), (e[5].MaxAge, e[5].MaxFuture));
    }

    [Fact]
    public void Parse_BetweenBoundsBeyondDoublePrecision_ReadExactly()
    {
        var json = Base.Replace("\"expectations\": []", """
            "expectations": [
              { "name": "items_max", "column": "items", "check": "between", "min": -9223372036854775808, "max": 9007199254740993, "action": "drop" },
              { "name": "amount_range", "column": "amount", "check": "between", "min": 1.50e-3, "max": 12345678901234567890.123456789, "action": "drop" }
            ]
            """, StringComparison.Ordinal);
        var e = DatasetDefinition.Parse(Encoding.UTF8.GetBytes(json), "orders.json").Expectations;
        Assert.Equal(((decimal?)long.MinValue, (decimal?)9007199254740993m), (e[0].Min, e[0].Max));
        Assert.Equal(((decimal?)0.0015m, (decimal?)12345678901234567890.123456789m), (e[1].Min, e[1].Max));
    }

    [Fact]
    public void Parse_RegexTextDataset_GroupsAreTheColumns()
    {
        const string json = """
            {
              "name": "app_log",
              "payload": "text",
              "parse": { "format": "regex", "pattern": "^(?<at>\\S+) (?<level>[A-Z]+) (?<message>.*)$", "timestamp_format": "%Y-%m-%dT%H:%M:%S%z" },
              "columns": [
                { "name": "at", "type": "timestamp", "nullable": false },
                { "name": "level", "type": "string" },
                { "name": "message", "type": "string" }
              ],
              "event_time": "at",
              "id": "source_position"
            }
            """;
        var d = DatasetDefinition.Parse(Encoding.UTF8.GetBytes(json), "app_log.json");
        Assert.Equal(DatasetTextFormatKind.Regex, d.TextFormat!.Format);
        Assert.Equal("%Y-%m-%dT%H:%M:%S%z", d.TextFormat.TimestampFormat);
        Assert.True(d.Id.IsSourcePosition);
        Assert.Empty(d.GoldOutputs);

        var missingGroup = json.Replace("(?<message>.*)", "(.*)", StringComparison.Ordinal);
        var e = Assert.Throws<LakehouseException>(() => DatasetDefinition.Parse(Encoding.UTF8.GetBytes(missingGroup), "app_log.json"));
        Assert.Equal("Dataset definition 'app_log.json', field 'columns[2]': column 'message' has no named group (?<message>…) in parse.pattern.", e.Message);
        var extraGroup = json.Replace("(?<message>.*)", "(?<msg>.*)", StringComparison.Ordinal);
        e = Assert.Throws<LakehouseException>(() => DatasetDefinition.Parse(Encoding.UTF8.GetBytes(extraGroup), "app_log.json"));
        Assert.Equal("Dataset definition 'app_log.json', field 'parse.pattern': group 'msg' is not one of the columns (at, level, message).", e.Message);
    }

    [Fact]
    public void Parse_AccessLogWithAnUnknownColumn_Refused()
    {
        var json = DatasetCatalog.BuiltIn.Get("accesslogs").Json
            .Replace("\"accesslogs\"", "\"edge_logs\"", StringComparison.Ordinal)
            .Replace("\"name\": \"vhost\"", "\"name\": \"virtual_host\"", StringComparison.Ordinal);
        var e = Assert.Throws<LakehouseException>(() => DatasetDefinition.Parse(Encoding.UTF8.GetBytes(json), "edge_logs.json"));
        Assert.Equal("Dataset definition 'edge_logs.json', field 'columns[13].name': 'virtual_host' is not a field of the access_log format " +
            "(client_ip, ident, auth_user, timestamp, method, url, path, query, protocol, status, bytes, referrer, user_agent, vhost, forwarded_for).", e.Message);
    }

    [Fact]
    public void Parse_BuiltInJsonUnderAnotherName_SameDefinition()
    {
        var weblogs = DatasetCatalog.BuiltIn.Get("weblogs");
        var copy = DatasetDefinition.Parse(Encoding.UTF8.GetBytes(weblogs.Json.Replace("\"weblogs\"", "\"weblogs_eu\"", StringComparison.Ordinal)), "weblogs_eu.json");
        Assert.Equal(weblogs.Columns, copy.Columns);
        Assert.Equal(weblogs.Expectations.Select(e => e with { }), copy.Expectations, new ExpectationComparer());
        Assert.Equal(weblogs.GoldOutputs, copy.GoldOutputs);
    }

    private sealed class ExpectationComparer : IEqualityComparer<DatasetExpectation>
    {
        public bool Equals(DatasetExpectation? x, DatasetExpectation? y) =>
            x is not null && y is not null && x.Name == y.Name && x.Column == y.Column && x.Check == y.Check && x.Action == y.Action &&
            x.Min == y.Min && x.Max == y.Max && x.Values.SequenceEqual(y.Values) && x.MaxAge == y.MaxAge && x.Enabled == y.Enabled;

        public int GetHashCode(DatasetExpectation obj) => obj.Name.GetHashCode(StringComparison.Ordinal);
    }
}
