using Microsoft.Extensions.Logging;

namespace Lakehouse.Gold.Serving;

/// <summary>
/// The log events of Synapse serving (category Lakehouse.Gold.Synapse, ids 7200–7299 of Lakehouse.Gold's block). No line carries
/// an access token, a SAS or a batch's text.
/// </summary>
internal static partial class SynapseLog
{
    [LoggerMessage(EventId = 7200, EventName = "SynapseScriptGenerated", Level = LogLevel.Information,
        Message = "Synapse script for database {Database}: {Views} views, {Batches} batches")]
    internal static partial void ScriptGenerated(ILogger logger, string database, int views, int batches);

    [LoggerMessage(EventId = 7201, EventName = "SynapseTableSkipped", Level = LogLevel.Debug,
        Message = "{Layer}/{Table} is the lake's bookkeeping (its name starts with '_'): no view")]
    internal static partial void TableSkipped(ILogger logger, string layer, string table);

    [LoggerMessage(EventId = 7202, EventName = "SynapseNotATable", Level = LogLevel.Warning,
        Message = "{Layer}/{Table} has a _delta_log without commits (a table being created?): no view for it this time")]
    internal static partial void NotATable(ILogger logger, string layer, string table);

    [LoggerMessage(EventId = 7210, EventName = "SynapseConnecting", Level = LogLevel.Information,
        Message = "Connecting to {Server}, database {Database}, with a token from {Credential}")]
    internal static partial void Connecting(ILogger logger, string server, string database, string credential);

    [LoggerMessage(EventId = 7211, EventName = "SynapseBatchRan", Level = LogLevel.Debug,
        Message = "Batch {Number} of {Count} ({Title}) ran in {Milliseconds} ms")]
    internal static partial void BatchRan(ILogger logger, int number, int count, string title, long milliseconds);

    [LoggerMessage(EventId = 7212, EventName = "SynapseBatchFailed", Level = LogLevel.Error,
        Message = "Batch {Number} of {Count} ({Title}) failed with SQL error {SqlError}: {SqlMessage}")]
    internal static partial void BatchFailed(ILogger logger, int number, int count, string title, int sqlError, string sqlMessage);

    [LoggerMessage(EventId = 7213, EventName = "SynapseDeployed", Level = LogLevel.Information,
        Message = "Deployed {Batches} batches ({Views} views) to {Server}, database {Database}, in {Milliseconds} ms")]
    internal static partial void Deployed(ILogger logger, int batches, int views, string server, string database, long milliseconds);
}
