using System.Text.Json.Nodes;
using Lakehouse.Pipelines.Adf;
using Lakehouse.Pipelines.Runner;
using Lakehouse.Testing;

namespace Lakehouse.Pipelines.Tests.Adf;

/// <summary>Loads Microsoft's ADF schema once (about a second) for all the tests of <see cref="AdfValidatorTests"/>.</summary>
public sealed class AdfSchemaFixture
{
    /// <summary>The shared/schemas/adf folder beside the repository.</summary>
    public static string SchemaDirectory => Path.Combine(TestPaths.Shared, "schemas", "adf");

    /// <summary>The validator over the offline schemas.</summary>
    public AdfValidator Validator { get; } = AdfValidator.LoadAsync(SchemaDirectory, CancellationToken.None).GetAwaiter().GetResult();
}

/// <summary><see cref="AdfValidator"/>: the repository's files pass; broken ones name file, JSON path and rule.</summary>
public sealed class AdfValidatorTests(AdfSchemaFixture fixture) : IClassFixture<AdfSchemaFixture>, IDisposable
{
    private const string GoodCustom = """
        {
            "name": "Silver",
            "type": "Custom",
            "policy": { "retry": 2, "retryIntervalInSeconds": 60, "timeout": "0.02:00:00" },
            "linkedServiceName": { "referenceName": "ls_batch", "type": "LinkedServiceReference" },
            "typeProperties": { "command": "lakehouse silver run" }
        }
        """;

    private readonly TempDirectory _temp = new("adf-validate");
    private readonly AdfValidator _validator = fixture.Validator;

    public void Dispose() => _temp.Dispose();

    private static string Pipeline(string activities) => $$"""{ "name": "pl_x", "properties": { "activities": [ {{activities}} ] } }""";

    private IReadOnlyList<AdfProblem> Check(string kind, string text, string name = "pl_x") => _validator.Validate($"{kind}/{name}.json", kind, text);

    [Fact]
    public async Task ValidateFile_EveryRepositoryFile_HasNoProblem()
    {
        var files = AdfValidator.FindFiles(Path.Combine(TestPaths.RepoRoot, "pipelines", "adf"));
        Assert.Equal(12, files.Count);
        Assert.Equal(6, files.Count(f => AdfValidator.KindOf(f) == "linkedService"));
        foreach (var f in files)
        {
            var problems = await _validator.ValidateFileAsync(f, CancellationToken.None);
            Assert.True(problems.Count == 0, string.Join('\n', problems));
        }
    }

    [Fact]
    public void Validate_GoodCustomActivity_HasNoProblem() => Assert.Empty(Check("pipeline", Pipeline(GoodCustom)));

    [Fact]
    public void Validate_ParameterTypeMisspelled_AllowedTypesAtParameterPath()
    {
        var problems = Check("pipeline", """{ "name": "pl_x", "properties": { "activities": [], "parameters": { "day": { "type": "strng" } } } }""");
        var p = Assert.Single(problems);
        Assert.Equal("$.properties.parameters.day.type", p.Path);
        Assert.Equal("microsoft:NotInEnumeration", p.Rule);
        Assert.StartsWith("not one of the allowed types (in any casing, as ADF takes them): Object, String, Int, Float, Bool, Array, SecureString (line 1,", p.Message, StringComparison.Ordinal);
        Assert.Equal("pipeline/pl_x.json", p.File);
    }

    /// <summary>
    /// <c>adf validate</c> (Microsoft's schema) and the local runner accept the same variable and parameter types: String, Bool,
    /// Array for a variable, the seven parameter types, in any casing. The runner refused Bool and took Boolean and Integer.
    /// </summary>
    [Theory]
    [InlineData("variables", "String", true)]
    [InlineData("variables", "Bool", true)]
    [InlineData("variables", "bool", true)]
    [InlineData("variables", "Array", true)]
    [InlineData("variables", "Boolean", false)]
    [InlineData("variables", "Integer", false)]
    [InlineData("variables", "Int", false)]
    [InlineData("variables", "Object", false)]
    [InlineData("parameters", "Int", true)]
    [InlineData("parameters", "Float", true)]
    [InlineData("parameters", "Bool", true)]
    [InlineData("parameters", "Object", true)]
    [InlineData("parameters", "SecureString", true)]
    [InlineData("parameters", "Boolean", false)]
    [InlineData("parameters", "Integer", false)]
    [InlineData("parameters", "SecureObject", false)]
    public void ValidateAndRunner_DeclaredType_AcceptTheSameTypes(string container, string type, bool valid)
    {
        var text = $$"""{ "name": "pl_x", "properties": { "activities": [], "{{container}}": { "v": { "type": "{{type}}" } } } }""";
        var file = _temp.Combine("pl_x.json");
        File.WriteAllText(file, text);

        var problems = Check("pipeline", text);
        var runnerError = Record.Exception(() => PipelineDefinition.Load(file));

        Assert.Equal(valid, problems.Count == 0);
        Assert.Equal(valid, runnerError is null);
        if (!valid)
        {
            Assert.Contains(problems, p => p.Path == $"$.properties.{container}.v.type");
            Assert.Contains($"$.properties.{container}.v.type: '{type}' is not a {(container == "variables" ? "variable" : "parameter")} type", runnerError!.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Validate_RetryAsString_OverlayNamesPolicyRetry()
    {
        var problems = Check("pipeline", Pipeline(GoodCustom.Replace("\"retry\": 2", "\"retry\": \"three\"", StringComparison.Ordinal)));
        var p = Assert.Single(problems, p => p.Rule.StartsWith("overlay:", StringComparison.Ordinal));
        Assert.Equal("$.properties.activities[0].policy.retry", p.Path);
        Assert.Equal("overlay:NotOneOf", p.Rule);
    }

    [Fact]
    public void Validate_TimeoutNotTimespan_OverlayNamesPolicyTimeout()
    {
        var problems = Check("pipeline", Pipeline(GoodCustom.Replace("0.02:00:00", "2 hours", StringComparison.Ordinal)));
        var p = Assert.Single(problems);
        Assert.Equal(("$.properties.activities[0].policy.timeout", "overlay:PatternMismatch"), (p.Path, p.Rule));
    }

    /// <summary>A timeout over ADF's 7 days has the timespan pattern, so the schemas let it through; the local runner crashed on it mid-run.</summary>
    [Fact]
    public void Validate_TimeoutOverSevenDays_PolicyRuleNamesActivityAndValue()
    {
        var p = Assert.Single(Check("pipeline", Pipeline(GoodCustom.Replace("0.02:00:00", "99999.00:00:00", StringComparison.Ordinal))));
        Assert.Equal("pipeline/pl_x.json: $.properties.activities[0].policy.timeout: lakehouse:policy: activity 'Silver': '99999.00:00:00' is longer than 7 days (7.00:00:00), the longest activity timeout ADF allows",
            p.ToString());
    }

    /// <summary>An Until's own timeout has ADF's 90-day limit (it had none; then 7 days, an activity's, which refused what ADF takes); the schemas leave it untyped.</summary>
    [Fact]
    public void Validate_UntilTimeoutOverNinetyDays_PolicyRuleNamesActivityAndValue()
    {
        var p = Assert.Single(Check("pipeline", Pipeline("""
            { "name": "Loop", "type": "Until", "typeProperties": { "expression": { "value": "@equals(1, 1)", "type": "Expression" }, "timeout": "91.00:00:00",
              "activities": [ { "name": "Pause", "type": "Wait", "typeProperties": { "waitTimeInSeconds": 1 } } ] } }
            """)));
        Assert.Equal("pipeline/pl_x.json: $.properties.activities[0].typeProperties.timeout: lakehouse:policy: activity 'Loop': '91.00:00:00' is longer than 90 days (90.00:00:00), the longest timeout ADF allows an Until",
            p.ToString());
    }

    /// <summary>The shared check, which <c>pipeline run</c> makes too, refuses a retry interval under ADF's 30 seconds, as the schema does (it allowed 0).</summary>
    [Theory]
    [InlineData(0, "0 is not a retry interval (whole seconds from 30 to 86400)")]
    [InlineData(29, "29 is not a retry interval (whole seconds from 30 to 86400)")]
    [InlineData(30, null)]
    [InlineData(86400, null)]
    public void Check_RetryIntervalOutsideAdfsRange_PolicyProblem(int seconds, string? message)
    {
        var root = JsonNode.Parse(Pipeline(GoodCustom.Replace("\"retryIntervalInSeconds\": 60", $"\"retryIntervalInSeconds\": {seconds}", StringComparison.Ordinal)))!.AsObject();

        var problems = PipelineChecks.Check(root);

        List<PipelineCheckProblem> expected = message is null ? [] : [new("$.properties.activities[0].policy.retryIntervalInSeconds", "Silver", "lakehouse:policy", message)];
        Assert.Equal(expected, problems);
    }

    [Fact]
    public void Validate_TimeoutOfExactlySevenDays_HasNoProblem() =>
        Assert.Empty(Check("pipeline", Pipeline(GoodCustom.Replace("0.02:00:00", "7.00:00:00", StringComparison.Ordinal))));

    /// <summary>
    /// A parameter type is taken in any casing, as the ADF service takes it (Microsoft's template gallery writes "string", "int",
    /// "securestring"), by <c>adf validate</c> and by the runner alike, although Microsoft's schema compares its enum case-sensitively
    /// (a gap of the schema: shared/schemas/adf/README.md). A type that is none of them in any casing is refused, by both, listing
    /// the types; SecureObject (of ARM templates, not in the schema) among them.
    /// </summary>
    [Theory]
    [InlineData("String", true)]
    [InlineData("Int", true)]
    [InlineData("SecureString", true)]
    [InlineData("string", true)]
    [InlineData("int", true)]
    [InlineData("float", true)]
    [InlineData("BOOL", true)]
    [InlineData("array", true)]
    [InlineData("object", true)]
    [InlineData("securestring", true)]
    [InlineData("strng", false)]
    [InlineData("SecureObject", false)]
    [InlineData("secureobject", false)]
    public void Validate_ParameterTypeInAnyCasing_AcceptedByValidateAndRunnerOtherTypesRefused(string type, bool accepted)
    {
        var text = $$"""{ "name": "pl_x", "properties": { "activities": [], "parameters": { "p": { "type": "{{type}}" } } } }""";

        var validated = Check("pipeline", text);
        var checkedForRun = PipelineChecks.Check(JsonNode.Parse(text)!.AsObject());

        if (accepted)
        {
            Assert.True(validated.Count == 0, string.Join('\n', validated));
            Assert.Empty(checkedForRun);
            return;
        }
        var p = Assert.Single(validated);
        Assert.Equal(("$.properties.parameters.p.type", "microsoft:NotInEnumeration"), (p.Path, p.Rule));
        Assert.StartsWith("not one of the allowed types (in any casing, as ADF takes them): Object, String, Int, Float, Bool, Array, SecureString (line 1,", p.Message, StringComparison.Ordinal);
        var r = Assert.Single(checkedForRun);
        Assert.Equal(new PipelineCheckProblem("$.properties.parameters.p.type", null, "lakehouse:parameter",
            $"'{type}' is not a parameter type (String, Int, Float, Bool, Array, Object, SecureString, in any casing)"), r);
    }

    /// <summary>The types read in any casing are exactly the enums of Microsoft's schema they stand for.</summary>
    [Theory]
    [InlineData("ParameterSpecification")]
    [InlineData("VariableSpecification")]
    [InlineData("GlobalParameterSpecification")]
    public void DeclaredTypes_EachList_IsTheSchemasEnum(string definition)
    {
        var schema = JsonNode.Parse(File.ReadAllText(Path.Combine(AdfSchemaFixture.SchemaDirectory, "microsoft", "2018-06-01", "Microsoft.DataFactory.json")))!;
        var types = definition switch { "ParameterSpecification" => AdfDeclaredTypes.Parameter, "VariableSpecification" => AdfDeclaredTypes.Variable, _ => AdfDeclaredTypes.GlobalParameter };

        var enumeration = schema["definitions"]![definition]!["properties"]!["type"]!["oneOf"]![0]!["enum"]!.AsArray().Select(v => (string)v!);

        Assert.Equal(enumeration.Order(StringComparer.Ordinal), types.Order(StringComparer.Ordinal));
    }

    /// <summary>A lowercase parameter type's default is checked as the type's: "abc" is no int, whatever the casing of Int.</summary>
    [Fact]
    public void Validate_LowerCaseIntParameterWithTextDefault_ParameterRuleAtDefaultValue()
    {
        var p = Assert.Single(Check("pipeline", """{ "name": "pl_x", "properties": { "activities": [], "parameters": { "n": { "type": "int", "defaultValue": "abc" } } } }"""));
        Assert.Equal(("$.properties.parameters.n.defaultValue", "lakehouse:parameter", "parameter 'n': the default value 'abc' is not an Int"), (p.Path, p.Rule, p.Message));
    }

    /// <summary>Variable types are taken in any casing too (VariableSpecification.type: String, Bool, Array); another type is refused listing them.</summary>
    [Fact]
    public void Validate_VariableTypesInAnyCasing_AcceptedAndMisspelledRefused()
    {
        Assert.Empty(Check("pipeline", """
            { "name": "pl_x", "properties": { "activities": [], "variables": {
                "s": { "type": "string" }, "b": { "type": "bool" }, "a": { "type": "ARRAY", "defaultValue": [] } } } }
            """));

        var p = Assert.Single(Check("pipeline", """{ "name": "pl_x", "properties": { "activities": [], "variables": { "s": { "type": "strng" } } } }"""));
        Assert.Equal(("$.properties.variables.s.type", "microsoft:NotInEnumeration"), (p.Path, p.Rule));
        Assert.StartsWith("not one of the allowed types (in any casing, as ADF takes them): String, Bool, Array (line 1,", p.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// Datasets and linked services declare parameters with the same enum, taken in any casing; a factory's global parameters
    /// have their own, without SecureString, so "securestring" stays refused there.
    /// </summary>
    [Fact]
    public void Validate_DatasetAndGlobalParameterTypesInAnyCasing_EachAgainstItsOwnTypes()
    {
        Assert.Empty(Check("linkedService", """
            { "name": "ls_x", "properties": { "type": "AzureKeyVault", "parameters": { "vault": { "type": "string" }, "n": { "type": "int" } },
                "typeProperties": { "baseUrl": "https://kv.vault.azure.net" } } }
            """, "ls_x"));
        Assert.Empty(Check("factory", """{ "name": "f-one", "properties": { "globalParameters": { "env": { "type": "string", "value": "dev" } } } }""", "f-one"));

        var p = Assert.Single(Check("factory", """{ "name": "f-one", "properties": { "globalParameters": { "key": { "type": "securestring", "value": "x" } } } }""", "f-one"));
        Assert.Equal(("$.properties.globalParameters.key.type", "microsoft:NotInEnumeration"), (p.Path, p.Rule));
        Assert.StartsWith("not one of the allowed types (in any casing, as ADF takes them): Object, String, Int, Float, Bool, Array (line 1,", p.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// <c>pipeline run</c> takes lowercase parameter types and binds them exactly as the types they spell: "int" parses to an
    /// integer, "bool" to a boolean, "array" to a JSON array, and "securestring" is SecureString (the declaration reads as it).
    /// </summary>
    [Fact]
    public void Load_ParameterTypeLowerCase_AcceptedAndBoundLikeTheCanonicalType()
    {
        var file = _temp.Combine("pl_x.json");
        File.WriteAllText(file, """
            { "name": "pl_x", "properties": { "activities": [], "parameters": {
                "n": { "type": "int" }, "flag": { "type": "bool", "defaultValue": "true" }, "days": { "type": "array", "defaultValue": "[\"2024-05-01\"]" },
                "secret": { "type": "securestring" }, "day": { "type": "String" } },
              "variables": { "v": { "type": "array" } } } }
            """);

        var definition = PipelineDefinition.Load(file);
        var values = PipelineValues.Bind(definition, PipelineValues.FromText(new Dictionary<string, string> { ["n"] = "5", ["secret"] = "s3cret", ["day"] = "2024-05-01" }));

        Assert.Equal(["Int", "Bool", "Array", "SecureString", "String"], definition.Parameters.Values.Select(p => PipelineDefinition.Str(p["type"])));
        Assert.Equal("Array", PipelineDefinition.Str(definition.Variables["v"]["type"]));
        Assert.Equal(5L, values["n"]!.GetValue<long>());
        Assert.True(values["flag"]!.GetValue<bool>());
        Assert.Equal("""["2024-05-01"]""", values["days"]!.ToJsonString());
        Assert.Equal("s3cret", values["secret"]!.GetValue<string>());
        var e = Assert.Throws<Lakehouse.Core.LakehouseException>(() => PipelineValues.Bind(definition, PipelineValues.FromText(new Dictionary<string, string> { ["n"] = "x", ["secret"] = "s", ["day"] = "d" })));
        Assert.Equal($"{file}: the run's parameters are not valid: parameter 'n' of type Int: the value 'x' is not an Int", e.Message);
    }

    /// <summary>A parameter's default of another type than the one declared: Microsoft's schema types defaultValue as anything.</summary>
    [Theory]
    [InlineData("Int", "\"abc\"", "parameter 'n': the default value 'abc' is not an Int")]
    [InlineData("Bool", "\"yes\"", "parameter 'n': the default value 'yes' is not a Bool (true or false)")]
    [InlineData("Float", "[1]", "parameter 'n': the default value '[1]' is not a Float")]
    [InlineData("Array", "\"x\"", "parameter 'n': the default value 'x' is not a JSON array (such as [\"a\", \"b\"])")]
    [InlineData("Object", "[]", "parameter 'n': the default value '[]' is not a JSON object (such as {\"a\": 1})")]
    public void Validate_ParameterDefaultOfWrongType_ParameterRuleAtDefaultValue(string type, string defaultValue, string reason)
    {
        var p = Assert.Single(Check("pipeline", $$"""{ "name": "pl_x", "properties": { "activities": [], "parameters": { "n": { "type": "{{type}}", "defaultValue": {{defaultValue}} } } } }"""));
        Assert.Equal(("$.properties.parameters.n.defaultValue", "lakehouse:parameter", reason), (p.Path, p.Rule, p.Message));
    }

    [Fact]
    public void Validate_ParameterDefaultsOfTheirTypes_HaveNoProblem() =>
        Assert.Empty(Check("pipeline", """
            { "name": "pl_x", "properties": { "activities": [], "parameters": {
                "i": { "type": "Int", "defaultValue": 3 }, "f": { "type": "Float", "defaultValue": 1.5 }, "b": { "type": "Bool", "defaultValue": false },
                "a": { "type": "Array", "defaultValue": [1] }, "o": { "type": "Object", "defaultValue": {} }, "s": { "type": "String", "defaultValue": "" },
                "none": { "type": "Int" } } } }
            """));

    /// <summary>What the local runner refuses before a run in an expression, validate refuses too, with the runner's own message.</summary>
    [Theory]
    [InlineData("@frobnicate('x')", "ADF expression error at position 1: unknown function 'frobnicate'.")]
    [InlineData("@concat('abc", "ADF expression error at position 8: the string literal is not closed with a quote (write '' for a quote inside a string).")]
    [InlineData("@pipeline().parameters.nosuch", "ADF expression error at position 22: the pipeline has no parameter 'nosuch'.")]
    public void Validate_ExpressionTheRunnerRefuses_ExpressionRuleAtPath(string command, string reason)
    {
        var p = Assert.Single(Check("pipeline", Pipeline(GoodCustom.Replace("lakehouse silver run", command, StringComparison.Ordinal))));
        Assert.Equal(("$.properties.activities[0].typeProperties.command", "lakehouse:expression", $"activity 'Silver': {reason}"), (p.Path, p.Rule, p.Message));
    }

    [Fact]
    public void Validate_CustomWithoutLinkedService_RequiredPropertyNamed()
    {
        var problems = Check("pipeline", Pipeline("""{ "name": "Silver", "type": "Custom", "typeProperties": { "command": "lakehouse silver run" } }"""));
        var p = Assert.Single(problems);
        Assert.Equal(("$.properties.activities[0].linkedServiceName", "overlay:PropertyRequired"), (p.Path, p.Rule));
        Assert.Contains("required property \"linkedServiceName\" is missing", p.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_RetryOnForEach_OverlayForbidsControlActivityPolicy()
    {
        var problems = Check("pipeline", Pipeline("""{ "name": "Each", "type": "ForEach", "policy": { "retry": 1 }, "typeProperties": { "items": { "value": "@createArray(1)", "type": "Expression" }, "activities": [] } }"""));
        Assert.Contains(problems, p => p is { Path: "$.properties.activities[0].policy", Rule: "overlay:ExcludedSchemaValidates" });
    }

    [Fact]
    public void Validate_ActivityTypeUnknown_MicrosoftNotOneOfAtActivity()
    {
        var problems = Check("pipeline", Pipeline(GoodCustom.Replace("\"Custom\"", "\"Custum\"", StringComparison.Ordinal)));
        Assert.Equal(["$.properties.activities[0]|microsoft:NotOneOf"], problems.Select(p => $"{p.Path}|{p.Rule}"));
    }

    [Fact]
    public void Validate_DependsOnNotArray_MicrosoftNamesField()
    {
        var problems = Check("pipeline", Pipeline(GoodCustom.Replace("\"type\": \"Custom\",", "\"type\": \"Custom\", \"dependsOn\": \"Bronze\",", StringComparison.Ordinal)));
        var p = Assert.Single(problems);
        Assert.Equal(("$.properties.activities[0].dependsOn", "microsoft:NotOneOf"), (p.Path, p.Rule));
    }

    [Fact]
    public void Validate_UnknownTopLevelProperty_NamedWithPath()
    {
        var problems = Check("pipeline", """{ "name": "pl_x", "propertes": {}, "properties": { "activities": [] } }""");
        Assert.Equal(["$.propertes|lakehouse:unknown-property"], problems.Select(p => $"{p.Path}|{p.Rule}"));
    }

    [Fact]
    public void Validate_UnknownPipelineProperty_UnknownPropertyRule()
    {
        var problems = Check("pipeline", """{ "name": "pl_x", "properties": { "activities": [], "retries": 3 } }""");
        var p = Assert.Single(problems);
        Assert.Equal(("$.properties.retries", "lakehouse:unknown-property"), (p.Path, p.Rule));
    }

    [Fact]
    public void Validate_MisspelledActivityProperty_UnknownPropertyAtPath()
    {
        var problems = Check("pipeline", Pipeline(GoodCustom.Replace("\"policy\"", "\"Policy\"", StringComparison.Ordinal)));
        var p = Assert.Single(problems);
        Assert.Equal(("$.properties.activities[0].Policy", "lakehouse:unknown-property"), (p.Path, p.Rule));
    }

    [Fact]
    public void Validate_SecureStringAccountKey_SecretRuleAtPath()
    {
        var problems = Check("linkedService", """
            { "name": "ls_x", "properties": { "type": "CosmosDb", "typeProperties": {
                "accountEndpoint": "https://a.documents.azure.com:443/", "database": "d", "accountKey": { "type": "SecureString", "value": "c2VjcmV0LWtleQ==" } } } }
            """, "ls_x");
        var p = Assert.Single(problems);
        Assert.Equal(("$.properties.typeProperties.accountKey", "lakehouse:secret-in-keyvault"), (p.Path, p.Rule));
        Assert.DoesNotContain("c2VjcmV0LWtleQ==", p.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_KeyInConnectionString_SecretRuleAtPath()
    {
        var problems = Check("linkedService", """
            { "name": "ls_x", "properties": { "type": "AzureBlobStorage", "typeProperties": {
                "connectionString": "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=c2VjcmV0;" } } }
            """, "ls_x");
        var p = Assert.Single(problems);
        Assert.Equal(("$.properties.typeProperties.connectionString", "lakehouse:secret-in-keyvault"), (p.Path, p.Rule));
        Assert.DoesNotContain("c2VjcmV0", p.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DependsOnMissingActivity_GraphRule()
    {
        var second = """, { "name": "Gold", "type": "Wait", "dependsOn": [ { "activity": "Silvr", "dependencyConditions": [ "Succeeded" ] } ], "typeProperties": { "waitTimeInSeconds": 1 } }""";
        var problems = Check("pipeline", Pipeline(GoodCustom + second));
        var p = Assert.Single(problems);
        Assert.Equal(("$.properties.activities[1].dependsOn[0].activity", "lakehouse:depends-on"), (p.Path, p.Rule));
    }

    /// <summary>
    /// dependsOn in a circle — an activity on itself, three siblings round, and two inside a ForEach — is found when the file is
    /// checked, as the local runner finds it before a run (before, validate passed such a file and only pipeline run refused it).
    /// </summary>
    [Fact]
    public void Validate_DependsOnInACircle_GraphRuleAtEachActivityOfIt()
    {
        static string Wait(string name, params string[] upstream) =>
            $$"""{ "name": "{{name}}", "type": "Wait", "dependsOn": [ {{string.Join(", ", upstream.Select(u => $$"""{ "activity": "{{u}}", "dependencyConditions": [ "Succeeded" ] }"""))}} ], "typeProperties": { "waitTimeInSeconds": 1 } }""";
        var loop = $$"""{ "name": "Loop", "type": "ForEach", "typeProperties": { "items": { "value": "@createArray(1)", "type": "Expression" }, "activities": [ {{Wait("In1", "In2")}}, {{Wait("In2", "In1")}} ] } }""";
        var activities = string.Join(", ", Wait("Self", "Self"), Wait("A", "C"), Wait("B", "A"), Wait("C", "B"), Wait("After", "C"), Wait("Free"), loop);
        var problems = Check("pipeline", Pipeline(activities));
        Assert.Equal(
            [
                "$.properties.activities[0].dependsOn", "$.properties.activities[1].dependsOn", "$.properties.activities[2].dependsOn",
                "$.properties.activities[3].dependsOn", "$.properties.activities[6].typeProperties.activities[0].dependsOn",
                "$.properties.activities[6].typeProperties.activities[1].dependsOn",
            ],
            problems.Select(p => p.Path));
        Assert.All(problems, p => Assert.Equal("lakehouse:depends-on", p.Rule));
        Assert.Contains("dependsOn goes round in a circle through 'B'", problems[2].Message, StringComparison.Ordinal);
    }

    /// <summary>A file nested deeper than 128 levels is one short problem (the reader's message carried a path of 128 "[0]"s).</summary>
    [Fact]
    public void Validate_NestedTooDeep_OneShortProblem()
    {
        var problems = Check("pipeline", new string('[', 100_000) + new string(']', 100_000));
        var p = Assert.Single(problems);
        Assert.Equal("pipeline/pl_x.json: $: lakehouse:json: nests arrays and objects deeper than 128 levels (line 1, position 129); an ADF resource does not", p.ToString());
    }

    [Fact]
    public void Validate_DuplicateActivityName_UniqueRule()
    {
        var problems = Check("pipeline", Pipeline(GoodCustom + "," + GoodCustom));
        Assert.Equal(["$.properties.activities[1].name|lakehouse:unique-activity"], problems.Select(p => $"{p.Path}|{p.Rule}"));
    }

    [Fact]
    public void Validate_NameDiffersFromFileName_NameRule()
    {
        var problems = _validator.Validate("pipeline/pl_y.json", "pipeline", Pipeline(GoodCustom));
        Assert.Equal(["$.name|lakehouse:name"], problems.Select(p => $"{p.Path}|{p.Rule}"));
    }

    [Theory]
    [InlineData("", "the file is empty")]
    [InlineData("   \n", "the file is empty")]
    [InlineData("{ \"name\": \"pl_x\", ", "not valid JSON")]
    [InlineData("{ \"name\": \"pl_x\", \"name\": \"pl_y\", \"properties\": {} }", "not valid JSON")]
    [InlineData("[1, 2]", "must hold a JSON object, not Array")]
    [InlineData("{ \"name\": \"pl_x\", \"properties\": {} } {}", "not valid JSON: Additional text")]
    public void Validate_MalformedText_OneJsonProblem(string text, string reason)
    {
        var p = Assert.Single(Check("pipeline", text));
        Assert.Equal("lakehouse:json", p.Rule);
        Assert.Contains(reason, p.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_DeeplyNested_JsonProblemNotCrash()
    {
        var text = "{ \"name\": \"pl_x\", \"properties\": " + new string('[', 5000) + new string(']', 5000) + " }";
        var p = Assert.Single(Check("pipeline", text));
        Assert.Equal("lakehouse:json", p.Rule);
    }

    [Fact]
    public async Task ValidateFile_UnknownFolder_KindProblem()
    {
        Directory.CreateDirectory(_temp.Combine("pipelines"));
        var file = _temp.Combine("pipelines", "pl_x.json");
        await File.WriteAllTextAsync(file, Pipeline(GoodCustom));
        var p = Assert.Single(await _validator.ValidateFileAsync(file, CancellationToken.None));
        Assert.Equal((file, "$", "lakehouse:kind"), (p.File, p.Path, p.Rule));
        Assert.Contains("pipeline/", p.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateFile_OverSizeLimit_SizeProblemUnread()
    {
        Directory.CreateDirectory(_temp.Combine("pipeline"));
        var file = _temp.Combine("pipeline", "pl_big.json");
        await using (var s = File.Create(file)) s.SetLength(AdfValidator.MaxFileBytes + 1);
        var p = Assert.Single(await _validator.ValidateFileAsync(file, CancellationToken.None));
        Assert.Equal("lakehouse:size", p.Rule);
        Assert.Contains((AdfValidator.MaxFileBytes + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), p.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ValidateFile_Missing_FileProblem()
    {
        var p = Assert.Single(await _validator.ValidateFileAsync(_temp.Combine("trigger", "none.json"), CancellationToken.None));
        Assert.Equal(("lakehouse:file", "no such file"), (p.Rule, p.Message));
    }

    [Fact]
    public void Validate_BlobTriggerWithoutScope_MicrosoftNamesTrigger()
    {
        var problems = Check("trigger", """
            { "name": "tr_x", "properties": { "type": "BlobEventsTrigger", "pipelines": [], "typeProperties": { "events": [ "Microsoft.Storage.BlobCreated" ] } } }
            """, "tr_x");
        var p = Assert.Single(problems);
        Assert.Equal(("$.properties.typeProperties.scope", "microsoft:PropertyRequired"), (p.Path, p.Rule));
    }

    [Fact]
    public async Task LoadAsync_MissingSchemaFolder_SaysWhichFile()
    {
        var e = await Assert.ThrowsAsync<FileNotFoundException>(() => AdfValidator.LoadAsync(_temp.Path, CancellationToken.None));
        Assert.Contains("Microsoft.DataFactory.json", e.Message, StringComparison.Ordinal);
    }
}
