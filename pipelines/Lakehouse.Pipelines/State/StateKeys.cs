using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Lakehouse.Pipelines.State;

/// <summary>Validation of the ids and names a store keys on, and the Cosmos DB document ids made from them.</summary>
internal static class StateKeys
{
    /// <summary>The longest id or name accepted, in UTF-16 code units.</summary>
    internal const int MaxLength = 1024;

    /// <summary>Refuses ids no store can hold faithfully: empty, too long, control characters, lone surrogates.</summary>
    internal static string Validate(string? value, string what)
    {
        if (string.IsNullOrWhiteSpace(value))
            throw new ArgumentException($"The {what} is empty.", what);
        if (value.Length > MaxLength)
            throw new ArgumentException($"The {what} is {value.Length} characters long; at most {MaxLength} are allowed.", what);
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (char.IsControl(c))
                throw new ArgumentException($"The {what} '{Display(value)}' contains the control character U+{(int)c:X4} at position {i}.", what);
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
                continue;
            }
            if (char.IsSurrogate(c))
                throw new ArgumentException($"The {what} '{Display(value)}' contains an unpaired surrogate at position {i}.", what);
        }
        return value;
    }

    /// <summary>A value for messages: control characters escaped, long values cut.</summary>
    internal static string Display(string? value)
    {
        if (value is null) return "(null)";
        var builder = new StringBuilder();
        foreach (var c in value.Length > 120 ? value[..120] : value)
            builder.Append(char.IsControl(c) ? string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}") : c.ToString());
        if (value.Length > 120) builder.Append(CultureInfo.InvariantCulture, $"… ({value.Length} characters)");
        return builder.ToString();
    }

    /// <summary>
    /// A Cosmos DB document id for a key made of parts. Plain keys (ASCII letters, digits, <c>.-_</c>, short) stay readable;
    /// anything else (Cosmos refuses <c>/ \ ? #</c> and limits ids to 255 bytes) becomes <c>~</c> and a SHA-256 of the parts,
    /// which no plain key can start with. The original values are stored in the document.
    /// </summary>
    internal static string CosmosId(params string[] parts)
    {
        var joined = string.Join('|', parts);
        if (parts.Length == 1 && joined.Length <= 200 && joined.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_'))
            return joined;
        var bytes = new List<byte>();
        foreach (var part in parts)
        {
            var utf8 = Encoding.UTF8.GetBytes(part);
            bytes.AddRange(BitConverter.GetBytes(utf8.Length));
            bytes.AddRange(utf8);
        }
        return "~" + Convert.ToHexStringLower(SHA256.HashData(bytes.ToArray()));
    }

    /// <summary>Checks a run record before either store writes it.</summary>
    internal static void ValidateRun(PipelineRunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        Validate(run.RunId, "run id");
        Validate(run.Pipeline, "pipeline name");
        ArgumentNullException.ThrowIfNull(run.ParametersJson);
    }

    /// <summary>Checks an activity record before either store writes it.</summary>
    internal static void ValidateActivity(ActivityRunRecord activity)
    {
        ArgumentNullException.ThrowIfNull(activity);
        Validate(activity.RunId, "run id");
        Validate(activity.ActivityName, "activity name");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(activity.Attempt);
    }
}
