using System.Text;

namespace Lakehouse.Datasets;

/// <summary>
/// A dataset as data: what its events look like (payload kind, columns, the parse format of text lines), which column is the
/// event time, what identifies an event, the expectations silver enforces and the gold tables built from it. Bronze needs only
/// the name; silver and gold use the rest. Read from a JSON definition file (see the README, "Datasets") by
/// <see cref="Parse"/> or <see cref="DatasetCatalog"/>.
/// </summary>
public sealed class DatasetDefinition
{
    internal DatasetDefinition(string name, string? description, DatasetPayloadKind payload, DatasetTextFormat? textFormat,
        IReadOnlyList<DatasetColumn> columns, string eventTime, DatasetId id, IReadOnlyList<DatasetExpectation> expectations,
        IReadOnlyList<string> goldOutputs, string source, bool isBuiltIn, string json)
    {
        Name = name;
        Description = description;
        Payload = payload;
        TextFormat = textFormat;
        Columns = columns;
        EventTime = eventTime;
        Id = id;
        Expectations = expectations;
        GoldOutputs = goldOutputs;
        Source = source;
        IsBuiltIn = isBuiltIn;
        Json = json;
    }

    /// <summary>The dataset's name: 1 to 63 lower-case letters, digits and '_', starting with a letter. Its bronze table is <c>bronze.&lt;name&gt;</c>.</summary>
    public string Name { get; }

    /// <summary>What the dataset holds, for people; null when the definition has none.</summary>
    public string? Description { get; }

    /// <summary>Whether each event is a JSON object or a line of text.</summary>
    public DatasetPayloadKind Payload { get; }

    /// <summary>How a text line is parsed into <see cref="Columns"/>; null for JSON payloads.</summary>
    public DatasetTextFormat? TextFormat { get; }

    /// <summary>The columns, in order: for JSON the fields of an event (or the value at <see cref="DatasetColumn.Path"/>), for text what the parse yields.</summary>
    public IReadOnlyList<DatasetColumn> Columns { get; }

    /// <summary>The column holding the event time (a <see cref="DatasetColumnType.Timestamp"/> column).</summary>
    public string EventTime { get; }

    /// <summary>What identifies an event: columns, or its source position.</summary>
    public DatasetId Id { get; }

    /// <summary>The rules silver checks on every parsed row, in order.</summary>
    public IReadOnlyList<DatasetExpectation> Expectations { get; }

    /// <summary>The gold tables built from this dataset (names only).</summary>
    public IReadOnlyList<string> GoldOutputs { get; }

    /// <summary>When silver refuses a batch for its quality (the definition's <c>quality_gates</c>); null when the definition sets none.</summary>
    public DatasetQualityGates? QualityGates { get; internal init; }

    /// <summary>Where the definition came from: <c>built-in</c>, or the file's location.</summary>
    public string Source { get; }

    /// <summary>True for the definitions that ship with the lakehouse (weblogs, sensors, accesslogs).</summary>
    public bool IsBuiltIn { get; }

    /// <summary>The definition's JSON as it was written.</summary>
    public string Json { get; }

    /// <summary>The column named <paramref name="name"/> (names compare case-insensitively, as SQL identifiers do), or null.</summary>
    public DatasetColumn? Column(string name) =>
        Columns.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// The rules that hold each non-nullable column to its promise where the definition's own expectations do not: for every column
    /// with <c>"nullable": false</c> outside the id (silver's missing_id guards id columns) that no not_null rule with action drop
    /// or fail among <paramref name="checkedRules"/> checks, a not_null rule with action drop named <c>&lt;column&gt;_present</c>,
    /// as the built-in definitions name theirs. Silver checks them after the expectations and counts them like them, so a clean
    /// row never holds null in a non-nullable column.
    /// </summary>
    /// <param name="checkedRules">The expectations a run checks: the enabled ones and the opt-ins it turned on.</param>
    public IReadOnlyList<DatasetExpectation> NotNullableRules(IEnumerable<DatasetExpectation> checkedRules)
    {
        ArgumentNullException.ThrowIfNull(checkedRules);
        return NotNullableRulesOf(Columns, Id, checkedRules);
    }

    /// <summary><see cref="NotNullableRules(IEnumerable{DatasetExpectation})"/> of a definition being read.</summary>
    internal static List<DatasetExpectation> NotNullableRulesOf(IEnumerable<DatasetColumn> columns, DatasetId id, IEnumerable<DatasetExpectation> checkedRules)
    {
        var guarded = checkedRules.Where(e => e.Check == ExpectationCheck.NotNull && e.Action != ExpectationAction.Warn)
            .Select(e => e.Column).ToHashSet(StringComparer.OrdinalIgnoreCase);
        return
        [
            .. columns.Where(c => !c.Nullable && !guarded.Contains(c.Name) && !id.Columns.Contains(c.Name, StringComparer.OrdinalIgnoreCase))
                .Select(c => new DatasetExpectation
                {
                    Name = c.Name + "_present",
                    Column = c.Name,
                    Check = ExpectationCheck.NotNull,
                    Action = ExpectationAction.Drop,
                    Description = $"Added by silver: the column {c.Name} is not nullable.",
                }),
        ];
    }

    /// <summary>
    /// Reads a definition from its JSON (UTF-8). A definition that is not valid — malformed JSON, an unknown or duplicate field, a
    /// missing or mistyped value, a column, check or action that does not exist — is refused with a <see cref="Core.LakehouseException"/>
    /// (InvalidInput) whose message names <paramref name="source"/> and the field, e.g. <c>columns[2].type</c>.
    /// </summary>
    /// <param name="utf8Json">The file's bytes.</param>
    /// <param name="source">The file's name or location, for messages.</param>
    public static DatasetDefinition Parse(ReadOnlySpan<byte> utf8Json, string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        return DefinitionReader.Read(utf8Json, source, isBuiltIn: false);
    }

    /// <summary>A one-line summary: payload, columns, id and event time.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        sb.Append(Name).Append(": ").Append(Payload == DatasetPayloadKind.Json ? "json" : "text");
        if (TextFormat is { } f) sb.Append(" (").Append(f.FormatName).Append(')');
        sb.Append(", ").Append(Columns.Count).Append(" columns, id ").Append(Id).Append(", event time ").Append(EventTime);
        return sb.ToString();
    }
}

/// <summary>What one event's payload is.</summary>
public enum DatasetPayloadKind
{
    /// <summary>A JSON object per event (NDJSON lines in files).</summary>
    Json,

    /// <summary>A line of text per event, parsed with the definition's <see cref="DatasetTextFormat"/>.</summary>
    Text,
}

/// <summary>How a text line becomes columns.</summary>
/// <param name="Format">The parser.</param>
/// <param name="Pattern">For <see cref="DatasetTextFormatKind.Regex"/>: a regular expression whose named groups are column names.</param>
/// <param name="TimestampFormat">For <see cref="DatasetTextFormatKind.Regex"/>: the strptime format of timestamp groups (default ISO-8601).</param>
public sealed record DatasetTextFormat(DatasetTextFormatKind Format, string? Pattern = null, string? TimestampFormat = null)
{
    /// <summary>The format's name in a definition file: <c>access_log</c> or <c>regex</c>.</summary>
    public string FormatName => Format == DatasetTextFormatKind.AccessLog ? "access_log" : "regex";
}

/// <summary>The text parsers a definition can name.</summary>
public enum DatasetTextFormatKind
{
    /// <summary>
    /// Apache/nginx access logs: combined and common log format and the variants real servers write (a <c>host:port</c> virtual-host
    /// prefix, an X-Forwarded-For list before the ident, IPv6 clients, <c>"-"</c> requests, <c>-</c> byte counts, extra trailing fields).
    /// Its columns are among <see cref="AccessLogColumns"/>.
    /// </summary>
    AccessLog,

    /// <summary>A regular expression with named groups, one per column; a line it does not match is a parse failure.</summary>
    Regex,
}

/// <summary>The columns the access_log format yields.</summary>
public static class AccessLogColumns
{
    /// <summary>client_ip, ident, auth_user, timestamp, method, url, path, query, protocol, status, bytes, referrer, user_agent, vhost, forwarded_for.</summary>
    public static IReadOnlyList<string> Names { get; } =
        ["client_ip", "ident", "auth_user", "timestamp", "method", "url", "path", "query", "protocol", "status", "bytes", "referrer", "user_agent", "vhost", "forwarded_for"];
}

/// <summary>One column of a dataset.</summary>
/// <param name="Name">The column name: lower-case letters, digits and '_', starting with a letter or '_'.</param>
/// <param name="Type">The column's type.</param>
/// <param name="Nullable">
/// False when every clean event has a value: silver drops an event without one, by the definition's own not_null rule or else by the
/// rule it adds itself (<see cref="DatasetDefinition.NotNullableRules"/>).
/// </param>
/// <param name="Path">JSON payloads: the dotted path of the value in the event (<c>attrs.browser</c>) when it is not the top-level field <paramref name="Name"/>.</param>
/// <param name="Description">What the column holds, for people.</param>
public sealed record DatasetColumn(string Name, DatasetColumnType Type, bool Nullable = true, string? Path = null, string? Description = null)
{
    /// <summary>The shared preprocessing rule silver applies to this string column beyond trimming (definition field <c>preprocess</c>).</summary>
    public ColumnPreprocess Preprocess { get; init; }

    /// <summary>For <see cref="ColumnPreprocess.Unit"/>: the number column whose values are in this column's unit (definition field <c>converts</c>).</summary>
    public string? Converts { get; init; }

    /// <summary>The type's name in a definition file.</summary>
    public string TypeName => DatasetColumnTypes.NameOf(Type);
}

/// <summary>
/// The value rules of the shared preprocessing (Lakehouse.Preprocessing) a string column can ask for; every string column is also
/// trimmed. In a definition file: <c>"preprocess": "url" | "user_agent" | "country" | "unit"</c>. See the README, "Silver".
/// </summary>
public enum ColumnPreprocess
{
    /// <summary>Trimming only.</summary>
    None,

    /// <summary>The URL normalized (the column), as sent (<c>&lt;column&gt;_raw</c>), its host and path, and the page's site and section from the reference table.</summary>
    Url,

    /// <summary>Browser family, device class and bot flag (<c>browser_family</c>, <c>device_class</c>, <c>is_bot</c>).</summary>
    UserAgent,

    /// <summary>The ISO 3166-1 alpha-2 code (null when unknown), the value as sent in <c>&lt;column&gt;_raw</c>.</summary>
    Country,

    /// <summary>The unit's canonical spelling (temperatures to °F), the <c>converts</c> column converted with it, both as sent in <c>_raw</c> columns.</summary>
    Unit,
}

/// <summary>Column types. In a definition file: string, integer, number, boolean, timestamp, object, string[].</summary>
public enum DatasetColumnType
{
    /// <summary>Text (<c>string</c>).</summary>
    String,

    /// <summary>A whole number, 64-bit (<c>integer</c>).</summary>
    Integer,

    /// <summary>A number, 64-bit floating point (<c>number</c>).</summary>
    Number,

    /// <summary>true or false (<c>boolean</c>).</summary>
    Boolean,

    /// <summary>An instant, normalized to UTC by silver (<c>timestamp</c>).</summary>
    Timestamp,

    /// <summary>A JSON object kept as JSON (<c>object</c>).</summary>
    Object,

    /// <summary>A list of texts (<c>string[]</c>).</summary>
    StringList,
}

/// <summary>The names of <see cref="DatasetColumnType"/> in definition files.</summary>
public static class DatasetColumnTypes
{
    private static readonly (DatasetColumnType Type, string Name)[] All =
    [
        (DatasetColumnType.String, "string"), (DatasetColumnType.Integer, "integer"), (DatasetColumnType.Number, "number"),
        (DatasetColumnType.Boolean, "boolean"), (DatasetColumnType.Timestamp, "timestamp"), (DatasetColumnType.Object, "object"),
        (DatasetColumnType.StringList, "string[]"),
    ];

    /// <summary>Every type name, in documentation order.</summary>
    public static IReadOnlyList<string> Names { get; } = [.. All.Select(a => a.Name)];

    /// <summary>The name of <paramref name="type"/>.</summary>
    public static string NameOf(DatasetColumnType type) => All.First(a => a.Type == type).Name;

    internal static bool TryParse(string name, out DatasetColumnType type)
    {
        foreach (var (t, n) in All)
        {
            if (n == name)
            {
                type = t;
                return true;
            }
        }
        type = default;
        return false;
    }
}

/// <summary>What identifies one event of a dataset; silver keeps one row per id.</summary>
public sealed class DatasetId
{
    internal DatasetId(IReadOnlyList<string> columns) => Columns = columns;

    /// <summary>The id is the event's source position (topic/partition/offset, file/line): two identical events are two events.</summary>
    public static DatasetId SourcePosition { get; } = new([]);

    /// <summary>The id columns; empty when the id is the source position.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>True when the id is the source position rather than columns.</summary>
    public bool IsSourcePosition => Columns.Count == 0;

    /// <summary><c>event_id</c>, <c>sensor_id + timestamp</c> or <c>source position</c>.</summary>
    public override string ToString() => IsSourcePosition ? "source position" : string.Join(" + ", Columns);
}

/// <summary>What silver does with a row that breaks an expectation (as in Delta Live Tables).</summary>
public enum ExpectationAction
{
    /// <summary>Keep the row and count the violation.</summary>
    Warn,

    /// <summary>Move the row to the quarantine table with the rule's name and a message.</summary>
    Drop,

    /// <summary>Stop the run and commit nothing.</summary>
    Fail,
}

/// <summary>The checks an expectation can make. A null value passes every check but <see cref="NotNull"/>.</summary>
public enum ExpectationCheck
{
    /// <summary><c>not_null</c>: the column has a value.</summary>
    NotNull,

    /// <summary><c>between</c>: an integer or number column lies within <c>min</c> and/or <c>max</c> (inclusive unless <c>min_exclusive</c>/<c>max_exclusive</c>).</summary>
    Between,

    /// <summary><c>in</c>: a string or integer column equals one of <c>values</c> (exactly, case-sensitive).</summary>
    In,

    /// <summary><c>matches</c>: a string column matches the regular expression <c>pattern</c> somewhere (anchor it with ^…$ for a whole match).</summary>
    Matches,

    /// <summary><c>max_length</c>: a string column has at most <c>max</c> characters.</summary>
    MaxLength,

    /// <summary><c>within_ingest_window</c>: a timestamp column is at most <c>max_age</c> before and <c>max_future</c> after the row's ingest time.</summary>
    WithinIngestWindow,
}

/// <summary>One rule of a dataset's expectations.</summary>
public sealed record DatasetExpectation
{
    /// <summary>The rule's name (lower-case letters, digits, '_'): what quarantine rows and quality metrics name.</summary>
    public required string Name { get; init; }

    /// <summary>The column checked.</summary>
    public required string Column { get; init; }

    /// <summary>The check.</summary>
    public required ExpectationCheck Check { get; init; }

    /// <summary>What a violation does.</summary>
    public required ExpectationAction Action { get; init; }

    /// <summary>False for a rule that is defined but off unless a run turns it on (opt-in). Default true.</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>What the rule means, for people; null when the definition has none.</summary>
    public string? Description { get; init; }

    /// <summary>
    /// <see cref="ExpectationCheck.Between"/>: the lower bound exactly as the definition writes it, or null (a decimal: a double
    /// rounds whole numbers beyond 2^53, so a bound on an integer column compared wrongly). <see cref="ExpectationCheck.MaxLength"/> does not use it.
    /// </summary>
    public decimal? Min { get; init; }

    /// <summary><see cref="ExpectationCheck.Between"/>: the upper bound exactly as written; <see cref="ExpectationCheck.MaxLength"/>: the greatest length.</summary>
    public decimal? Max { get; init; }

    /// <summary><see cref="ExpectationCheck.Between"/>: the value must be greater than <see cref="Min"/>, not equal.</summary>
    public bool MinExclusive { get; init; }

    /// <summary><see cref="ExpectationCheck.Between"/>: the value must be less than <see cref="Max"/>, not equal.</summary>
    public bool MaxExclusive { get; init; }

    /// <summary><see cref="ExpectationCheck.In"/>: the allowed values as text (whole numbers for integer columns).</summary>
    public IReadOnlyList<string> Values { get; init; } = [];

    /// <summary><see cref="ExpectationCheck.Matches"/>: the regular expression.</summary>
    public string? Pattern { get; init; }

    /// <summary><see cref="ExpectationCheck.WithinIngestWindow"/>: how long before its ingest an event may have happened; null: no limit.</summary>
    public TimeSpan? MaxAge { get; init; }

    /// <summary><see cref="ExpectationCheck.WithinIngestWindow"/>: how long after its ingest an event may claim to have happened; null: no limit.</summary>
    public TimeSpan? MaxFuture { get; init; }

    /// <summary>The check's name in a definition file (<c>not_null</c>, <c>between</c>, …).</summary>
    public string CheckName => ExpectationNames.Of(Check);
}

/// <summary>Check and action names of definition files.</summary>
internal static class ExpectationNames
{
    internal static readonly (ExpectationCheck Check, string Name)[] Checks =
    [
        (ExpectationCheck.NotNull, "not_null"), (ExpectationCheck.Between, "between"), (ExpectationCheck.In, "in"),
        (ExpectationCheck.Matches, "matches"), (ExpectationCheck.MaxLength, "max_length"), (ExpectationCheck.WithinIngestWindow, "within_ingest_window"),
    ];

    internal static readonly (ExpectationAction Action, string Name)[] Actions =
        [(ExpectationAction.Warn, "warn"), (ExpectationAction.Drop, "drop"), (ExpectationAction.Fail, "fail")];

    internal static string Of(ExpectationCheck check) => Checks.First(c => c.Check == check).Name;
}

/// <summary>
/// A dataset's quality gates (<c>quality_gates</c> in its definition): silver refuses a batch — commits none of it, records the
/// refusal in <c>silver._quality</c> and tells the webhook — when too much of it is quarantined or a rule fails far more often than
/// it used to.
/// </summary>
/// <param name="MaxQuarantineShare">
/// <c>max_quarantine_share</c>: the largest share of a batch's rows that may go to quarantine, 0 to below 1 (0.05 = 5 %); more
/// refuses the batch. Null: no such gate.
/// </param>
/// <param name="MinRows"><c>min_rows</c>: the share gate judges only batches of at least this many rows (default 1).</param>
/// <param name="RuleJump"><c>rule_jump</c>: refuse a batch in which a rule fails far more often than in the runs before; null: no such gate.</param>
public sealed record DatasetQualityGates(double? MaxQuarantineShare, long MinRows, RuleJumpGate? RuleJump);

/// <summary>
/// <c>rule_jump</c>: a batch is refused when a rule's failure rate (rows that broke it / rows it was checked on) is more than
/// <paramref name="Factor"/> times its rate over the dataset's last <paramref name="HistoryRuns"/> committed silver runs that checked
/// it, and it failed at least <paramref name="MinFailures"/> rows. A rule with fewer runs of history than that is not judged yet.
/// </summary>
/// <param name="Factor"><c>factor</c>: above 1, e.g. 3.</param>
/// <param name="HistoryRuns"><c>history_runs</c>: 1 to 100 (default 5).</param>
/// <param name="MinFailures"><c>min_failures</c>: at least 1 (default 10), so a handful of failures never stops a run.</param>
public sealed record RuleJumpGate(double Factor, int HistoryRuns, long MinFailures);
