using System.Data.Common;

namespace Lakehouse.Pipelines.State;

/// <summary>
/// Where the Cosmos DB state store lives. From the environment: <c>LAKEHOUSE_COSMOS_CONNECTION_STRING</c>
/// (<c>AccountEndpoint=…;AccountKey=…;</c>) or <c>LAKEHOUSE_COSMOS_ENDPOINT</c> with <c>LAKEHOUSE_COSMOS_KEY</c>, and
/// <c>LAKEHOUSE_COSMOS_DATABASE</c> (default <c>lakehouse</c>). The key never appears in <see cref="ToString"/> or messages.
/// </summary>
public sealed class CosmosStateOptions
{
    /// <summary>The account endpoint, e.g. <c>https://myaccount.documents.azure.com:443/</c>.</summary>
    public Uri? Endpoint { get; init; }

    /// <summary>The account key (a secret: never logged).</summary>
    public string? Key { get; init; }

    /// <summary>The database; created when missing.</summary>
    public string Database { get; init; } = "lakehouse";

    /// <summary>Prefix of the three container names (<c>runs</c>, <c>activities</c>, <c>files</c>).</summary>
    public string ContainerPrefix { get; init; } = "pipeline-";

    /// <summary>Reads the options from environment variables (or <paramref name="environment"/> when given).</summary>
    public static CosmosStateOptions FromEnvironment(IReadOnlyDictionary<string, string?>? environment = null)
    {
        string? Get(string name) => environment is null ? Environment.GetEnvironmentVariable(name)
            : environment.TryGetValue(name, out var value) ? value : null;

        var database = Get("LAKEHOUSE_COSMOS_DATABASE") is { Length: > 0 } d ? d : "lakehouse";
        if (Get("LAKEHOUSE_COSMOS_CONNECTION_STRING") is { Length: > 0 } connectionString)
        {
            var builder = new DbConnectionStringBuilder();
            try
            {
                builder.ConnectionString = connectionString;
            }
            catch (ArgumentException)
            {
                // The parser's message quotes the string, key included: say only where it is wrong.
                throw new ArgumentException("LAKEHOUSE_COSMOS_CONNECTION_STRING is not a connection string (expected AccountEndpoint=…;AccountKey=…;).");
            }
            var endpoint = builder.TryGetValue("AccountEndpoint", out var e) ? e as string : null;
            var key = builder.TryGetValue("AccountKey", out var k) ? k as string : null;
            if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
                throw new ArgumentException("LAKEHOUSE_COSMOS_CONNECTION_STRING has no valid AccountEndpoint.");
            return new CosmosStateOptions { Endpoint = uri, Key = key, Database = database }.Validated();
        }
        var endpointText = Get("LAKEHOUSE_COSMOS_ENDPOINT");
        if (string.IsNullOrWhiteSpace(endpointText))
            throw new ArgumentException("Cosmos DB state needs LAKEHOUSE_COSMOS_CONNECTION_STRING, or LAKEHOUSE_COSMOS_ENDPOINT and LAKEHOUSE_COSMOS_KEY.");
        if (!Uri.TryCreate(endpointText, UriKind.Absolute, out var endpointUri))
            throw new ArgumentException($"LAKEHOUSE_COSMOS_ENDPOINT '{endpointText}' is not an absolute URI.");
        return new CosmosStateOptions { Endpoint = endpointUri, Key = Get("LAKEHOUSE_COSMOS_KEY"), Database = database }.Validated();
    }

    /// <summary>Checks the options; throws <see cref="ArgumentException"/> naming what is wrong (never the key).</summary>
    public CosmosStateOptions Validated()
    {
        if (Endpoint is null || !Endpoint.IsAbsoluteUri || Endpoint.Scheme is not ("https" or "http"))
            throw new ArgumentException("The Cosmos DB endpoint must be an absolute https URI.");
        if (string.IsNullOrWhiteSpace(Key))
            throw new ArgumentException("The Cosmos DB account key is missing (LAKEHOUSE_COSMOS_KEY or AccountKey in the connection string).");
        if (string.IsNullOrWhiteSpace(Database) || Database.IndexOfAny(['/', '\\', '?', '#']) >= 0)
            throw new ArgumentException($"The Cosmos DB database name '{Database}' is empty or contains / \\ ? #.");
        if (ContainerPrefix.IndexOfAny(['/', '\\', '?', '#']) >= 0)
            throw new ArgumentException($"The container prefix '{ContainerPrefix}' contains / \\ ? #.");
        return this;
    }

    /// <summary>The endpoint and database, without the key.</summary>
    public override string ToString() => $"{Endpoint} database {Database} (key {(string.IsNullOrEmpty(Key) ? "missing" : "set")})";
}
