using Azure.Core;
using Azure.Identity;
using Lakehouse.Core;
using Lakehouse.Pipelines.Adf;
using Lakehouse.Testing;

namespace Lakehouse.Pipelines.Tests.Adf;

/// <summary>
/// <see cref="AdfDeployer"/> through the real Azure.ResourceManager SDK against <see cref="ArmStandIn"/>, a local HTTPS server speaking
/// ARM's REST protocol: the PUTs the SDK sends (ids, api-version, bodies, order), and the errors a user sees.
/// </summary>
public sealed class AdfDeployerTests : IAsyncLifetime
{
    private const string Subscription = "11111111-2222-3333-4444-555555555555";
    private const string Token = "test-token-7f3a9c";
    private const string FactoryId = $"/subscriptions/{Subscription}/resourceGroups/lakehouse-rg/providers/Microsoft.DataFactory/factories/lakehouse-adf-test";

    private ArmStandIn _arm = null!;
    private AdfFactoryDefinition _factory = null!;
    private readonly CapturingLoggerFactory _logs = new();

    public async Task InitializeAsync()
    {
        _arm = await ArmStandIn.StartAsync();
        _factory = await AdfFactoryDefinition.LoadAsync(Path.Combine(TestPaths.RepoRoot, "pipelines", "adf"), null);
    }

    public async Task DisposeAsync()
    {
        await _arm.DisposeAsync();
        _logs.Dispose();
    }

    private AdfDeployer Deployer() => new(new AdfDeployOptions
    {
        SubscriptionId = Subscription,
        ResourceGroup = "lakehouse-rg",
        Endpoint = _arm.Endpoint,
        Transport = _arm.Transport(),
        LoggerFactory = _logs,
    });

    [Fact]
    public async Task DeployAsync_RepositoryFactory_PutsEveryResourceOnceInDependsOnOrder()
    {
        var deployer = Deployer();
        var plan = deployer.Plan(_factory, "lakehouse-adf-test");
        var deployed = new List<string>();

        await deployer.DeployAsync(plan, new StaticToken(), s => deployed.Add(s.ResourceId));

        var puts = _arm.Requests.ToList();
        Assert.Equal(12, puts.Count);
        Assert.All(puts, r => Assert.Equal("PUT", r.Method));
        Assert.All(puts, r => Assert.Equal("2018-06-01", r.ApiVersion));
        Assert.All(puts, r => Assert.Equal("Bearer " + Token, r.Authorization));
        Assert.Equal(plan.Select(s => s.ResourceId), puts.Select(r => r.Path));
        Assert.Equal(deployed, puts.Select(r => r.Path));
        Assert.Equal(FactoryId, puts[0].Path);
        Assert.Equal("westeurope", (string?)puts[0].Body!["location"]);
        Assert.Equal("SystemAssigned", (string?)puts[0].Body!["identity"]!["type"]);
        Assert.Equal("Enabled", (string?)puts[0].Body!["properties"]!["publicNetworkAccess"]);
        // Every resource comes after what it references.
        var position = puts.Select((r, i) => (r.Path, i)).ToDictionary(p => p.Path, p => p.i, StringComparer.OrdinalIgnoreCase);
        foreach (var step in plan)
        {
            foreach (var d in step.DependsOn) Assert.True(position[d] < position[step.ResourceId], $"{step.ResourceId} was sent before {d}");
        }

        Assert.True(position[FactoryId + "/linkedservices/ls_keyvault"] < position[FactoryId + "/linkedservices/ls_batch"]);
        Assert.True(position[FactoryId + "/pipelines/pl_rerun_day"] < position[FactoryId + "/pipelines/pl_backfill"]);
        Assert.True(position[FactoryId + "/pipelines/pl_medallion"] < position[FactoryId + "/triggers/tr_landing_blob_created"]);
        // The body is the Git file's properties, unchanged.
        var medallion = puts.Single(r => r.Path.EndsWith("/pipelines/pl_medallion", StringComparison.Ordinal)).Body!;
        var file = System.Text.Json.Nodes.JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(TestPaths.RepoRoot, "pipelines", "adf", "pipeline", "pl_medallion.json")))!;
        Assert.True(System.Text.Json.Nodes.JsonNode.DeepEquals(file["properties"], medallion["properties"]));
        Assert.DoesNotContain(_logs.Events, e => e.Message.Contains(Token, StringComparison.Ordinal));
        Assert.Equal(12, _logs.Events.Count(e => e.Id.Id == LogEventIds.Pipelines + 300));
    }

    [Fact]
    public async Task DeployAsync_PutRefusedWith400_ErrorNamesResourceStatusCodeAndMessageAndStops()
    {
        var deployer = Deployer();
        var plan = deployer.Plan(_factory, "lakehouse-adf-test");
        var refused = FactoryId + "/pipelines/pl_medallion";
        _arm.Failures[refused] = (400, "BadRequest", "The document creation or update failed because of invalid reference 'ls_batch'.");

        var e = await Assert.ThrowsAsync<LakehouseException>(() => deployer.DeployAsync(plan, new StaticToken()));

        Assert.StartsWith($"ARM refused PUT {refused}: 400 (BadRequest): The document creation or update failed because of invalid reference 'ls_batch'.", e.Message, StringComparison.Ordinal);
        var sentBefore = plan.TakeWhile(s => s.ResourceId != refused).Count();
        Assert.Contains($"{sentBefore} of 12 resources were deployed before it", e.Message, StringComparison.Ordinal);
        Assert.False(e.IsTransient);
        Assert.Equal(sentBefore + 1, _arm.Requests.Count); // nothing after the refused PUT
        Assert.DoesNotContain(Token, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeployAsync_NoCredential_ErrorSaysHowToSignInAndNothingIsSent()
    {
        var deployer = Deployer();
        var plan = deployer.Plan(_factory, "lakehouse-adf-test");
        // The environment credential alone, with no AZURE_* variables in its options: what DefaultAzureCredential ends in on a bare machine.
        var credential = new DefaultAzureCredential(new DefaultAzureCredentialOptions
        {
            ExcludeManagedIdentityCredential = true,
            ExcludeWorkloadIdentityCredential = true,
            ExcludeAzureCliCredential = true,
            ExcludeAzurePowerShellCredential = true,
            ExcludeAzureDeveloperCliCredential = true,
            ExcludeVisualStudioCredential = true,
            ExcludeVisualStudioCodeCredential = true,
            ExcludeInteractiveBrowserCredential = true,
            ExcludeEnvironmentCredential = Environment.GetEnvironmentVariable("AZURE_CLIENT_SECRET") is not null,
        });

        var e = await Assert.ThrowsAsync<LakehouseException>(() => deployer.DeployAsync(plan, credential));

        Assert.StartsWith("no Azure credential: DefaultAzureCredential found none that works", e.Message, StringComparison.Ordinal);
        Assert.Contains("nothing was deployed", e.Message, StringComparison.Ordinal);
        Assert.Empty(_arm.Requests);
    }

    [Fact]
    public void Plan_LocationAndNameGiven_OverrideTheFactoryFile()
    {
        var plan = Deployer().Plan(_factory, null, "northeurope");
        Assert.Equal("northeurope", plan[0].Location);
        Assert.EndsWith("/factories/lakehouse-adf", plan[0].ResourceId, StringComparison.Ordinal);
        Assert.Equal(12, plan.Count);
    }

    [Fact]
    public async Task Plan_NoLocationAnywhere_ErrorAsksForLocation()
    {
        using var temp = new TempDirectory("adf-deploy");
        Directory.CreateDirectory(temp.Combine("linkedService"));
        await File.WriteAllTextAsync(temp.Combine("linkedService", "ls_a.json"), """{ "name": "ls_a", "properties": { "type": "AzureKeyVault", "typeProperties": { "baseUrl": "https://kv.vault.azure.net" } } }""");
        var factory = await AdfFactoryDefinition.LoadAsync(temp.Path, "f-one");

        var e = Assert.Throws<LakehouseException>(() => Deployer().Plan(factory));

        Assert.StartsWith("no location for the factory: give --location", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not-a-guid")]
    [InlineData("")]
    public void Options_SubscriptionNotGuid_ArgumentException(string subscription) =>
        Assert.Throws<ArgumentException>(() => new AdfDeployOptions { SubscriptionId = subscription, ResourceGroup = "rg" });

    [Theory]
    [InlineData("rg/other")]
    [InlineData("rg.")]
    [InlineData(" ")]
    public void Options_ResourceGroupInvalid_ArgumentException(string group) =>
        Assert.Throws<ArgumentException>(() => new AdfDeployOptions { SubscriptionId = Subscription, ResourceGroup = group });

    /// <summary>A fixed bearer token: the test's credential (the CLI uses DefaultAzureCredential).</summary>
    private sealed class StaticToken : TokenCredential
    {
        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) => new(Token, DateTimeOffset.UtcNow.AddHours(1));

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) => new(GetToken(requestContext, cancellationToken));
    }
}
