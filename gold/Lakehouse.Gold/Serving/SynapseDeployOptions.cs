using System.Text;
using Azure.Core;
using Lakehouse.Core;

namespace Lakehouse.Gold.Serving;

/// <summary>
/// Where and how <see cref="SynapseDeployer"/> runs a script. Validated when set (<see cref="ArgumentException"/>). Secrets (the SAS
/// token, an access token) are never printed: <see cref="ToString"/> names the kind of credential only.
/// </summary>
/// <remarks>
/// The Microsoft Entra token for the SQL endpoint comes from <see cref="Credential"/>, and when that is not set from a
/// <c>DefaultAzureCredential</c> (environment, workload or managed identity, Azure CLI, ...), as Azure storage's does.
/// </remarks>
public sealed class SynapseDeployOptions
{
    /// <summary>The scope of a token for Azure SQL and Synapse SQL.</summary>
    public const string TokenScope = "https://database.windows.net/.default";

    private string _server = "";
    private string? _sasToken;
    private TimeSpan _connectTimeout = TimeSpan.FromSeconds(30);
    private TimeSpan _commandTimeout = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The serverless SQL endpoint, <c>&lt;workspace&gt;-ondemand.sql.azuresynapse.net</c>, with an optional <c>,port</c> (default 1433).
    /// Required.
    /// </summary>
    public string Server
    {
        get => _server;
        set => _server = SqlServerAddress.Parse(value).Display;
    }

    /// <summary>The credential whose token (scope <see cref="TokenScope"/>) signs in; null for <c>DefaultAzureCredential</c>.</summary>
    public TokenCredential? Credential { get; set; }

    /// <summary>
    /// The SAS token for a script whose credential is <see cref="SynapseCredentialKind.SharedAccessSignature"/>, with or without the
    /// leading '?'; it must carry a signature (<c>sig=</c>). Passed to the server as a parameter, never written or logged.
    /// </summary>
    public string? SasToken
    {
        get => _sasToken;
        set
        {
            var token = value?.Trim().TrimStart('?');
            if (token is not null && SasProblem(token) is { } problem) throw new ArgumentException("The SAS token " + problem + ".", nameof(value));
            _sasToken = token;
        }
    }

    /// <summary>How long opening a connection may take. 1 second to 10 minutes; default 30 seconds.</summary>
    public TimeSpan ConnectTimeout
    {
        get => _connectTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.FromSeconds(1));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, TimeSpan.FromMinutes(10));
            _connectTimeout = value;
        }
    }

    /// <summary>How long one batch may run. 1 second to 1 hour; default 10 minutes.</summary>
    public TimeSpan CommandTimeout
    {
        get => _commandTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, TimeSpan.FromSeconds(1));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, TimeSpan.FromHours(1));
            _commandTimeout = value;
        }
    }

    /// <summary>
    /// Options for <paramref name="server"/> with the secrets from the environment: <c>LAKEHOUSE_SYNAPSE_ACCESS_TOKEN</c> (a token
    /// already obtained, e.g. <c>az account get-access-token --resource https://database.windows.net/</c>; without it,
    /// <c>DefaultAzureCredential</c>), and the SAS token from <c>LAKEHOUSE_SYNAPSE_SAS_TOKEN</c>, else <c>AZURE_STORAGE_SAS_TOKEN</c>.
    /// </summary>
    /// <exception cref="LakehouseException">A variable is malformed (InvalidInput); the message names it, never its value.</exception>
    public static SynapseDeployOptions FromEnvironment(string server) => FromEnvironment(server, Environment.GetEnvironmentVariable);

    /// <summary>Options from environment variables read through <paramref name="variable"/> (tests pass a dictionary).</summary>
    internal static SynapseDeployOptions FromEnvironment(string server, Func<string, string?> variable)
    {
        var options = new SynapseDeployOptions { Server = server };
        if (Get("LAKEHOUSE_SYNAPSE_ACCESS_TOKEN") is { } token)
        {
            var value = token.Trim();
            if (value.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                throw Invalid("LAKEHOUSE_SYNAPSE_ACCESS_TOKEN", "holds white space or control characters; it must be the bare token");
            options.Credential = DelegatedTokenCredential.Create((_, _) => new AccessToken(value, DateTimeOffset.UtcNow.AddMinutes(5)));
            options.CredentialName = "LAKEHOUSE_SYNAPSE_ACCESS_TOKEN";
        }
        foreach (var name in (string[])["LAKEHOUSE_SYNAPSE_SAS_TOKEN", "AZURE_STORAGE_SAS_TOKEN"])
        {
            if (Get(name)?.Trim().TrimStart('?') is not { } sas) continue;
            if (SasProblem(sas) is { } problem) throw Invalid(name, problem);
            options._sasToken = sas;
            options.SasSource = name;
            break;
        }
        return options;

        string? Get(string name) => variable(name) is { } value && value.Trim().Length > 0 ? value : null;

        static LakehouseException Invalid(string name, string problem) =>
            new(LakehouseErrorReason.InvalidInput, $"The environment variable {name} {problem}.");
    }

    /// <summary>What the token comes from, for messages: a variable's name, the credential's type, or DefaultAzureCredential.</summary>
    internal string CredentialName
    {
        get => field ?? Credential?.GetType().Name ?? "DefaultAzureCredential";
        private set;
    }

    /// <summary>The environment variable the SAS token was read from, when it was.</summary>
    internal string? SasSource { get; private set; }

    /// <summary>Describes the options without any secret.</summary>
    public override string ToString()
    {
        var text = new StringBuilder("SynapseDeployOptions { Server = ").Append(Server).Append(", Credential = ").Append(CredentialName);
        text.Append(", SasToken = ").Append(SasToken is null ? "none" : "set");
        return text.Append(" }").ToString();
    }

    private static string? SasProblem(string token) =>
        token.Length == 0 || token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)) ? "is empty or holds white space or control characters"
        : token.Split('&').Any(p => p.StartsWith("sig=", StringComparison.Ordinal) && p.Length > 4) ? null
        : "has no signature ('sig=')";
}
