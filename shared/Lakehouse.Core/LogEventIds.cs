namespace Lakehouse.Core;

/// <summary>
/// The first event id of each assembly's <c>[LoggerMessage]</c> events. Ids are stable once released (operators filter and
/// alert on them), unique across the product, and each assembly numbers its events from its base upwards in one
/// <c>Log</c> class of its own. Messages never carry a secret: no key, SAS, token or connection string.
/// </summary>
public static class LogEventIds
{
    /// <summary>Lakehouse.Engine (DuckDB): 1000–1999.</summary>
    public const int Engine = 1000;

    /// <summary>Lakehouse.Storage (local disk, Azure Blob/ADLS): 2000–2999.</summary>
    public const int Storage = 2000;

    /// <summary>Lakehouse.Delta (log, scans, writes, maintenance): 3000–3999.</summary>
    public const int Delta = 3000;

    /// <summary>Lakehouse.Sql (read-only SQL over the lake): 4000–4999.</summary>
    public const int Sql = 4000;

    /// <summary>Lakehouse.Bronze (sources, the bronze writer, the simulator's sinks): 5000–5999.</summary>
    public const int Bronze = 5000;

    /// <summary>Lakehouse.Silver (parse, expectations, quarantine, dedupe, incremental runs): 6000–6999.</summary>
    public const int Silver = 6000;

    /// <summary>Lakehouse.Gold (aggregates, windows, alerts, Synapse serving): 7000–7999.</summary>
    public const int Gold = 7000;

    /// <summary>Lakehouse.Serve (dashboard, HTTP ingest, /metrics, /progress) beyond its first ingest events (5550–): 8000–8499.</summary>
    public const int Serve = 8000;

    /// <summary>Lakehouse.Pipelines (ADF files, the local runner, expressions, state store, triggers): 8500–8999.</summary>
    public const int Pipelines = 8500;

    /// <summary>Lakehouse.Cli (the lakehouse command): 9000–9999.</summary>
    public const int Cli = 9000;
}
