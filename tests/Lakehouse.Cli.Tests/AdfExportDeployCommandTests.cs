using System.Text.Json.Nodes;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary><c>lakehouse adf export-arm</c> and <c>lakehouse adf deploy</c> run as a user runs them (a child process).</summary>
public sealed class AdfExportDeployCommandTests : IDisposable
{
    private const string Subscription = "11111111-2222-3333-4444-555555555555";
    private readonly TempDirectory _temp = new("cli-adf-arm");

    public void Dispose() => _temp.Dispose();

    private static string RepoAdf => Path.Combine(TestPaths.RepoRoot, "pipelines", "adf");

    private static Dictionary<string, string> Schemas => new() { ["LAKEHOUSE_ADF_SCHEMAS"] = Path.Combine(TestPaths.Shared, "schemas", "adf") };

    [Fact]
    public async Task ExportArm_RepositoryFolder_WritesCheckedTemplateExit0()
    {
        var output = _temp.Combine("ARMTemplateForFactory.json");

        var r = await CliRunner.RunAsync(Schemas, "adf", "export-arm", "--folder", RepoAdf, "--factory-name", "lakehouse-adf-test", "--out", output);

        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Equal("", r.Stdout);
        Assert.Equal($"ARM template of factory lakehouse-adf-test: 12 resources (1 factory, 6 linkedservices, 3 pipelines, 2 triggers) written to {output}\n", r.Stderr);
        var template = JsonNode.Parse(await File.ReadAllTextAsync(output))!;
        Assert.Equal("lakehouse-adf-test", (string?)template["parameters"]!["factoryName"]!["defaultValue"]);
        Assert.Equal(12, template["resources"]!.AsArray().Count);
        Assert.Contains("[concat(parameters('factoryName'), '/pl_medallion')]", await File.ReadAllTextAsync(output), StringComparison.Ordinal);
        Assert.Equal(["ARMTemplateForFactory.json"], Directory.GetFiles(_temp.Path).Select(Path.GetFileName)); // no temporary file left
    }

    /// <summary>An --out that cannot be the template's file is a usage error naming the option (it failed at the write with .NET's words).</summary>
    [Fact]
    public async Task ExportArm_OutEmptyOrAFolder_UsageErrorNamingIt()
    {
        var empty = await CliRunner.RunAsync(Schemas, "adf", "export-arm", "--folder", RepoAdf, "--out", "");
        var folder = await CliRunner.RunAsync(Schemas, "adf", "export-arm", "--folder", RepoAdf, "--out", _temp.Path);

        Assert.Equal((2, "error: --out must name the template's file (leave it out to write to standard output)\n"), (empty.ExitCode, empty.Stderr));
        Assert.Equal((2, $"error: --out '{_temp.Path}' is a folder: give the template's file, e.g. {Path.Combine(_temp.Path, "ARMTemplateForFactory.json")}\n"), (folder.ExitCode, folder.Stderr));
        Assert.Empty(Directory.GetFileSystemEntries(_temp.Path));
    }

    [Fact]
    public async Task ExportArm_NoOut_TemplateOnStdout()
    {
        var r = await CliRunner.RunAsync(Schemas, "adf", "export-arm", "--folder", RepoAdf);

        Assert.True(r.ExitCode == 0, r.Stderr);
        var template = JsonNode.Parse(r.Stdout)!;
        Assert.Equal("https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", (string?)template["$schema"]);
        Assert.Equal("lakehouse-adf", (string?)template["parameters"]!["factoryName"]!["defaultValue"]);
    }

    [Fact]
    public async Task ExportArm_InvalidPipeline_ProblemsAndNothingWrittenExit1()
    {
        CopyAdf();
        var file = _temp.Combine("adf", "pipeline", "pl_medallion.json");
        var pipeline = JsonNode.Parse(await File.ReadAllTextAsync(file))!;
        pipeline["properties"]!["activities"]![0]!["policy"]!["retry"] = "two";
        await File.WriteAllTextAsync(file, pipeline.ToJsonString());
        var output = _temp.Combine("out.json");

        var r = await CliRunner.RunAsync(Schemas, "adf", "export-arm", "--folder", _temp.Combine("adf"), "--out", output);

        Assert.Equal(1, r.ExitCode);
        Assert.Contains("pl_medallion.json: $.properties.activities[0].policy.retry: overlay:", r.Stdout, StringComparison.Ordinal);
        Assert.EndsWith("problem(s): no template written\n", r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    /// <summary>
    /// Pipeline parameter types in lowercase, as ADF takes them, pass the checks of export-arm, and the template writes them in
    /// the schema's spelling, which Microsoft's case-sensitive enums (and ajv in tests/run.sh) accept.
    /// </summary>
    [Fact]
    public async Task ExportArm_LowerCaseParameterTypes_WrittenInTheSchemasSpellingExit0()
    {
        CopyAdf();
        var file = _temp.Combine("adf", "pipeline", "pl_medallion.json");
        var pipeline = JsonNode.Parse(await File.ReadAllTextAsync(file))!;
        var parameters = pipeline["properties"]!["parameters"]!.AsObject();
        var declared = parameters.ToDictionary(p => p.Key, p => (string)p.Value!["type"]!);
        foreach (var (_, spec) in parameters) spec!["type"] = ((string)spec["type"]!).ToLowerInvariant();
        await File.WriteAllTextAsync(file, pipeline.ToJsonString());

        var r = await CliRunner.RunAsync(Schemas, "adf", "export-arm", "--folder", _temp.Combine("adf"));

        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        var medallion = JsonNode.Parse(r.Stdout)!["resources"]!.AsArray().Single(x => (string?)x!["name"] == "[concat(parameters('factoryName'), '/pl_medallion')]")!;
        Assert.Equal(declared, medallion["properties"]!["parameters"]!.AsObject().ToDictionary(p => p.Key, p => (string)p.Value!["type"]!));
        Assert.Contains(declared.Values, t => t.Any(char.IsUpper)); // the files spell them as the schema does: the casing was changed
    }

    [Fact]
    public async Task ExportArm_ReferenceToMissingPipeline_ErrorExit1()
    {
        CopyAdf();
        File.Delete(_temp.Combine("adf", "pipeline", "pl_rerun_day.json"));

        var r = await CliRunner.RunAsync(Schemas, "adf", "export-arm", "--folder", _temp.Combine("adf"));

        Assert.Equal(1, r.ExitCode);
        Assert.Equal($"error: {_temp.Combine("adf", "pipeline", "pl_backfill.json")}: references pipelines 'pl_rerun_day', which is not in {_temp.Combine("adf")}\n", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public async Task Deploy_WhatIf_PutsInDependsOnOrderWithoutCredentialExit0()
    {
        var r = await CliRunner.RunAsync(Schemas, "adf", "deploy", "--folder", RepoAdf, "--subscription", Subscription, "--resource-group", "lakehouse-rg",
            "--factory", "lakehouse-adf-test", "--what-if");

        Assert.True(r.ExitCode == 0, r.Stderr);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(12, lines.Length);
        const string Factory = $"PUT /subscriptions/{Subscription}/resourceGroups/lakehouse-rg/providers/Microsoft.DataFactory/factories/lakehouse-adf-test";
        Assert.Equal(Factory + "?api-version=2018-06-01", lines[0]);
        Assert.True(Array.IndexOf(lines, Factory + "/pipelines/pl_rerun_day?api-version=2018-06-01") < Array.IndexOf(lines, Factory + "/pipelines/pl_backfill?api-version=2018-06-01"));
        Assert.Equal(Factory + "/triggers/tr_periodic_refresh?api-version=2018-06-01", lines[^1]);
        Assert.Equal("what-if: 12 PUTs, none sent\n", r.Stderr);
    }

    [Theory]
    [InlineData("--subscription", "my-sub", "the subscription must be a subscription id (a GUID), not 'my-sub'")]
    [InlineData("--resource-group", "rg/x", "'rg/x' is not a resource group name")]
    public async Task Deploy_BadTarget_Usage2(string option, string value, string message)
    {
        var args = new Dictionary<string, string> { ["--subscription"] = Subscription, ["--resource-group"] = "rg", ["--factory"] = "f-one" };
        args[option] = value;

        var r = await CliRunner.RunAsync(Schemas, ["adf", "deploy", "--folder", RepoAdf, .. args.SelectMany(a => new[] { a.Key, a.Value }), "--what-if"]);

        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: " + message, r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_MissingFactoryOption_Usage2()
    {
        var r = await CliRunner.RunAsync("adf", "deploy", "--subscription", Subscription, "--resource-group", "rg");
        Assert.Equal(2, r.ExitCode);
        Assert.Equal("error: 'lakehouse adf deploy' needs --factory <name> (see lakehouse adf deploy --help)\n", r.Stderr);
    }

    [Fact]
    public async Task Deploy_NoCredentials_Exit1SaysHowToSignInNoSecretEchoed()
    {
        // An ARM endpoint nobody listens on: the credential is asked for before any request, and none is to be had.
        var environment = new Dictionary<string, string>(Schemas)
        {
            ["LAKEHOUSE_ARM_ENDPOINT"] = "https://127.0.0.1:9",
            ["AZURE_TENANT_ID"] = "",
            ["AZURE_CLIENT_ID"] = "",
            ["AZURE_CLIENT_SECRET"] = "",
            ["AZURE_FEDERATED_TOKEN_FILE"] = "",
            ["IDENTITY_ENDPOINT"] = "",
            ["MSI_ENDPOINT"] = "",
            ["HOME"] = _temp.Path, // no az or azd sign-in cache
        };

        var r = await CliRunner.RunAsync(environment, "adf", "deploy", "--folder", RepoAdf, "--subscription", Subscription, "--resource-group", "rg", "--factory", "f-one");

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: no Azure credential: DefaultAzureCredential found none that works", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("nothing was deployed", r.Stderr, StringComparison.Ordinal);
        Assert.Equal("", r.Stdout);
    }

    private void CopyAdf()
    {
        foreach (var file in Directory.GetFiles(RepoAdf, "*.json", SearchOption.AllDirectories))
        {
            var target = Path.Combine(_temp.Combine("adf"), Path.GetRelativePath(RepoAdf, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
