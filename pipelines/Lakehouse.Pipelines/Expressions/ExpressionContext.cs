using System.Text.Json.Nodes;

namespace Lakehouse.Pipelines.Expressions;

/// <summary>
/// What an ADF expression can see while it is evaluated: the run (<c>pipeline()</c>), its parameters and variables, the
/// results of activities that ran (<c>activity('x')</c>), the trigger payload (<c>triggerBody()</c>), the ForEach item
/// (<c>item()</c>), a clock for <c>utcnow()</c> and a GUID source for <c>guid()</c>.
/// </summary>
public sealed class ExpressionContext
{
    private static readonly Dictionary<string, JsonNode?> Empty = new(StringComparer.Ordinal);

    /// <summary>The pipeline's name (<c>pipeline().Pipeline</c>).</summary>
    public string PipelineName { get; init; } = "";

    /// <summary>The run id (<c>pipeline().RunId</c>).</summary>
    public string RunId { get; init; } = "";

    /// <summary>The data factory's name (<c>pipeline().DataFactory</c>); "local" by default.</summary>
    public string DataFactory { get; init; } = "local";

    /// <summary>When the trigger fired (<c>pipeline().TriggerTime</c>), written in ISO 8601 with 7 fractional digits.</summary>
    public DateTimeOffset TriggerTime { get; init; }

    /// <summary>The trigger's type (<c>pipeline().TriggerType</c>), "Manual" by default.</summary>
    public string TriggerType { get; init; } = "Manual";

    /// <summary>The trigger's name (<c>pipeline().TriggerName</c>).</summary>
    public string TriggerName { get; init; } = "";

    /// <summary>Pipeline parameters by name (<c>pipeline().parameters.x</c>).</summary>
    public IReadOnlyDictionary<string, JsonNode?> Parameters { get; init; } = Empty;

    /// <summary>Pipeline variables by name (<c>variables('x')</c>); the runner may pass a live dictionary.</summary>
    public IReadOnlyDictionary<string, JsonNode?> Variables { get; init; } = Empty;

    /// <summary>
    /// Activities that have a result, by name (<c>activity('x')</c>): each value is the activity's result object, e.g.
    /// <c>{"output": {…}, "status": "Succeeded", "error": {…}}</c>, so <c>activity('x').output.y</c> reads its output.
    /// </summary>
    public IReadOnlyDictionary<string, JsonNode?> Activities { get; init; } = Empty;

    /// <summary>The trigger payload (<c>triggerBody()</c>); null when the run was not started by a trigger that has one.</summary>
    public JsonNode? TriggerBody { get; init; }

    /// <summary>Whether <see cref="Item"/> is set: true inside a ForEach iteration.</summary>
    public bool HasItem { get; init; }

    /// <summary>The current ForEach item (<c>item()</c>); meaningful when <see cref="HasItem"/> is true.</summary>
    public JsonNode? Item { get; init; }

    /// <summary>The clock of <c>utcnow()</c>; <see cref="TimeProvider.System"/> by default, a fixed one in tests.</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    /// <summary>The source of <c>guid()</c>; <see cref="Guid.NewGuid"/> by default.</summary>
    public Func<Guid> NewGuid { get; init; } = Guid.NewGuid;
}
