using System.Text.Json.Nodes;
using Lakehouse.Pipelines.Expressions;

namespace Lakehouse.Pipelines.Tests.Expressions;

/// <summary>A clock that always reads the same instant, so utcnow() has an exact expected value.</summary>
internal sealed class FixedClock(DateTimeOffset now) : TimeProvider
{
    public override DateTimeOffset GetUtcNow() => now;
}

internal static class ExpressionTestContext
{
    /// <summary>The instant of the utcNow() example on Microsoft's page ("2018-04-15T13:00:00.0000000Z").</summary>
    internal static readonly DateTimeOffset Now = new(2018, 4, 15, 13, 0, 0, TimeSpan.Zero);

    /// <summary>The GUID of the guid() example on Microsoft's page.</summary>
    internal static readonly Guid DocGuid = Guid.Parse("c2ecc88d-88c8-4096-912c-d6f2e2b138ce");

    internal static ExpressionContext Create() => new()
    {
        PipelineName = "medallion",
        RunId = "2a7f0c1e-0000-4000-8000-000000000001",
        TriggerTime = new DateTimeOffset(2026, 11, 30, 6, 0, 0, TimeSpan.Zero),
        Parameters = new Dictionary<string, JsonNode?>
        {
            ["myNumber"] = 42,
            ["myString"] = "foo",
            ["firstName"] = "Sophia",
            ["lastName"] = "Owen",
            ["subfield3"] = "b",
            ["nothing"] = null,
        },
        Variables = new Dictionary<string, JsonNode?> { ["numItems"] = 20 },
        Activities = new Dictionary<string, JsonNode?>
        {
            ["Web1"] = JsonNode.Parse("""{"output": {"data": {"rows": 3}, "subfield1": {"subfield2": {"b": {"subfield4": "deep"}}}}, "status": "Succeeded"}"""),
        },
        TriggerBody = JsonNode.Parse("""{"folderPath": "landing/weblogs", "fileName": "part-0001.json"}"""),
        Clock = new FixedClock(Now),
        NewGuid = () => DocGuid,
    };

    internal static string Eval(string value, ExpressionContext? context = null) =>
        AdfExpression.Parse(value).Evaluate(context ?? Create()) is { } node ? node.ToJsonString() : "null";
}
