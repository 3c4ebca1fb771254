using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze.Kafka;

/// <summary>
/// What one Kafka client's librdkafka logs and errors become: warnings (events 5106, 5108) and debug lines (5107). A warning that
/// repeats — the same text, numbers aside; a broker that is down is retried several times a second — is shown once per
/// <see cref="Window"/>, saying how many came in between (before, an unreachable broker printed ten lines a second); the
/// repeats are debug lines, so --verbose still shows every one.
/// </summary>
internal sealed class KafkaClientLog(ILogger log)
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(30);
    private const int MostKept = 256;

    private readonly Lock _gate = new();
    private readonly Dictionary<string, (long Since, int Repeats)> _recent = new(StringComparer.Ordinal);

    /// <summary>A librdkafka log line (the client's log handler).</summary>
    internal void Log(LogMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        if (message.Level <= SyslogLevel.Warning && Due(message.Facility + " " + message.Message, out var repeats))
            KafkaLog.ClientWarning(log, message.Facility, WithRepeats(message.Message, repeats));
        else
            KafkaLog.ClientLog(log, message.Facility, message.Message);
    }

    /// <summary>An error librdkafka reports (the client's error handler).</summary>
    internal void Error(Error error)
    {
        ArgumentNullException.ThrowIfNull(error);
        var code = error.Code.ToString();
        if (Due(code + " " + error.Reason, out var repeats)) KafkaLog.ClientError(log, code, WithRepeats(error.Reason, repeats));
        else KafkaLog.ClientLog(log, code, error.Reason);
    }

    /// <summary>Whether a warning of this text is shown now; <paramref name="repeats"/>: how many like it were not, since it last was.</summary>
    private bool Due(string text, out int repeats)
    {
        var key = WithoutNumbers(text);
        var now = Environment.TickCount64;
        lock (_gate)
        {
            repeats = 0;
            if (_recent.TryGetValue(key, out var seen))
            {
                if (now - seen.Since < Window.TotalMilliseconds)
                {
                    _recent[key] = (seen.Since, seen.Repeats + 1);
                    return false;
                }
                repeats = seen.Repeats;
            }
            if (_recent.Count >= MostKept) _recent.Clear();
            _recent[key] = (now, 0);
            return true;
        }
    }

    private static string WithRepeats(string message, int repeats) =>
        repeats == 0 ? message : string.Create(CultureInfo.InvariantCulture, $"{message} (and {repeats} more like it in the {Window.TotalSeconds:0} s before)");

    /// <summary>The text with each run of digits as '#': "after 3ms" and "after 0ms" are the same warning.</summary>
    internal static string WithoutNumbers(string text)
    {
        var result = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            if (!char.IsAsciiDigit(c)) result.Append(c);
            else if (result.Length == 0 || result[^1] != '#') result.Append('#');
        }
        return result.ToString();
    }
}
