using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Lakehouse.Datasets.Simulation;

namespace Lakehouse.Datasets.Tests.Simulation;

/// <summary>Checks simulated events against their dataset definition, independently of the generators.</summary>
internal static partial class SimulatedData
{
    internal static List<SimulatedEvent> Generate(string dataset, long events, long seed = 42, double duplicates = 0, double malformed = 0, double late = 0, TimeSpan? span = null) =>
        [.. EventSimulator.Generate(dataset, new SimulatorOptions { Events = events, Seed = seed, Duplicates = duplicates, Malformed = malformed, Late = late, Span = span })];

    /// <summary>
    /// The problems of one clean JSON event against <paramref name="definition"/>: a column missing or of the wrong JSON type, a
    /// field the definition does not have, a null in a non-nullable column, a timestamp without a zone, a broken enabled expectation.
    /// </summary>
    internal static List<string> JsonProblems(DatasetDefinition definition, byte[] payload)
    {
        var problems = new List<string>();
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(payload);
        }
        catch (DecoderFallbackException)
        {
            return ["not UTF-8"];
        }
        using var document = JsonDocument.Parse(text);
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object) return ["not an object"];
        foreach (var property in root.EnumerateObject())
            if (definition.Column(property.Name) is null) problems.Add($"extra field {property.Name}");
        var values = new Dictionary<string, object?>();
        foreach (var column in definition.Columns)
        {
            if (!root.TryGetProperty(column.Name, out var value))
            {
                problems.Add($"{column.Name} missing");
                continue;
            }
            if (value.ValueKind == JsonValueKind.Null)
            {
                if (!column.Nullable) problems.Add($"{column.Name} is null");
                values[column.Name] = null;
                continue;
            }
            var ok = column.Type switch
            {
                DatasetColumnType.String => value.ValueKind == JsonValueKind.String,
                DatasetColumnType.Integer => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
                DatasetColumnType.Number => value.ValueKind == JsonValueKind.Number,
                DatasetColumnType.Boolean => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
                DatasetColumnType.Object => value.ValueKind == JsonValueKind.Object,
                DatasetColumnType.StringList => value.ValueKind == JsonValueKind.Array && value.EnumerateArray().All(v => v.ValueKind == JsonValueKind.String),
                _ => value.ValueKind == JsonValueKind.String && IsoTimestamp().IsMatch(value.GetString()!),
            };
            if (!ok) problems.Add($"{column.Name} is not {column.TypeName}: {value.GetRawText()}");
            values[column.Name] = column.Type switch
            {
                DatasetColumnType.String => value.ValueKind == JsonValueKind.String ? value.GetString() : null,
                DatasetColumnType.Integer or DatasetColumnType.Number => value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null,
                _ => value.GetRawText(),
            };
        }
        problems.AddRange(ExpectationProblems(definition, values));
        return problems;
    }

    /// <summary>The enabled expectations of <paramref name="definition"/> that <paramref name="values"/> break (window checks excepted: they need an ingest time).</summary>
    internal static IEnumerable<string> ExpectationProblems(DatasetDefinition definition, IReadOnlyDictionary<string, object?> values)
    {
        foreach (var rule in definition.Expectations.Where(e => e.Enabled))
        {
            values.TryGetValue(rule.Column, out var value);
            var broken = rule.Check switch
            {
                ExpectationCheck.NotNull => value is null,
                ExpectationCheck.Between => value is double d && (rule.Min is { } min && (rule.MinExclusive ? d <= (double)min : d < (double)min) || rule.Max is { } max && (rule.MaxExclusive ? d >= (double)max : d > (double)max)),
                ExpectationCheck.In => value is not null && !rule.Values.Contains(Convert.ToString(value, CultureInfo.InvariantCulture)),
                ExpectationCheck.Matches => value is string s && !Regex.IsMatch(s, rule.Pattern!),
                ExpectationCheck.MaxLength => value is string s2 && s2.Length > rule.Max,
                _ => false,
            };
            if (broken) yield return $"breaks {rule.Name}: {value}";
        }
    }

    internal static DateTimeOffset TimestampOf(byte[] payload, string field = "timestamp")
    {
        using var document = JsonDocument.Parse(payload);
        return DateTimeOffset.Parse(document.RootElement.GetProperty(field).GetString()!, CultureInfo.InvariantCulture);
    }

    /// <summary>An access log line of any of the variants: [vhost] client[, proxies] ident user [time] "request" status bytes ["referrer" "agent"] [extra fields].</summary>
    [GeneratedRegex("""^(?:(?<vhost>[A-Za-z0-9.-]+:\d+) )?(?<clients>[0-9A-Fa-f:.]+(?:, [0-9A-Fa-f:.]+)*) (?<ident>\S+) (?<user>\S+) \[(?<time>\d{2}/[A-Z][a-z]{2}/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4})\] "(?<request>(?:[^"\\]|\\.)*)" (?<status>\d{3}) (?<bytes>\d+|-)(?: "(?<referrer>(?:[^"\\]|\\.)*)" "(?<agent>(?:[^"\\]|\\.)*)")?(?<extra>(?: \S+)*)$""")]
    internal static partial Regex AccessLogLine();

    /// <summary>A request line: METHOD target PROTOCOL, or "-".</summary>
    [GeneratedRegex("""^(?:-|(?<method>[A-Z]+) (?<target>\S+) (?<protocol>HTTP/\d\.\d))$""")]
    internal static partial Regex RequestLine();

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?(Z|[+-]\d{2}:\d{2})$")]
    private static partial Regex IsoTimestamp();
}
