using System.Globalization;
using System.Text;
using Lakehouse.Datasets;
using Lakehouse.Silver.Parsing;

namespace Lakehouse.Silver.Tests.Parsing;

/// <summary>Every column of the built-in accesslogs dataset, for asserting a parsed line field by field.</summary>
public sealed record AccessLogRow
{
    public required string ClientIp { get; init; }
    public string? Ident { get; init; }
    public string? AuthUser { get; init; }
    public required DateTime Timestamp { get; init; }
    public string? Method { get; init; }
    public string? Url { get; init; }
    public string? Path { get; init; }
    public string? Query { get; init; }
    public string? Protocol { get; init; }
    public required long Status { get; init; }
    public long? Bytes { get; init; }
    public string? Referrer { get; init; }
    public string? UserAgent { get; init; }
    public string? Vhost { get; init; }
    public string[] ForwardedFor { get; init; } = [];

    internal static DateTime Utc(string iso) =>
        DateTime.Parse(iso, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

    /// <summary>The differences between this row and what <paramref name="values"/> (in the accesslogs column order) hold, one line each.</summary>
    internal List<string> Mismatches(object?[] values)
    {
        var expected = new (string Name, object? Value)[]
        {
            ("client_ip", ClientIp), ("ident", Ident), ("auth_user", AuthUser), ("timestamp", Timestamp), ("method", Method),
            ("url", Url), ("path", Path), ("query", Query), ("protocol", Protocol), ("status", Status), ("bytes", Bytes),
            ("referrer", Referrer), ("user_agent", UserAgent), ("vhost", Vhost), ("forwarded_for", ForwardedFor),
        };
        var columns = DatasetCatalog.BuiltIn.Get("accesslogs").Columns;
        var mismatches = new List<string>();
        for (var i = 0; i < columns.Count; i++)
        {
            var (name, want) = expected.Single(e => e.Name == columns[i].Name);
            var got = values[i];
            var same = (want, got) switch
            {
                (null, null) => true,
                (string[] w, string[] g) => w.SequenceEqual(g),
                (DateTime w, DateTime g) => w == g && g.Kind == DateTimeKind.Utc,
                _ => Equals(want, got),
            };
            if (!same) mismatches.Add($"{name}: expected {Show(want)}, got {Show(got)}");
        }
        return mismatches;
    }

    internal static string Show(object? value) => value switch
    {
        null => "null",
        string s => $"\"{s}\"",
        string[] a => "[" + string.Join(", ", a.Select(Show)) + "]",
        DateTime t => t.ToString("O", CultureInfo.InvariantCulture) + $" ({t.Kind})",
        _ => $"{value} ({value.GetType().Name})",
    };

    /// <summary>Parses <paramref name="line"/> with the built-in accesslogs definition.</summary>
    internal static (bool Ok, object?[] Values, string? Error) Parse(string line) => Parse(Encoding.UTF8.GetBytes(line));

    internal static (bool Ok, object?[] Values, string? Error) Parse(byte[] line)
    {
        var definition = DatasetCatalog.BuiltIn.Get("accesslogs");
        var parser = TextLineParsers.For(definition);
        var values = new object?[definition.Columns.Count];
        var ok = parser.TryParse(line, values, out var error);
        return (ok, values, error);
    }
}
