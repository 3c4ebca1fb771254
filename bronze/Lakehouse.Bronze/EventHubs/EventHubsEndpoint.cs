using Azure.Core;
using Azure.Identity;
using Azure.Messaging.EventHubs;
using Lakehouse.Core;

namespace Lakehouse.Bronze.EventHubs;

/// <summary>
/// An event hub named by <c>eventhubs://&lt;namespace host&gt;/&lt;hub&gt;</c>, and how to connect to it: the connection string in
/// <see cref="ConnectionStringVariable"/> when set (its endpoint must be the URI's namespace, its EntityPath, if any, the URI's
/// hub), otherwise a <c>DefaultAzureCredential</c> (environment, workload identity, managed identity, Azure CLI…) for the namespace.
/// </summary>
internal sealed record EventHubsEndpoint(string Namespace, int? Port, string Hub)
{
    /// <summary>The environment variable holding an Event Hubs connection string (namespace or hub level).</summary>
    public const string ConnectionStringVariable = "LAKEHOUSE_EVENTHUBS_CONNECTION_STRING";

    private const string Example = "eventhubs://mynamespace.servicebus.windows.net/myhub";

    /// <summary>Parses an <c>eventhubs://</c> URI.</summary>
    public static EventHubsEndpoint Parse(string uri)
    {
        ArgumentNullException.ThrowIfNull(uri);
        // What follows an '@' of a user part, or a '?' or '#', may be a password or a signature, which no message may show (the
        // messages below show the URI whole).
        if (uri.Contains('@', StringComparison.Ordinal))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"The Event Hubs address holds user information ('…@'), which is not taken: an Event Hubs address is eventhubs://<namespace host>/<event hub> (credentials go in {ConnectionStringVariable}).");
        if (uri.IndexOfAny(['?', '#']) is var query and >= 0)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"'{uri[..query]}…' has a query or fragment; an Event Hubs address is eventhubs://<namespace host>/<event hub> (credentials go in {ConnectionStringVariable}).");
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || !parsed.Scheme.Equals("eventhubs", StringComparison.OrdinalIgnoreCase) || parsed.Host.Length == 0)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"'{uri}' is not an Event Hubs address: expected eventhubs://<namespace host>/<event hub>, e.g. {Example}.");
        var segments = parsed.AbsolutePath.Trim('/').Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (segments.Length != 1)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"'{uri}' must name exactly one event hub after the namespace, e.g. {Example}.");
        return new EventHubsEndpoint(parsed.Host, parsed.IsDefaultPort ? null : parsed.Port, Uri.UnescapeDataString(segments[0]));
    }

    /// <summary>The namespace as the lease folders and messages name it: host, and port when one is given.</summary>
    public string NamespaceAndPort => Port is { } p ? $"{Namespace}:{p}" : Namespace;

    /// <summary>Opens a connection to the hub; <paramref name="credential"/> replaces DefaultAzureCredential when no connection string is set.</summary>
    public (EventHubConnection Connection, string Authentication) Connect(Func<string, string?> setting, EventHubConnectionOptions options, TokenCredential? credential = null)
    {
        ArgumentNullException.ThrowIfNull(setting);
        var connectionString = setting(ConnectionStringVariable);
        if (string.IsNullOrWhiteSpace(connectionString))
            return (new EventHubConnection(Namespace, Hub, credential ?? new DefaultAzureCredential(), options), credential is null ? "DefaultAzureCredential" : credential.GetType().Name);

        EventHubsConnectionStringProperties properties;
        try
        {
            properties = EventHubsConnectionStringProperties.Parse(connectionString);
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"{ConnectionStringVariable} is not an Event Hubs connection string (Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…).", e);
        }
        if (properties.Endpoint is null || (properties.SharedAccessKey is null && properties.SharedAccessSignature is null))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"{ConnectionStringVariable} needs an Endpoint and a SharedAccessKeyName/SharedAccessKey (or SharedAccessSignature).");
        if (!properties.Endpoint.Host.Equals(Namespace, StringComparison.OrdinalIgnoreCase) || (Port is { } port && properties.Endpoint.Port != port))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"{ConnectionStringVariable} is for the namespace '{properties.Endpoint.Authority}', but the address names '{NamespaceAndPort}'.");
        if (properties.EventHubName is { Length: > 0 } entity && !entity.Equals(Hub, StringComparison.OrdinalIgnoreCase))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"{ConnectionStringVariable} is for the event hub '{entity}', but the address names '{Hub}'.");
        var connection = properties.EventHubName is { Length: > 0 }
            ? new EventHubConnection(connectionString, options)
            : new EventHubConnection(connectionString, Hub, options);
        var emulator = connectionString.Contains("UseDevelopmentEmulator=true", StringComparison.OrdinalIgnoreCase);
        return (connection, "connection string" + (emulator ? " (development emulator: no TLS)" : ""));
    }
}
