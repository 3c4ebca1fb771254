using Lakehouse.Core;
using Lakehouse.Datasets;

namespace Lakehouse.Gold;

/// <summary>What a gold output's query is given: the staged silver rows and the run's watermark.</summary>
/// <param name="Events">
/// A DuckDB relation of the silver rows of the dates being recomputed and their neighbours (the day before and after), with the
/// columns the output asked for plus <c>timestamp</c>, <c>event_date</c>, <c>ingest_time</c> and <c>arrival_watermark</c>.
/// </param>
/// <param name="Watermark">The current watermark as a SQL expression (a TIMESTAMPTZ literal, or NULL for an empty silver table).</param>
internal sealed record GoldInputs(string Events, string Watermark);

/// <summary>
/// One gold table a dataset can produce: the silver columns it needs, whether a change to a day also changes the day before
/// (sliding windows that start before midnight and end after it), and its query.
/// </summary>
/// <param name="Table">The table's name under <c>gold/</c>.</param>
/// <param name="Columns">The silver columns the query reads (beyond timestamp, event_date, ingest_time).</param>
/// <param name="ReachesBack">A change on day D also changes rows of day D − 1 (so D − 1 is recomputed too).</param>
/// <param name="Select">The query: rows with an <c>event_date</c> column; the job keeps those of the dates it recomputes.</param>
internal sealed record GoldOutput(string Table, IReadOnlyList<string> Columns, bool ReachesBack, Func<GoldInputs, string> Select);

/// <summary>The gold tables the job knows, by the name a dataset definition's <c>gold_outputs</c> uses.</summary>
internal static class GoldOutputs
{
    private static readonly GoldOutput[] Known =
    [
        new(PagePerformanceDaily.TableName, ["page_url", "session_id", "tti_ms", "ttar_ms", "status"], false,
            i => PagePerformanceDaily.Sql($"SELECT \"timestamp\" AS event_time, page_url, session_id, CAST(tti_ms AS DOUBLE) AS tti_ms, CAST(ttar_ms AS DOUBLE) AS ttar_ms, CAST(status AS INTEGER) AS status FROM {i.Events}")),
        new(AccessDaily.TableName, ["path", "status", "bytes", "client_ip"], false,
            i => AccessDaily.Sql($"SELECT event_date, path, CAST(status AS INTEGER) AS status, CAST(bytes AS BIGINT) AS bytes, client_ip FROM {i.Events}")),
    ];

    /// <summary>The names gold knows.</summary>
    internal static IEnumerable<string> Names => Known.Select(o => o.Table);

    /// <summary>
    /// The outputs <paramref name="definition"/> lists, refusing a name gold does not know and an output whose columns the dataset
    /// lacks (a definition file is user input: the message names the output and what is missing).
    /// </summary>
    internal static IReadOnlyList<GoldOutput> For(DatasetDefinition definition)
    {
        var result = new List<GoldOutput>();
        foreach (var name in definition.GoldOutputs)
        {
            var output = Known.FirstOrDefault(o => o.Table == name)
                ?? throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Dataset {definition.Name} lists gold output '{name}', which gold does not know (it knows: {string.Join(", ", Names)}).");
            var missing = output.Columns.Where(c => definition.Columns.All(d => d.Name != c)).ToList();
            if (missing.Count > 0)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Dataset {definition.Name} lists gold output '{name}', which needs the column(s) {string.Join(", ", missing)} that the dataset does not have.");
            result.Add(output);
        }
        return result;
    }
}
