using System.Text.Json.Nodes;
using Lakehouse.Core;
using Lakehouse.Pipelines.Adf;
using Lakehouse.Testing;

namespace Lakehouse.Pipelines.Tests.Adf;

/// <summary><see cref="AdfFactoryDefinition"/> and <see cref="AdfArmTemplate"/>: the factory as one ARM template, checked by <see cref="AdfValidator.ValidateArmTemplate"/>.</summary>
public sealed class AdfArmTemplateTests(AdfSchemaFixture fixture) : IClassFixture<AdfSchemaFixture>, IDisposable
{
    private static readonly string Folder = Path.Combine(TestPaths.RepoRoot, "pipelines", "adf");
    private readonly TempDirectory _temp = new("adf-arm");

    public void Dispose() => _temp.Dispose();

    private static async Task<JsonObject> RepositoryTemplateAsync() => AdfArmTemplate.Build(await AdfFactoryDefinition.LoadAsync(Folder, null));

    private static JsonObject Resource(JsonObject template, string name) =>
        template["resources"]!.AsArray().OfType<JsonObject>().Single(r => (string?)r["name"] == $"[concat(parameters('factoryName'), '/{name}')]");

    private static string[] DependsOn(JsonObject resource) => [.. resource["dependsOn"]!.AsArray().Select(d => (string)d!)];

    [Fact]
    public async Task Build_RepositoryFactory_ValidatesAgainstArmSchema()
    {
        var template = await RepositoryTemplateAsync();

        var problems = fixture.Validator.ValidateArmTemplate("t.json", template.ToJsonString());

        Assert.True(problems.Count == 0, string.Join('\n', problems));
        var resources = template["resources"]!.AsArray();
        Assert.Equal(12, resources.Count);
        Assert.Equal("Microsoft.DataFactory/factories", (string?)resources[0]!["type"]);
        Assert.Equal("lakehouse-adf", (string?)template["parameters"]!["factoryName"]!["defaultValue"]);
        Assert.Equal("westeurope", (string?)template["parameters"]!["location"]!["defaultValue"]);
        Assert.Equal(6, resources.Count(r => (string?)r!["type"] == "Microsoft.DataFactory/factories/linkedservices"));
        Assert.Equal(3, resources.Count(r => (string?)r!["type"] == "Microsoft.DataFactory/factories/pipelines"));
        Assert.Equal(2, resources.Count(r => (string?)r!["type"] == "Microsoft.DataFactory/factories/triggers"));
    }

    [Fact]
    public async Task Build_RepositoryFactory_DependsOnWhatEachResourceReferences()
    {
        var template = await RepositoryTemplateAsync();
        const string Factory = "[variables('factoryId')]";
        static string On(string kind, string name) => $"[concat(variables('factoryId'), '/{kind}/{name}')]";

        Assert.Equal([Factory, On("pipelines", "pl_rerun_day")], DependsOn(Resource(template, "pl_backfill")));
        Assert.Equal([Factory, On("linkedServices", "ls_batch"), On("linkedServices", "ls_synapse_serverless")], DependsOn(Resource(template, "pl_medallion")));
        Assert.Equal([Factory, On("pipelines", "pl_medallion")], DependsOn(Resource(template, "tr_landing_blob_created")));
        Assert.Equal([Factory, On("linkedServices", "ls_batch_storage"), On("linkedServices", "ls_keyvault")], DependsOn(Resource(template, "ls_batch")));
        Assert.Equal([Factory], DependsOn(Resource(template, "ls_keyvault")));
        // Resources are written in an order that deploys: each after what it depends on.
        var names = template["resources"]!.AsArray().Select(r => (string)r!["name"]!).ToList();
        Assert.True(names.IndexOf("[concat(parameters('factoryName'), '/pl_rerun_day')]") < names.IndexOf("[concat(parameters('factoryName'), '/pl_backfill')]"));
        Assert.True(names.IndexOf("[concat(parameters('factoryName'), '/ls_keyvault')]") < names.IndexOf("[concat(parameters('factoryName'), '/ls_batch')]"));
    }

    /// <summary>
    /// Parameter and variable types in another casing (ADF takes "string", "securestring") are written in the schema's spelling, so
    /// the template passes Microsoft's case-sensitive enums here and with ajv (tests/run.sh); other values are kept as written.
    /// </summary>
    [Fact]
    public async Task Build_LowerCaseParameterAndVariableTypes_WrittenInTheSchemasSpellingAndValid()
    {
        await WriteAsync("pipeline", "pl_a", """
            { "activities": [], "parameters": { "day": { "type": "string", "defaultValue": "string" }, "key": { "type": "securestring" }, "n": { "type": "INT" } },
              "variables": { "v": { "type": "array" } } }
            """);
        await WriteAsync("linkedService", "ls_a", """
            { "type": "AzureKeyVault", "parameters": { "vault": { "type": "string" } }, "typeProperties": { "baseUrl": "https://kv.vault.azure.net" } }
            """);

        var template = AdfArmTemplate.Build(await AdfFactoryDefinition.LoadAsync(_temp.Path, "f-one"));

        var pipeline = Resource(template, "pl_a")["properties"]!;
        Assert.Equal(("String", "string", "SecureString", "Int", "Array"), ((string?)pipeline["parameters"]!["day"]!["type"], (string?)pipeline["parameters"]!["day"]!["defaultValue"],
            (string?)pipeline["parameters"]!["key"]!["type"], (string?)pipeline["parameters"]!["n"]!["type"], (string?)pipeline["variables"]!["v"]!["type"]));
        Assert.Equal("String", (string?)Resource(template, "ls_a")["properties"]!["parameters"]!["vault"]!["type"]);
        var problems = fixture.Validator.ValidateArmTemplate("t.json", AdfArmTemplate.ToText(template));
        Assert.True(problems.Count == 0, string.Join('\n', problems));
    }

    /// <summary>A template written elsewhere with lowercase types is checked as ARM and ADF take it: valid; a misspelled type is not.</summary>
    [Fact]
    public async Task ValidateArmTemplate_LowerCaseParameterType_ValidMisspelledRefused()
    {
        var template = await RepositoryTemplateAsync();
        var backfill = Resource(template, "pl_backfill")["properties"]!.AsObject();
        backfill["parameters"] = new JsonObject { ["day"] = new JsonObject { ["type"] = "string" } };
        Assert.Empty(fixture.Validator.ValidateArmTemplate("t.json", template.ToJsonString()));

        backfill["parameters"]!["day"]!["type"] = "strng";
        var problems = fixture.Validator.ValidateArmTemplate("t.json", template.ToJsonString());

        Assert.Contains(problems, p => p.Path.EndsWith(".properties.parameters.day.type", StringComparison.Ordinal) && p.Rule == "microsoft:NotInEnumeration");
    }

    [Fact]
    public async Task ValidateArmTemplate_WrongApiVersion_ProblemAtResource()
    {
        var template = await RepositoryTemplateAsync();
        template["resources"]![3]!["apiVersion"] = "2017-09-01-preview";

        var problems = fixture.Validator.ValidateArmTemplate("t.json", template.ToJsonString());

        Assert.NotEmpty(problems);
        Assert.All(problems, p => Assert.StartsWith("$.resources[3]", p.Path, StringComparison.Ordinal));
        Assert.All(problems, p => Assert.StartsWith("microsoft:", p.Rule, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ValidateArmTemplate_ActivityOfUnknownShape_MicrosoftProblemInsidePipeline()
    {
        var template = await RepositoryTemplateAsync();
        var medallion = Resource(template, "pl_medallion");
        medallion["properties"]!["activities"]![0]!["dependsOn"] = "Silver";

        var problems = fixture.Validator.ValidateArmTemplate("t.json", template.ToJsonString());

        Assert.Contains(problems, p => p.Path.Contains(".properties.activities[0]", StringComparison.Ordinal) && p.Rule.StartsWith("microsoft:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ValidateArmTemplate_DependsOnMissingResource_LakehouseDependsOn()
    {
        var template = await RepositoryTemplateAsync();
        Resource(template, "pl_backfill")["dependsOn"]!.AsArray().Add("[concat(variables('factoryId'), '/pipelines/pl_gone')]");

        var problems = fixture.Validator.ValidateArmTemplate("t.json", template.ToJsonString());

        var p = Assert.Single(problems);
        Assert.Equal("lakehouse:depends-on", p.Rule);
        Assert.Equal("t.json: $.resources[9].dependsOn[2]: lakehouse:depends-on: '[concat(variables('factoryId'), '/pipelines/pl_gone')]' names no resource of the template", p.ToString());
    }

    [Fact]
    public void Escape_StringsStartingWithBracket_DoubledAndUnescapedBack()
    {
        var properties = JsonNode.Parse("""{ "a": "[not an ARM expression]", "b": ["[x", "y["], "c": { "d": "@concat('[', 'x')" }, "n": 3 }""")!;

        var escaped = AdfArmTemplate.Escape(properties);

        Assert.Equal("""{"a":"[[not an ARM expression]","b":["[[x","y["],"c":{"d":"@concat('[', 'x')"},"n":3}""", AdfArmTemplate.ToText(escaped.AsObject(), indented: false));
        Assert.True(JsonNode.DeepEquals(properties, AdfArmTemplate.Unescape(escaped)));
    }

    [Fact]
    public async Task LoadAsync_ReferenceToMissingLinkedService_ErrorNamesFileAndReference()
    {
        await WriteAsync("linkedService", "ls_a", """{ "type": "AzureKeyVault", "typeProperties": { "baseUrl": "https://kv.vault.azure.net" } }""");
        await WriteAsync("pipeline", "pl_a", """{ "activities": [ { "name": "S", "type": "Script", "linkedServiceName": { "referenceName": "ls_gone", "type": "LinkedServiceReference" }, "typeProperties": { "scripts": [] } } ] }""");

        var e = await Assert.ThrowsAsync<LakehouseException>(() => AdfFactoryDefinition.LoadAsync(_temp.Path, "f-one"));

        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Equal($"{_temp.Combine("pipeline", "pl_a.json")}: references linkedservices 'ls_gone', which is not in {_temp.Path}", e.Message);
    }

    /// <summary>A file saved with a UTF-8 byte order mark (as Windows editors write it) is read like one without.</summary>
    [Fact]
    public async Task LoadAsync_FileWithAByteOrderMark_ReadLikeOneWithout()
    {
        await WriteAsync("pipeline", "pl_a", Execute("pl_b"));
        await WriteAsync("pipeline", "pl_b", """{ "activities": [ { "name": "W", "type": "Wait", "typeProperties": { "waitTimeInSeconds": 1 } } ] }""");
        var bom = _temp.Combine("pipeline", "pl_b.json");
        await File.WriteAllBytesAsync(bom, [0xEF, 0xBB, 0xBF, .. await File.ReadAllBytesAsync(bom)]);

        var factory = await AdfFactoryDefinition.LoadAsync(_temp.Path, "f-one");

        Assert.Equal(["pipelines/pl_b", "pipelines/pl_a"], factory.Resources.Select(r => r.Kind + "/" + r.Name));
    }

    [Fact]
    public async Task LoadAsync_PipelinesStartingEachOther_CycleError()
    {
        await WriteAsync("pipeline", "pl_a", Execute("pl_b"));
        await WriteAsync("pipeline", "pl_b", Execute("pl_a"));

        var e = await Assert.ThrowsAsync<LakehouseException>(() => AdfFactoryDefinition.LoadAsync(_temp.Path, "f-one"));

        Assert.Equal("the references between pipelines/pl_a, pipelines/pl_b form a cycle: ARM cannot deploy them in any order", e.Message);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("-lead")]
    [InlineData("under_score")]
    public async Task LoadAsync_InvalidFactoryName_Error(string name)
    {
        var e = await Assert.ThrowsAsync<LakehouseException>(() => AdfFactoryDefinition.LoadAsync(Folder, name));
        Assert.StartsWith($"'{name}' is not a valid factory name", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LoadAsync_NoFactoryFileNoName_ErrorAsksForName()
    {
        await WriteAsync("pipeline", "pl_a", """{ "activities": [] }""");
        var e = await Assert.ThrowsAsync<LakehouseException>(() => AdfFactoryDefinition.LoadAsync(_temp.Path, null));
        Assert.Contains("give the name (--factory-name)", e.Message, StringComparison.Ordinal);
    }

    private static string Execute(string pipeline) =>
        $$"""{ "activities": [ { "name": "Run", "type": "ExecutePipeline", "typeProperties": { "pipeline": { "referenceName": "{{pipeline}}", "type": "PipelineReference" }, "waitOnCompletion": true } } ] }""";

    private async Task WriteAsync(string kind, string name, string properties)
    {
        Directory.CreateDirectory(_temp.Combine(kind));
        await File.WriteAllTextAsync(_temp.Combine(kind, name + ".json"), $$"""{ "name": "{{name}}", "properties": {{properties}} }""");
    }
}
