using System.Text.Json;
using System.Text.Json.Nodes;
using Lakehouse.Core;
using Lakehouse.Pipelines.Expressions;

namespace Lakehouse.Pipelines.Trigger;

/// <summary>
/// What a storage-event trigger says, read from an ADF trigger file (<c>trigger/*.json</c> of type BlobEventsTrigger): the pipeline it
/// starts, the mapping of its parameters from the event (<c>"folderPath": "@triggerBody().folderPath"</c>), and its filters
/// (<c>blobPathBeginsWith</c>, <c>blobPathEndsWith</c>, <c>ignoreEmptyBlobs</c>). The local watch uses the same file as the factory.
/// </summary>
public sealed class BlobEventsTriggerDefinition
{
    private static readonly string[] BodyProperties = ["folderPath", "fileName"];

    private readonly IReadOnlyList<(string Name, JsonNode? Value, AdfExpression? Expression)> _parameters;

    private BlobEventsTriggerDefinition(string name, string pipelineFile, IReadOnlyList<(string, JsonNode?, AdfExpression?)> parameters, string? beginsWith, string? endsWith, bool ignoreEmpty)
    {
        (Name, PipelineFile, _parameters, BlobPathBeginsWith, BlobPathEndsWith, IgnoreEmptyBlobs) = (name, pipelineFile, parameters, beginsWith, endsWith, ignoreEmpty);
    }

    /// <summary>The trigger's name (<c>pipeline().TriggerName</c> of the runs it starts).</summary>
    public string Name { get; }

    /// <summary>The pipeline file the trigger starts.</summary>
    public string PipelineFile { get; }

    /// <summary>The names of the pipeline parameters the trigger sets.</summary>
    public IEnumerable<string> ParameterNames => _parameters.Select(p => p.Name);

    /// <summary>Only blobs whose path (<c>/container/blobs/path</c>) starts with this fire; null for all.</summary>
    public string? BlobPathBeginsWith { get; }

    /// <summary>Only blobs whose path ends with this fire; null for all.</summary>
    public string? BlobPathEndsWith { get; }

    /// <summary>Whether empty blobs are ignored (ADF's default: true).</summary>
    public bool IgnoreEmptyBlobs { get; }

    /// <summary>
    /// Reads a BlobEventsTrigger file. The pipeline it starts is <c>../pipeline/&lt;referenceName&gt;.json</c> beside the trigger's folder
    /// (ADF's Git layout), or <paramref name="pipelineFile"/> when given.
    /// </summary>
    /// <exception cref="LakehouseException">Not a BlobEventsTrigger on BlobCreated events, not one pipeline, a parameter expression that
    /// does not parse, or a pipeline file that does not exist (reason InvalidInput; the message names the file).</exception>
    public static BlobEventsTriggerDefinition Load(string triggerFile, string? pipelineFile = null)
    {
        ArgumentNullException.ThrowIfNull(triggerFile);
        JsonObject doc;
        try
        {
            doc = JsonNode.Parse(Adf.AdfValidator.ReadFile(triggerFile, $"the trigger file '{triggerFile}'"), documentOptions: new JsonDocumentOptions { MaxDepth = 64, AllowDuplicateProperties = false }) as JsonObject
                ?? throw Invalid($"{triggerFile}: the file must hold a JSON object");
        }
        catch (JsonException e)
        {
            throw Invalid($"{triggerFile}: cannot read the trigger: {e.Message}");
        }

        var properties = doc["properties"] as JsonObject ?? throw Invalid($"{triggerFile}: no \"properties\"");
        var type = Text(triggerFile, properties, "type");
        if (type != "BlobEventsTrigger") throw Invalid($"{triggerFile}: a {type ?? "trigger without a type"}, not a BlobEventsTrigger: the watch starts runs on files only");
        var typeProperties = properties["typeProperties"] as JsonObject ?? [];
        if (typeProperties["events"] is JsonArray events && !events.Any(e => e is JsonValue v && v.TryGetValue<string>(out var name) && name == "Microsoft.Storage.BlobCreated"))
            throw Invalid($"{triggerFile}: the trigger does not fire on Microsoft.Storage.BlobCreated");
        if (properties["pipelines"] is not JsonArray { Count: 1 } pipelines || pipelines[0] is not JsonObject entry)
            throw Invalid($"{triggerFile}: the watch starts exactly one pipeline; the trigger must name one in \"pipelines\"");
        var reference = Text(triggerFile, entry["pipelineReference"] as JsonObject, "referenceName") ?? throw Invalid($"{triggerFile}: pipelines[0] has no pipelineReference.referenceName");
        var file = pipelineFile ?? Path.GetFullPath(Path.Combine(Path.GetDirectoryName(Path.GetFullPath(triggerFile))!, "..", "pipeline", reference + ".json"));
        if (!File.Exists(file)) throw Invalid($"{triggerFile}: the pipeline '{reference}' it starts is not at {file} (give --pipeline)");
        var parameters = new List<(string, JsonNode?, AdfExpression?)>();
        foreach (var (name, value) in entry["parameters"] as JsonObject ?? [])
        {
            parameters.Add(value is JsonValue v && v.TryGetValue<string>(out var text)
                ? (name, null, ParseExpression(triggerFile, name, text))
                : (name, value?.DeepClone(), null));
        }

        return new BlobEventsTriggerDefinition(Text(triggerFile, doc, "name") ?? Path.GetFileNameWithoutExtension(triggerFile), file, parameters,
            Text(triggerFile, typeProperties, "blobPathBeginsWith"), Text(triggerFile, typeProperties, "blobPathEndsWith"), Flag(triggerFile, typeProperties, "ignoreEmptyBlobs") ?? true);
    }

    // A value of another JSON type (ignoreEmptyBlobs "false", a number for a path) stopped the watch with .NET's bare "An element of
    // type 'String' cannot be converted to a 'System.Boolean'", naming neither the file nor the property.
    private static string? Text(string file, JsonObject? owner, string property) => owner?[property] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var text) => text,
        var other => throw Invalid($"{file}: \"{property}\" must be a string, not {other.ToJsonString()}"),
    };

    private static bool? Flag(string file, JsonObject owner, string property) => owner[property] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<bool>(out var flag) => flag,
        var other => throw Invalid($"{file}: \"{property}\" must be true or false (a JSON boolean), not {other.ToJsonString()}"),
    };

    /// <summary>
    /// The trigger ADF's portal creates for a pipeline started by a storage event when there is no trigger file: every blob fires, and
    /// the pipeline's parameters named <c>folderPath</c> and <c>fileName</c> (those it declares) get <c>@triggerBody().folderPath</c> and <c>fileName</c>.
    /// </summary>
    public static BlobEventsTriggerDefinition ForPipeline(string pipelineFile)
    {
        ArgumentNullException.ThrowIfNull(pipelineFile);
        JsonObject? declared;
        try
        {
            declared = JsonNode.Parse(Adf.AdfValidator.ReadFile(pipelineFile, $"the pipeline file '{pipelineFile}'"), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false })?["properties"]?["parameters"] as JsonObject;
        }
        catch (JsonException e)
        {
            throw Invalid($"{pipelineFile}: not valid JSON: {e.Message}");
        }

        var parameters = new List<(string, JsonNode?, AdfExpression?)>();
        foreach (var name in BodyProperties.Where(n => declared?.ContainsKey(n) == true))
        {
            parameters.Add((name, null, AdfExpression.Parse($"@triggerBody().{name}")));
        }

        return new BlobEventsTriggerDefinition("watch", Path.GetFullPath(pipelineFile), parameters, null, null, true);
    }

    /// <summary>Whether a blob at <c>/container/blobs/path</c> of <paramref name="size"/> bytes fires the trigger.</summary>
    public bool Matches(string container, string relativePath, long size)
    {
        ArgumentNullException.ThrowIfNull(relativePath);
        if (IgnoreEmptyBlobs && size == 0) return false;
        var blobPath = "/" + container + "/blobs/" + relativePath;
        return (BlobPathBeginsWith is null || blobPath.StartsWith(BlobPathBeginsWith, StringComparison.Ordinal))
            && (BlobPathEndsWith is null || blobPath.EndsWith(BlobPathEndsWith, StringComparison.Ordinal));
    }

    /// <summary>The pipeline parameters of a run started by <paramref name="triggerBody"/>: each mapping evaluated, strings as they are, other values as JSON.</summary>
    /// <exception cref="LakehouseException">An expression fails on this body (e.g. a property the body does not have).</exception>
    public IReadOnlyList<KeyValuePair<string, string>> Parameters(JsonObject triggerBody, DateTimeOffset triggerTime)
    {
        var context = new ExpressionContext { TriggerBody = triggerBody, TriggerName = Name, TriggerType = "BlobEventsTrigger", TriggerTime = triggerTime };
        var result = new List<KeyValuePair<string, string>>();
        foreach (var (name, literal, expression) in _parameters)
        {
            var value = expression is null ? literal : expression.Evaluate(context);
            var text = value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value?.ToJsonString() ?? "";
            result.Add(KeyValuePair.Create(name, text));
        }

        return result;
    }

    private static AdfExpression ParseExpression(string file, string name, string text)
    {
        try
        {
            return AdfExpression.Parse(text);
        }
        catch (LakehouseException e)
        {
            throw Invalid($"{file}: parameter '{name}': {e.Message}");
        }
    }

    private static LakehouseException Invalid(string message) => new(LakehouseErrorReason.InvalidInput, message);
}
