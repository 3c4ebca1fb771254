using System.Text.Json.Nodes;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Identity;
using Azure.ResourceManager;
using Azure.ResourceManager.Models;
using Azure.ResourceManager.Resources;
using Lakehouse.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Pipelines.Adf;

/// <summary>One PUT of a deployment: the resource's ARM id, its API version, the body and what must be in place before it.</summary>
/// <param name="ResourceId">The full ARM id, e.g. <c>/subscriptions/…/providers/Microsoft.DataFactory/factories/f/pipelines/p</c>.</param>
/// <param name="ApiVersion">The API version of the PUT.</param>
/// <param name="Location">The factory's region (sent with the factory; the SDK's generic resource body carries it on every PUT).</param>
/// <param name="Properties">The resource's <c>properties</c> as the resource provider receives them.</param>
/// <param name="Identity">The factory's managed identity type (<c>SystemAssigned</c>), or null.</param>
/// <param name="DependsOn">The ids of the resources this one references.</param>
public sealed record AdfDeployStep(string ResourceId, string ApiVersion, string Location, JsonObject Properties, string? Identity, IReadOnlyList<string> DependsOn);

/// <summary>Where and how <see cref="AdfDeployer"/> deploys; validated when set.</summary>
public sealed class AdfDeployOptions
{
    private string _subscriptionId = "";
    private string _resourceGroup = "";

    /// <summary>The subscription id (a GUID).</summary>
    /// <exception cref="ArgumentException">Not a GUID.</exception>
    public required string SubscriptionId
    {
        get => _subscriptionId;
        init => _subscriptionId = Guid.TryParse(value, out _) ? value : throw new ArgumentException($"the subscription must be a subscription id (a GUID), not '{value}'", nameof(SubscriptionId));
    }

    /// <summary>The resource group the factory is in (it must exist).</summary>
    /// <exception cref="ArgumentException">Empty, longer than 90 characters, or with characters ARM refuses.</exception>
    public required string ResourceGroup
    {
        get => _resourceGroup;
        init => _resourceGroup = !string.IsNullOrWhiteSpace(value) && value.Length <= 90 && !value.EndsWith('.')
            && value.All(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' or '(' or ')')
            ? value
            : throw new ArgumentException($"'{value}' is not a resource group name: 1 to 90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'", nameof(ResourceGroup));
    }

    /// <summary>The ARM endpoint; null for Azure's public cloud (<c>https://management.azure.com</c>).</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>The HTTP transport; null for the SDK's own. Tests point it at a local stand-in.</summary>
    public HttpPipelineTransport? Transport { get; init; }

    /// <summary>The log of the deployment; no line carries a token or a credential.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;
}

/// <summary>
/// Applies a factory (<see cref="AdfFactoryDefinition"/>, the resources of the template <see cref="AdfArmTemplate"/> writes) through
/// Azure.ResourceManager's generic resources: one PUT per resource, the factory first, then each child after the resources it
/// depends on, each PUT waited for before the next. The credential is the caller's (the CLI passes <see cref="DefaultAzureCredential"/>).
/// </summary>
public sealed class AdfDeployer
{
    private readonly AdfDeployOptions _options;
    private readonly ILogger _log;

    /// <summary>A deployer for the subscription and resource group of <paramref name="options"/>.</summary>
    public AdfDeployer(AdfDeployOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options;
        _log = options.LoggerFactory.CreateLogger<AdfDeployer>();
    }

    /// <summary>The PUTs that deploy <paramref name="factory"/> as <paramref name="factoryName"/>, in order.</summary>
    /// <exception cref="LakehouseException">No location: neither <paramref name="location"/> nor the factory file names one.</exception>
    public IReadOnlyList<AdfDeployStep> Plan(AdfFactoryDefinition factory, string? factoryName = null, string? location = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        var name = factoryName ?? factory.Name;
        var region = location ?? factory.Location
            ?? throw new LakehouseException(LakehouseErrorReason.InvalidInput, "no location for the factory: give --location (e.g. westeurope) or put \"location\" in factory/*.json");
        var factoryId = $"/subscriptions/{_options.SubscriptionId}/resourceGroups/{_options.ResourceGroup}/providers/{AdfFactoryDefinition.FactoryType}/{name}";
        var steps = new List<AdfDeployStep>
        {
            new(factoryId, AdfFactoryDefinition.ApiVersion, region, factory.Properties?.DeepClone().AsObject() ?? [], (string?)factory.Identity?["type"], []),
        };
        foreach (var r in factory.Resources)
        {
            steps.Add(new($"{factoryId}/{r.Kind}/{r.Name}", AdfFactoryDefinition.ApiVersion, region, r.Properties.DeepClone().AsObject(), null,
                [factoryId, .. r.DependsOn.Select(d => factoryId + "/" + d)]));
        }

        return steps;
    }

    /// <summary>Sends the PUTs of <paramref name="plan"/> in order; <paramref name="onDeployed"/> is told of each one done.</summary>
    /// <exception cref="LakehouseException">ARM refused a PUT (the message names the resource, the status and ARM's error code and
    /// message; later resources are not sent), or no credential could be had (reason InvalidInput, no secret in the message).</exception>
    public async Task DeployAsync(IReadOnlyList<AdfDeployStep> plan, TokenCredential credential, Action<AdfDeployStep>? onDeployed = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(credential);
        var clientOptions = new ArmClientOptions();
        if (_options.Endpoint is { } endpoint) clientOptions.Environment = new ArmEnvironment(endpoint, ArmEnvironment.AzurePublicCloud.Audience);
        if (_options.Transport is { } transport) clientOptions.Transport = transport;
        foreach (var type in plan.Select(s => new ResourceIdentifier(s.ResourceId).ResourceType).Distinct())
        {
            clientOptions.SetApiVersion(type, AdfFactoryDefinition.ApiVersion);
        }

        var client = new ArmClient(credential, _options.SubscriptionId, clientOptions);
        var done = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var step in plan)
        {
            var missing = step.DependsOn.FirstOrDefault(d => !done.Contains(d));
            if (missing is not null)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"{step.ResourceId} depends on {missing}, which the plan does not deploy before it");
            var data = new GenericResourceData(new AzureLocation(step.Location))
            {
                Properties = BinaryData.FromString(step.Properties.ToJsonString()),
            };
            if (step.Identity is { } identity) data.Identity = new ManagedServiceIdentity(new ManagedServiceIdentityType(identity));
            AdfDeployLog.Putting(_log, step.ResourceId, step.ApiVersion);
            try
            {
                await client.GetGenericResources().CreateOrUpdateAsync(WaitUntil.Completed, new ResourceIdentifier(step.ResourceId), data, cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException e)
            {
                AdfDeployLog.Refused(_log, step.ResourceId, e.Status, e.ErrorCode ?? "");
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"ARM refused PUT {step.ResourceId}: {Describe(e)}; {done.Count} of {plan.Count} resources were deployed before it, the rest were not sent", e, isTransient: e.Status is 429 or >= 500);
            }
            catch (AuthenticationFailedException e)
            {
                AdfDeployLog.NoCredential(_log, e);
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    "no Azure credential: DefaultAzureCredential found none that works (set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET "
                    + "or AZURE_FEDERATED_TOKEN_FILE, sign in with 'az login', or run where a managed identity is); nothing was deployed" + (done.Count > 0 ? $" after {done.Count} resources" : ""), e);
            }

            done.Add(step.ResourceId);
            onDeployed?.Invoke(step);
        }
    }

    /// <summary>"400 (InvalidPipeline): message", from ARM's error body where there is one.</summary>
    private static string Describe(RequestFailedException e)
    {
        var first = e.Message.Split('\n', 2)[0].Trim();
        return string.IsNullOrEmpty(e.ErrorCode) ? $"{e.Status}: {first}" : $"{e.Status} ({e.ErrorCode}): {first}";
    }
}
