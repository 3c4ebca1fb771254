using System.Globalization;
using System.Text.RegularExpressions;
using Lakehouse.Core;

namespace Lakehouse.Delta.Write;

/// <summary>The table properties (metaData.configuration) the writer reads, with Delta's defaults.</summary>
internal static partial class TableProperties
{
    internal const string CheckpointInterval = "delta.checkpointInterval";
    internal const string DeletedFileRetentionDuration = "delta.deletedFileRetentionDuration";
    internal const string AppendOnly = "delta.appendOnly";
    internal const string LogRetentionDuration = "delta.logRetentionDuration";
    internal const string EnableExpiredLogCleanup = "delta.enableExpiredLogCleanup";

    /// <summary>Delta's default checkpoint interval.</summary>
    internal const int DefaultCheckpointInterval = 10;

    /// <summary>Delta's default retention of removed files: one week.</summary>
    internal static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(7);

    /// <summary>Delta's default retention of log files (commits, checkpoints): 30 days.</summary>
    internal static readonly TimeSpan DefaultLogRetention = TimeSpan.FromDays(30);

    /// <summary>Properties a table created here may not carry: each needs a table feature outside the Synapse profile.</summary>
    private static readonly string[] Refused =
    [
        "delta.columnMapping.mode", "delta.enableDeletionVectors", "delta.enableChangeDataFeed", "delta.enableRowTracking",
        "delta.enableInCommitTimestamps", "delta.minReaderVersion", "delta.minWriterVersion", "delta.checkpointPolicy",
        "delta.enableIcebergCompatV1", "delta.enableIcebergCompatV2", "delta.enableTypeWidening",
    ];

    [GeneratedRegex(@"^\s*(?:interval\s+)?(\d+)\s*(millisecond|second|minute|hour|day|week)s?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex IntervalPattern();

    internal static int CheckpointIntervalOf(IReadOnlyDictionary<string, string> configuration) =>
        configuration.TryGetValue(CheckpointInterval, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n > 0
            ? n
            : DefaultCheckpointInterval;

    internal static TimeSpan RetentionOf(IReadOnlyDictionary<string, string> configuration) =>
        configuration.TryGetValue(DeletedFileRetentionDuration, out var v) && ParseInterval(v) is { } t ? t : DefaultRetention;

    internal static TimeSpan LogRetentionOf(IReadOnlyDictionary<string, string> configuration) =>
        configuration.TryGetValue(LogRetentionDuration, out var v) && ParseInterval(v) is { } t ? t : DefaultLogRetention;

    /// <summary>Whether expired log files are deleted after a checkpoint (delta.enableExpiredLogCleanup, true unless "false").</summary>
    internal static bool IsExpiredLogCleanupEnabled(IReadOnlyDictionary<string, string> configuration) =>
        !(configuration.TryGetValue(EnableExpiredLogCleanup, out var v) && string.Equals(v.Trim(), "false", StringComparison.OrdinalIgnoreCase));

    internal static bool IsAppendOnly(IReadOnlyDictionary<string, string> configuration) =>
        configuration.TryGetValue(AppendOnly, out var v) && string.Equals(v, "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses Delta's calendar-interval strings: "interval 7 days", "interval 1 week", "168 hours".</summary>
    internal static TimeSpan? ParseInterval(string text)
    {
        var m = IntervalPattern().Match(text);
        if (!m.Success || !long.TryParse(m.Groups[1].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)) return null;
        return m.Groups[2].Value.ToLowerInvariant() switch
        {
            "millisecond" => TimeSpan.FromMilliseconds(n),
            "second" => TimeSpan.FromSeconds(n),
            "minute" => TimeSpan.FromMinutes(n),
            "hour" => TimeSpan.FromHours(n),
            "day" => TimeSpan.FromDays(n),
            _ => TimeSpan.FromDays(7 * n),
        };
    }

    /// <summary>Validates the properties of a table about to be created in the Synapse profile (protocol 1, 2).</summary>
    internal static void CheckForCreate(IReadOnlyDictionary<string, string> properties)
    {
        foreach (var (key, value) in properties)
        {
            if (Refused.Contains(key, StringComparer.OrdinalIgnoreCase) || key.StartsWith("delta.feature.", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("delta.constraints.", StringComparison.OrdinalIgnoreCase))
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Table property '{key}' is not supported by this writer: tables are created with protocol (1, 2) so that Synapse serverless can read them.");
            if (string.Equals(key, CheckpointInterval, StringComparison.OrdinalIgnoreCase)
                && (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n <= 0))
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Table property '{key}' must be a positive integer, not '{value}'.");
            if ((string.Equals(key, DeletedFileRetentionDuration, StringComparison.OrdinalIgnoreCase) || string.Equals(key, LogRetentionDuration, StringComparison.OrdinalIgnoreCase))
                && ParseInterval(value) is null)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Table property '{key}' must be an interval such as 'interval 7 days', not '{value}'.");
        }
    }
}
