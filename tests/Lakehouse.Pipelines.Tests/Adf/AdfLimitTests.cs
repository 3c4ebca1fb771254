using System.Text.Json.Nodes;
using Lakehouse.Core;
using Lakehouse.Pipelines.Runner;
using Lakehouse.Testing;

namespace Lakehouse.Pipelines.Tests.Adf;

/// <summary>
/// ADF's limits on a pipeline (<c>lakehouse:limit</c>, and an expression's length): <c>adf validate</c> and the runner, which share
/// <see cref="PipelineChecks"/>, refuse the same pipelines with the same words. Both took every one of them before.
/// </summary>
public sealed class AdfLimitTests(AdfSchemaFixture fixture) : IClassFixture<AdfSchemaFixture>, IDisposable
{
    private readonly TempDirectory _temp = new("adf-limits");

    public void Dispose() => _temp.Dispose();

    private static JsonObject Wait(string name) => new() { ["name"] = name, ["type"] = "Wait", ["typeProperties"] = new JsonObject { ["waitTimeInSeconds"] = 1 } };

    private static JsonObject Set(string name) =>
        new() { ["name"] = name, ["type"] = "SetVariable", ["typeProperties"] = new JsonObject { ["variableName"] = "v", ["value"] = "x" } };

    private static JsonObject Loop(string type, string name, JsonNode? isSequential, params JsonObject[] inner)
    {
        var properties = new JsonObject { ["activities"] = new JsonArray(inner) };
        if (type == "ForEach") properties["items"] = new JsonObject { ["value"] = "@createArray(1, 2)", ["type"] = "Expression" };
        else properties["expression"] = new JsonObject { ["value"] = "@equals(1, 1)", ["type"] = "Expression" };
        if (isSequential is not null) properties["isSequential"] = isSequential;
        return new JsonObject { ["name"] = name, ["type"] = type, ["typeProperties"] = properties };
    }

    private static JsonObject If(string name, params JsonObject[] inner) => new()
    {
        ["name"] = name,
        ["type"] = "IfCondition",
        ["typeProperties"] = new JsonObject
        {
            ["expression"] = new JsonObject { ["value"] = "@equals(1, 1)", ["type"] = "Expression" },
            ["ifTrueActivities"] = new JsonArray(inner),
        },
    };

    private static string Document(IEnumerable<JsonObject> activities, JsonObject? parameters = null)
    {
        var properties = new JsonObject
        {
            ["activities"] = new JsonArray(activities.ToArray<JsonNode>()),
            ["variables"] = new JsonObject { ["v"] = new JsonObject { ["type"] = "String" } },
        };
        if (parameters is not null) properties["parameters"] = parameters;
        return new JsonObject { ["name"] = "pl_x", ["properties"] = properties }.ToJsonString();
    }

    /// <summary>What <c>adf validate</c> says of the document (rule, path, message), and what the runner's refusal says (null: it would run).</summary>
    private (List<(string Rule, string Path, string Message)> Validate, string? Runner) Both(string document)
    {
        var problems = fixture.Validator.Validate("pipeline/pl_x.json", "pipeline", document).Select(p => (p.Rule, p.Path, p.Message)).ToList();
        var file = _temp.Combine("pl_x.json");
        File.WriteAllText(file, document);
        try
        {
            PipelineDefinition.Load(file);
            return (problems, null);
        }
        catch (LakehouseException e)
        {
            return (problems, e.Message);
        }
    }

    private void AssertRefusedByBoth(string document, string rule, string path, string? activity, string message)
    {
        var (validate, runner) = Both(document);
        Assert.Equal([(rule, path, activity is null ? message : $"activity '{activity}': {message}")], validate);
        Assert.NotNull(runner);
        Assert.Contains(activity is null ? $"{path}: {message}" : $"{path} (activity '{activity}'): {message}", runner, StringComparison.Ordinal);
    }

    private void AssertTakenByBoth(string document)
    {
        var (validate, runner) = Both(document);
        Assert.Empty(validate);
        Assert.Null(runner);
    }

    private const string Nested = "ADF cannot nest a ForEach in a ForEach or an Until; put the inner loop in a pipeline of its own and run that with ExecutePipeline";

    [Fact]
    public void ForEachInsideAForEach_RefusedAtTheInnerOne() =>
        AssertRefusedByBoth(Document([Loop("ForEach", "Outer", true, Loop("ForEach", "Inner", true, Wait("Pause")))]),
            "lakehouse:limit", "$.properties.activities[0].typeProperties.activities[0]", "Inner", $"a ForEach inside ForEach 'Outer': {Nested}");

    [Fact]
    public void ForEachInsideAnIfInsideAnUntil_Refused() =>
        AssertRefusedByBoth(Document([Loop("Until", "Again", null, If("Check", Loop("ForEach", "Inner", true, Wait("Pause"))))]),
            "lakehouse:limit", "$.properties.activities[0].typeProperties.activities[0].typeProperties.ifTrueActivities[0]", "Inner",
            $"a ForEach inside Until 'Again': {Nested}");

    /// <summary>Loops that ADF takes: an Until inside a ForEach, a ForEach inside an If, two ForEach side by side.</summary>
    [Fact]
    public void LoopsAdfTakes_NoProblem() =>
        AssertTakenByBoth(Document([
            Loop("ForEach", "Outer", true, Loop("Until", "Again", null, Wait("Pause"))),
            If("Check", Loop("ForEach", "Inner", true, Wait("Pause2"))),
            Loop("ForEach", "Beside", null, Wait("Pause3")),
        ]));

    private const string ParallelSet = "SetVariable 'Keep' is inside this ForEach, whose iterations run in parallel (isSequential is not true): ADF's variables belong to the whole pipeline, " +
        "so the iterations would overwrite each other's value (ADF refuses it); make the loop sequential, collect the values with AppendVariable, or set the variable in a pipeline run by ExecutePipeline";

    /// <summary>A SetVariable in a ForEach that runs in parallel (isSequential absent or false), also deeper inside it; the last value was whichever iteration ended last.</summary>
    [Theory]
    [InlineData(null, false)]
    [InlineData("false", false)]
    [InlineData(null, true)]
    public void SetVariableInAParallelForEach_RefusedAtTheLoop(string? isSequential, bool insideAnIf)
    {
        var set = Set("Keep");
        var document = Document([Loop("ForEach", "Each", isSequential is null ? null : JsonNode.Parse(isSequential), insideAnIf ? If("Check", set) : set)]);

        AssertRefusedByBoth(document, "lakehouse:limit", "$.properties.activities[0].typeProperties.activities", "Each", ParallelSet);
    }

    /// <summary>A sequential loop may set a variable (an isSequential written as an expression is checked when the loop runs: Microsoft's schema takes none).</summary>
    [Fact]
    public void SetVariableInASequentialForEach_NoProblem() =>
        AssertTakenByBoth(Document([Loop("ForEach", "Each", true, Set("Keep"))]));

    [Fact]
    public void ActivitiesPastAdfsLimit_RefusedCountingInnerOnes()
    {
        JsonObject[] Inner(int n) => [.. Enumerable.Range(0, n).Select(i => Wait($"W{i}"))];
        AssertTakenByBoth(Document([Loop("ForEach", "Each", null, Inner(PipelineChecks.MaxActivities - 1))]));

        AssertRefusedByBoth(Document([Loop("ForEach", "Each", null, Inner(PipelineChecks.MaxActivities))]), "lakehouse:limit", "$.properties.activities", null,
            "the pipeline has 121 activities, the inner activities of its ForEach, Until, IfCondition and Switch activities included; ADF allows at most 120 per pipeline: " +
            "move some into pipelines of their own, run by ExecutePipeline");
    }

    [Fact]
    public void ParametersPastAdfsLimit_Refused()
    {
        JsonObject Parameters(int n) => new(Enumerable.Range(0, n).Select(i => KeyValuePair.Create($"p{i}", (JsonNode?)new JsonObject { ["type"] = "String" })));
        AssertTakenByBoth(Document([Wait("Pause")], Parameters(PipelineChecks.MaxParameters)));

        AssertRefusedByBoth(Document([Wait("Pause")], Parameters(PipelineChecks.MaxParameters + 1)), "lakehouse:limit", "$.properties.parameters", null,
            "the pipeline declares 51 parameters; ADF allows at most 50 per pipeline");
    }

    /// <summary>An expression of more than ADF's 8,192 characters (the value as written); a literal of any length is not an expression.</summary>
    [Fact]
    public void ExpressionPastAdfsLength_Refused()
    {
        static JsonObject Command(string value) =>
            new()
            {
                ["name"] = "Run",
                ["type"] = "Custom",
                ["linkedServiceName"] = new JsonObject { ["referenceName"] = "ls_batch", ["type"] = "LinkedServiceReference" },
                ["typeProperties"] = new JsonObject { ["command"] = value }
            };
        string Expression(int length) => "@concat('" + new string('a', length - "@concat('')".Length) + "')";
        Assert.Equal(8192, Expression(8192).Length);
        AssertTakenByBoth(Document([Command(Expression(8192))]));
        AssertTakenByBoth(Document([Command(new string('a', 20_000))]));

        AssertRefusedByBoth(Document([Command(Expression(8193))]), "lakehouse:expression", "$.properties.activities[0].typeProperties.command", "Run",
            "the expression is 8193 characters long; ADF allows at most 8192 characters per expression");
    }
}
