using System.Globalization;

namespace Lakehouse.Gold;

/// <summary>Where gold's tables live in the lake, and the txn app id its commits record.</summary>
public static class GoldTables
{
    /// <summary>The partition column of every gold table: the UTC day of the event, window or alert.</summary>
    public const string EventDate = "event_date";

    /// <summary><c>gold/&lt;table&gt;</c>.</summary>
    public static string Gold(string table) => "gold/" + table;

    /// <summary><c>silver/&lt;dataset&gt;</c>, which gold consumes.</summary>
    public static string Silver(string dataset) => "silver/" + dataset;

    /// <summary>The name of <c>gold/alerts</c>, which every dataset with alert rules shares (rows inserted by alert id).</summary>
    public const string Alerts = "alerts";

    /// <summary><c>gold/_runs</c>: one row per gold run that did something (or failed).</summary>
    public const string Runs = "gold/_runs";

    /// <summary><c>gold/_alert_deliveries</c>: the alerts the webhook has accepted (the outbox's record).</summary>
    public const string AlertDeliveries = "gold/_alert_deliveries";

    /// <summary>Adds the event date that <paramref name="partitionValues"/> name to <paramref name="dates"/>; false when they name none.</summary>
    internal static bool AddEventDate(HashSet<DateOnly> dates, IReadOnlyDictionary<string, string?>? partitionValues)
    {
        if (partitionValues is null || !partitionValues.TryGetValue(EventDate, out var d) || d is null ||
            !DateOnly.TryParseExact(d, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
            return false;
        dates.Add(date);
        return true;
    }

    /// <summary>The txn app id of gold commits: the silver table they consume. Each gold table records its own.</summary>
    public static string AppId(string dataset) => "lakehouse-gold/silver." + dataset;
}
