using System.Globalization;
using System.Text.RegularExpressions;
using Lakehouse.Core;

namespace Lakehouse.Delta.Write;

/// <summary>The table properties (metaData.configuration) the writer and the log replay read, with Delta's defaults.</summary>
internal static partial class TableProperties
{
    internal const string CheckpointInterval = "delta.checkpointInterval";
    internal const string DeletedFileRetentionDuration = "delta.deletedFileRetentionDuration";
    internal const string AppendOnly = "delta.appendOnly";
    internal const string LogRetentionDuration = "delta.logRetentionDuration";
    internal const string EnableExpiredLogCleanup = "delta.enableExpiredLogCleanup";

    /// <summary>
    /// The prefix of this project's txn retention properties: <c>lakehouse.txnRetentionDuration.&lt;appId prefix&gt;</c> =
    /// <c>interval 7 days</c> expires the txns whose application id starts with that prefix (see <see cref="ExpiredTransactions"/>).
    /// Delta's own <c>delta.setTransactionRetentionDuration</c> would expire every txn, stream positions and landed-file markers included.
    /// </summary>
    internal const string TxnRetentionDurationPrefix = "lakehouse.txnRetentionDuration.";

    /// <summary>The longest interval a property gives (1,000 years): "interval 99999999 days" before was a TimeSpan overflow in every write.</summary>
    internal static readonly TimeSpan LongestInterval = TimeSpan.FromDays(365_000);

    /// <summary>Delta's default checkpoint interval.</summary>
    internal const int DefaultCheckpointInterval = 10;

    /// <summary>Delta's default retention of removed files: one week.</summary>
    internal static readonly TimeSpan DefaultRetention = TimeSpan.FromDays(7);

    /// <summary>Delta's default retention of log files (commits, checkpoints): 30 days.</summary>
    internal static readonly TimeSpan DefaultLogRetention = TimeSpan.FromDays(30);

    /// <summary>Properties a table created here may not carry: each needs a table feature outside the Synapse profile.</summary>
    private static readonly string[] Refused =
    [
        "delta.columnMapping.mode", "delta.enableDeletionVectors", "delta.enableChangeDataFeed", "delta.enableChangeDataCapture", "delta.enableRowTracking",
        "delta.enableInCommitTimestamps", "delta.minReaderVersion", "delta.minWriterVersion", "delta.checkpointPolicy",
        "delta.enableIcebergCompatV1", "delta.enableIcebergCompatV2", "delta.enableTypeWidening",
    ];

    /// <summary>
    /// Delta's boolean table properties (Delta's DeltaConfigs read them with Scala's toBoolean, which takes only true or false in any case
    /// and fails on anything else): a value such as "yes" is refused when set, instead of being stored and read by one engine as false
    /// and refused by another. The boolean properties of <see cref="Refused"/> are refused whatever their value.
    /// </summary>
    private static readonly string[] BooleanProperties =
    [
        AppendOnly, EnableExpiredLogCleanup, "delta.enableFullRetentionRollback", "delta.checkpoint.writeStatsAsJson", "delta.checkpoint.writeStatsAsStruct",
        "delta.randomizeFilePrefixes", "delta.compatibility.symlinkFormatManifest.enabled",
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

    /// <summary>
    /// Whether expired log files are deleted after a checkpoint: delta.enableExpiredLogCleanup absent or true. A value that is neither
    /// true nor false (set by another tool) keeps the log: deleting it cannot be undone, and keeping it is always safe.
    /// </summary>
    internal static bool IsExpiredLogCleanupEnabled(IReadOnlyDictionary<string, string> configuration) =>
        !configuration.TryGetValue(EnableExpiredLogCleanup, out var v) || ParseBoolean(v) == true;

    private static readonly string[] ChangeDataFeedNames = ["delta.enableChangeDataFeed", "delta.enableChangeDataCapture"];

    /// <summary>
    /// The change data feed's property, or its older name that Delta still reads (<c>delta.enableChangeDataCapture</c>), with its value,
    /// when it is set to anything but false (a value Delta cannot read is not taken as off); null when the feed is off. While it is on,
    /// a writer that replaces or deletes rows must also write change data files.
    /// </summary>
    internal static (string Key, string Value)? ChangeDataFeedOn(IReadOnlyDictionary<string, string> configuration) =>
        ChangeDataFeedNames
            .Where(k => configuration.TryGetValue(k, out var v) && ParseBoolean(v) != false)
            .Select(k => ((string, string)?)(k, configuration[k]))
            .FirstOrDefault();

    /// <summary>
    /// The txns of <paramref name="transactions"/> (a snapshot's) that have expired under the <see cref="TxnRetentionDurationPrefix"/>
    /// properties of <paramref name="configuration"/>: those whose application id starts with a property's prefix and whose
    /// <c>lastUpdated</c> is at least its duration older than the newest <c>lastUpdated</c> of all the snapshot's txns. That newest time
    /// is the table's own clock: unlike the wall clock or a commit file's modification time, it is the same whenever and however a
    /// version is read (from its commits or from a checkpoint, which never drops the newest txn), so every reader and every
    /// checkpoint of a version agree on its txns. A txn without <c>lastUpdated</c> never expires, nor does one under a property whose
    /// value is not an interval: keeping a marker is always safe, dropping one lets its data in again.
    /// </summary>
    internal static List<string> ExpiredTransactions(IReadOnlyDictionary<string, string> configuration, IReadOnlyDictionary<string, Log.TxnAction> transactions)
    {
        var rules = configuration
            .Where(p => p.Key.StartsWith(TxnRetentionDurationPrefix, StringComparison.Ordinal) && p.Key.Length > TxnRetentionDurationPrefix.Length)
            .Select(p => (Prefix: p.Key[TxnRetentionDurationPrefix.Length..], Millis: ParseInterval(p.Value)?.TotalMilliseconds))
            .Where(r => r.Millis is not null)
            .Select(r => (r.Prefix, Millis: r.Millis!.Value))
            .ToList();
        var expired = new List<string>();
        if (rules.Count == 0 || transactions.Values.Max(t => t.LastUpdated) is not { } newest) return expired;
        foreach (var (appId, txn) in transactions)
        {
            if (txn.LastUpdated is not { } updated) continue;
            foreach (var (prefix, millis) in rules)
            {
                // As doubles: two longs of any size cannot overflow here (epoch milliseconds are exact in a double).
                if ((double)newest - updated < millis || !appId.StartsWith(prefix, StringComparison.Ordinal)) continue;
                expired.Add(appId);
                break;
            }
        }
        return expired;
    }

    /// <summary>
    /// Whether the table is append-only (delta.appendOnly = true; absent or false: not). A value that is neither true nor false (written
    /// by another tool) is refused, naming the property and the value, rather than read as false: the table's owner may have meant to
    /// protect it, and a write that replaces or deletes rows would then take that protection away.
    /// </summary>
    internal static bool IsAppendOnly(IReadOnlyDictionary<string, string> configuration, string table)
    {
        if (!configuration.TryGetValue(AppendOnly, out var v)) return false;
        if (ParseBoolean(v) is { } appendOnly) return appendOnly;
        throw new LakehouseException(LakehouseErrorReason.InvalidInput,
            $"Table '{table}' has {AppendOnly} = '{v}', which is neither true nor false: this writer cannot tell whether the table is append-only, so it " +
            $"replaces and deletes no rows in it. Set the property to true or false (lakehouse table set-properties <table> {AppendOnly}=true).");
    }

    /// <summary>A boolean property's value as Delta reads it: true or false in any case; null for anything else.</summary>
    private static bool? ParseBoolean(string value) =>
        string.Equals(value, "true", StringComparison.OrdinalIgnoreCase) ? true
        : string.Equals(value, "false", StringComparison.OrdinalIgnoreCase) ? false
        : null;

    /// <summary>
    /// Parses Delta's calendar-interval strings: "interval 7 days", "interval 1 week", "168 hours". One longer than
    /// <see cref="LongestInterval"/> is that: forever, as far as any retention can tell, and a time less it is still a date.
    /// </summary>
    internal static TimeSpan? ParseInterval(string text)
    {
        var m = IntervalPattern().Match(text);
        if (!m.Success || !long.TryParse(m.Groups[1].Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)) return null;
        var unit = m.Groups[2].Value.ToLowerInvariant() switch
        {
            "millisecond" => TimeSpan.FromMilliseconds(1),
            "second" => TimeSpan.FromSeconds(1),
            "minute" => TimeSpan.FromMinutes(1),
            "hour" => TimeSpan.FromHours(1),
            "day" => TimeSpan.FromDays(1),
            _ => TimeSpan.FromDays(7),
        };
        return n > LongestInterval.Ticks / unit.Ticks ? LongestInterval : TimeSpan.FromTicks(n * unit.Ticks);
    }

    /// <summary>Validates the properties of a table about to be created in the Synapse profile (protocol 1, 2).</summary>
    internal static void CheckForCreate(IReadOnlyDictionary<string, string> properties)
    {
        foreach (var (key, value) in properties)
        {
            if (key.Any(char.IsControl))
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Table property name '{string.Concat(key.Select(c => char.IsControl(c) ? $"\\u{(int)c:X4}" : c.ToString()))}' holds a control character (a line break, an escape): property names are printable text.");
            if (Refused.Contains(key, StringComparer.OrdinalIgnoreCase) || key.StartsWith("delta.feature.", StringComparison.OrdinalIgnoreCase)
                || key.StartsWith("delta.constraints.", StringComparison.OrdinalIgnoreCase))
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Table property '{key}' is not supported by this writer: tables are created with protocol (1, 2) so that Synapse serverless can read them.");
            if (BooleanProperties.Contains(key, StringComparer.OrdinalIgnoreCase) && ParseBoolean(value) is null)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Table property '{key}' must be true or false, not '{value}'.");
            if (string.Equals(key, CheckpointInterval, StringComparison.OrdinalIgnoreCase)
                && (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) || n <= 0))
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Table property '{key}' must be a positive integer, not '{value}'.");
            if ((string.Equals(key, DeletedFileRetentionDuration, StringComparison.OrdinalIgnoreCase) || string.Equals(key, LogRetentionDuration, StringComparison.OrdinalIgnoreCase)
                 || key.StartsWith(TxnRetentionDurationPrefix, StringComparison.Ordinal))
                && ParseInterval(value) is null)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Table property '{key}' must be an interval such as 'interval 7 days', not '{value}'.");
            if (string.Equals(key, TxnRetentionDurationPrefix.TrimEnd('.'), StringComparison.Ordinal) || string.Equals(key, TxnRetentionDurationPrefix, StringComparison.Ordinal))
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Table property '{key}' names no application id prefix: write '{TxnRetentionDurationPrefix}<prefix>', e.g. '{TxnRetentionDurationPrefix}http/idempotency-'.");
        }
    }
}
