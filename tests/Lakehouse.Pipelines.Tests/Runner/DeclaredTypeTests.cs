using System.Text.Json.Nodes;
using Lakehouse.Core;
using Lakehouse.Pipelines.State;

namespace Lakehouse.Pipelines.Tests.Runner;

/// <summary>
/// Parameter and variable types as ADF has them (Microsoft.DataFactory.json 2018-06-01: parameters String, Int, Float, Bool,
/// Array, Object, SecureString; variables String, Bool, Array), bound as ADF binds them, with errors naming what is wrong.
/// </summary>
public sealed class DeclaredTypeTests : RunnerTestKit
{
    /// <summary>
    /// A Bool variable, the type ADF's schema and API list, runs: its default is a boolean and SetVariable takes a boolean (it
    /// was refused, "'Bool' is not a variable type (String, Boolean, Integer, Array, in any casing)").
    /// </summary>
    [Fact]
    public async Task RunAsync_BoolVariable_StartsAtItsDefaultAndTakesABoolean()
    {
        var file = Pipeline("pl_bool",
        [
            Custom("Before", $"echo @{{variables('done')}} > {Path.Combine(Work, "before")}"),
            Activity("Done", "SetVariable", new JsonObject { ["variableName"] = "done", ["value"] = "@equals(1, 1)" }, null, On("Before", "Succeeded")),
            Custom("After", $"echo @{{if(variables('done'), 'yes', 'no')}} > {Path.Combine(Work, "after")}", null, On("Done", "Succeeded")),
        ], variables: new JsonObject { ["done"] = new JsonObject { ["type"] = "Bool", ["defaultValue"] = false } });

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal(RunStatus.Succeeded, result.Status);
        Assert.Equal("False", (await File.ReadAllTextAsync(Path.Combine(Work, "before"))).Trim());
        Assert.Equal("yes", (await File.ReadAllTextAsync(Path.Combine(Work, "after"))).Trim());
    }

    /// <summary>
    /// "Boolean" and "Integer" are no variable types of ADF (its schema refuses them, and so does <c>adf validate</c>): the
    /// runner refuses them before anything runs, naming the types (it ran them, so a file ADF refuses ran here).
    /// </summary>
    [Theory]
    [InlineData("Boolean", "'Boolean' is not a variable type (String, Bool, Array, in any casing); ADF spells it Bool")]
    [InlineData("Integer", "'Integer' is not a variable type (String, Bool, Array, in any casing)")]
    [InlineData("Int", "'Int' is not a variable type (String, Bool, Array, in any casing)")]
    public async Task RunAsync_VariableTypeAdfDoesNotHave_IsRefusedBeforeAnythingRuns(string type, string expected)
    {
        var marker = Path.Combine(Work, "ran");
        var file = Pipeline("pl_var", [Custom("First", $"touch {marker}")], variables: new JsonObject { ["v"] = new JsonObject { ["type"] = type } });

        var error = await Assert.ThrowsAsync<LakehouseException>(() => CreateRunner().RunAsync(file));

        Assert.Equal(LakehouseErrorReason.InvalidInput, error.Reason);
        Assert.Equal($"{file}: the pipeline cannot run (1 problem, nothing was run):{Environment.NewLine}  {file}: $.properties.variables.v.type: {expected}", error.Message);
        Assert.False(File.Exists(marker));
    }

    /// <summary>A variable's default of another type than the one declared is refused before anything runs, as a parameter's is (it ran with it).</summary>
    [Theory]
    [InlineData("Bool", "\"yes\"", "$.properties.variables.v.defaultValue: variable 'v': the default value 'yes' is not a Bool (true or false)")]
    [InlineData("Array", "\"a,b\"", "$.properties.variables.v.defaultValue: variable 'v': the default value 'a,b' is not a JSON array (such as [\"a\", \"b\"])")]
    public async Task RunAsync_VariableDefaultOfWrongType_IsRefusedBeforeAnythingRuns(string type, string defaultValue, string expected)
    {
        var marker = Path.Combine(Work, "ran");
        var file = Pipeline("pl_var", [Custom("First", $"touch {marker}")],
            variables: new JsonObject { ["v"] = new JsonObject { ["type"] = type, ["defaultValue"] = JsonNode.Parse(defaultValue) } });

        var error = await Assert.ThrowsAsync<LakehouseException>(() => CreateRunner().RunAsync(file));

        Assert.Equal(LakehouseErrorReason.InvalidInput, error.Reason);
        Assert.EndsWith($"{file}: {expected}", error.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(marker));
    }

    /// <summary>
    /// SetVariable with a value of another type than the variable's fails the activity, as ADF fails it (a number went into a
    /// String variable and the run succeeded); the next activity does not run.
    /// </summary>
    [Fact]
    public async Task RunAsync_SetVariableOfWrongType_FailsTheActivityNamingVariableAndTypes()
    {
        var marker = Path.Combine(Work, "ran");
        var file = Pipeline("pl_set",
        [
            Activity("Count", "SetVariable", new JsonObject { ["variableName"] = "n", ["value"] = "@add(1, 2)" }),
            Custom("After", $"touch {marker}", null, On("Count", "Succeeded")),
        ], variables: new JsonObject { ["n"] = new JsonObject { ["type"] = "String" } });

        var result = await CreateRunner().RunAsync(file);

        Assert.Equal(RunStatus.Failed, result.Status);
        var count = result.Activities.Single(a => a.ActivityName == "Count");
        Assert.Equal(RunStatus.Failed, count.Status);
        Assert.Equal("The variable 'n' of type String cannot be set to 3, a value of type Number: it takes only String values.", count.Error);
        Assert.False(File.Exists(marker));
    }

    /// <summary>
    /// A given value that is not of its parameter's type is reported once, naming parameter, declared type and value, and not
    /// as missing ("has no default value: give it" was said of a parameter that was given), whether it has a default or not.
    /// </summary>
    [Theory]
    [InlineData(false, "parameter 'n' of type Int: the value 'abc' is not an Int")]
    [InlineData(true, "parameter 'n' of type Int: the value 'abc' is not an Int")]
    public async Task RunAsync_GivenValueNotOfItsType_ErrorNamesParameterTypeAndValueOnly(bool withDefault, string expected)
    {
        var marker = Path.Combine(Work, "ran");
        var n = new JsonObject { ["type"] = "Int" };
        if (withDefault) n["defaultValue"] = 5;
        var file = Pipeline("pl_param", [Custom("First", $"touch {marker}")], new JsonObject { ["n"] = n });

        var error = await Assert.ThrowsAsync<LakehouseException>(() => CreateRunner().RunAsync(file, new Dictionary<string, string> { ["n"] = "abc" }));

        Assert.Equal(LakehouseErrorReason.InvalidInput, error.Reason);
        Assert.Equal($"{file}: the run's parameters are not valid: {expected}", error.Message);
        Assert.False(File.Exists(marker));
    }
}
