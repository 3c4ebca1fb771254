namespace Lakehouse.Gold;

/// <summary>
/// The gold table <c>access_daily</c> for web server access logs: per UTC day and request path, the requests, the response bytes
/// (lines with <c>-</c> count as none), the requests per status class, the share of requests answered 400 or above, and the
/// distinct client addresses. A request without a path (<c>"-"</c>) is counted under the path <c>-</c>. Silver takes any byte count
/// a line states that fits 64 bits, so a sum past BIGINT's range (only absurd lines reach it) is null, not representable: the
/// cast failed the dataset's gold run, and every later one.
/// </summary>
public static class AccessDaily
{
    /// <summary>The table's name under <c>&lt;lake&gt;/gold/</c>.</summary>
    public const string TableName = "access_daily";

    /// <summary>
    /// The aggregate over <paramref name="eventsSql"/>, a DuckDB relation of clean access-log rows with columns <c>event_date</c>
    /// (DATE), <c>path</c>, <c>status</c> (INTEGER), <c>bytes</c> (BIGINT, null for <c>-</c>) and <c>client_ip</c>.
    /// </summary>
    public static string Sql(string eventsSql) => $"""
        SELECT
          event_date,
          coalesce(path, '-') AS path,
          count(*) AS requests,
          TRY_CAST(coalesce(sum(bytes), 0) AS BIGINT) AS bytes,
          count_if(status BETWEEN 100 AND 199) AS status_1xx,
          count_if(status BETWEEN 200 AND 299) AS status_2xx,
          count_if(status BETWEEN 300 AND 399) AS status_3xx,
          count_if(status BETWEEN 400 AND 499) AS status_4xx,
          count_if(status BETWEEN 500 AND 599) AS status_5xx,
          count_if(status >= 400) / count(*) AS error_rate,
          count(DISTINCT client_ip) AS distinct_clients
        FROM ({eventsSql}) AS events
        GROUP BY 1, 2
        """;
}
