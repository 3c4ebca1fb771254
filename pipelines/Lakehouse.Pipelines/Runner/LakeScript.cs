using System.Text.Json.Nodes;
using Lakehouse.Engine;
using Lakehouse.Sql;
using Lakehouse.Storage;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Pipelines.Runner;

/// <summary>
/// A Script activity's script run locally: one read-only query over the lake's tables (bronze.x, silver.x, gold.x), as
/// <c>lakehouse sql</c> runs it (<see cref="LakeQuery"/>, DuckDB sandboxed to the lake). The rows come back as JSON objects,
/// at most <see cref="MaxRows"/> of them.
/// </summary>
internal static class LakeScript
{
    internal const int MaxRows = 5000;

    internal static async Task<JsonArray> RunAsync(string lakeRoot, string text, ILoggerFactory? loggerFactory, CancellationToken cancellationToken)
    {
        var root = Path.GetFullPath(lakeRoot);
        using var engine = DuckEngine.Open(new DuckEngineOptions { AllowedDirectories = [root], LoggerFactory = loggerFactory });
        var storage = LakeStorage.Open(root);
        using var lease = engine.Lease();
        var connection = lease.Connection;
        using var query = await LakeQuery.PrepareAsync(engine, connection, storage, text, new LakeSqlOptions { LoggerFactory = loggerFactory }, cancellationToken)
            .ConfigureAwait(false);
        var select = LakeQuery.JsonSafe(connection, query.Sql, cancellationToken);
        var json = connection.Scalar($"SELECT CAST(to_json(list(t)) AS VARCHAR) FROM (SELECT * FROM ({select}) LIMIT {MaxRows}) AS t", cancellationToken) as string;
        return json is null ? [] : JsonNode.Parse(json) as JsonArray ?? [];
    }
}
