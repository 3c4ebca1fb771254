using System.Globalization;
using System.Text;

namespace Lakehouse.Serve.Monitoring;

/// <summary>
/// Writes metrics in Prometheus' text exposition format (version 0.0.4): per metric family one <c># HELP</c> and one
/// <c># TYPE</c> line, then its samples <c>name{label="value",…} number</c>, one per line, ending in a line feed. Counters are
/// named <c>…_total</c>. Label values are escaped (backslash, double quote, line feed); HELP text escapes backslash and line feed.
/// </summary>
public sealed class PrometheusText
{
    /// <summary>The Content-Type of the format.</summary>
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    private readonly StringBuilder _text = new();
    private readonly HashSet<string> _families = new(StringComparer.Ordinal);

    /// <summary>A counter sample (a value that only goes up; the name should end in <c>_total</c>).</summary>
    public PrometheusText Counter(string name, string help, double value, params (string Name, string Value)[] labels) => Sample(name, "counter", help, value, labels);

    /// <summary>A gauge sample (a value that goes up and down).</summary>
    public PrometheusText Gauge(string name, string help, double value, params (string Name, string Value)[] labels) => Sample(name, "gauge", help, value, labels);

    /// <summary>The text written so far.</summary>
    public override string ToString() => _text.ToString();

    private PrometheusText Sample(string name, string type, string help, double value, (string Name, string Value)[] labels)
    {
        if (!IsName(name)) throw new ArgumentException($"'{name}' is not a Prometheus metric name.", nameof(name));
        if (_families.Add(name))
        {
            _text.Append("# HELP ").Append(name).Append(' ').Append(help.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal)).Append('\n');
            _text.Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');
        }
        _text.Append(name);
        if (labels.Length > 0)
        {
            _text.Append('{');
            for (var i = 0; i < labels.Length; i++)
            {
                if (!IsName(labels[i].Name) || labels[i].Name.Contains(':', StringComparison.Ordinal)) throw new ArgumentException($"'{labels[i].Name}' is not a label name.", nameof(labels));
                if (i > 0) _text.Append(',');
                _text.Append(labels[i].Name).Append("=\"")
                    .Append(labels[i].Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal))
                    .Append('"');
            }
            _text.Append('}');
        }
        _text.Append(' ').Append(Number(value)).Append('\n');
        return this;
    }

    private static string Number(double value) => double.IsNaN(value) ? "NaN"
        : double.IsPositiveInfinity(value) ? "+Inf"
        : double.IsNegativeInfinity(value) ? "-Inf"
        : value.ToString("R", CultureInfo.InvariantCulture);

    private static bool IsName(string name) =>
        name.Length > 0 && !char.IsAsciiDigit(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':');
}
