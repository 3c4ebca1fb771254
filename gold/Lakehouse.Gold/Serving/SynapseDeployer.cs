using System.Data;
using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Azure.Core;
using Azure.Identity;
using Lakehouse.Core;
using Microsoft.Data.SqlClient;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Gold.Serving;

/// <summary>What a deploy did.</summary>
/// <param name="Server">The endpoint it ran on.</param>
/// <param name="Database">The database of the views.</param>
/// <param name="Batches">How many batches ran (all of them: a failure throws).</param>
/// <param name="Views">How many views were created or altered.</param>
/// <param name="Elapsed">How long it took, token and connections included.</param>
public sealed record SynapseDeployResult(string Server, string Database, int Batches, int Views, TimeSpan Elapsed);

/// <summary>
/// Runs a <see cref="SynapseScript"/> on a Synapse serverless SQL endpoint through Microsoft.Data.SqlClient, signed in with a
/// Microsoft Entra token (<see cref="SqlConnection.AccessToken"/>): the first batch in <c>master</c>, the others in the views'
/// database, one after the other. The script is idempotent, so a deploy that stopped half-way (a failed batch, Ctrl+C) is
/// finished by running it again.
/// </summary>
public static class SynapseDeployer
{
    /// <summary>
    /// Runs every batch of <paramref name="script"/>. Failures are <see cref="LakehouseException"/>s that say what failed: no token
    /// (InvalidInput), the endpoint not reachable or the sign-in refused (Storage, transient for network errors), or a batch
    /// refused by the server (Engine: its number, title and the server's message; the batches before it ran). Neither the token
    /// nor the SAS is in any message or log line.
    /// </summary>
    public static async Task<SynapseDeployResult> DeployAsync(SynapseScript script, SynapseDeployOptions options, ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(script);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Server.Length == 0) throw new ArgumentException("The server is not set.", nameof(options));
        if (script.Credential == SynapseCredentialKind.SharedAccessSignature && options.SasToken is null)
        {
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                "The script's credential is a SAS, but no SAS token is configured: set LAKEHOUSE_SYNAPSE_SAS_TOKEN (or AZURE_STORAGE_SAS_TOKEN) to a SAS with read and list permissions on the lake's container.");
        }
        var logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Lakehouse.Gold.Synapse");
        var clock = Stopwatch.StartNew();
        var address = SqlServerAddress.Parse(options.Server);
        var token = await TokenAsync(options, cancellationToken).ConfigureAwait(false);

        var count = script.Batches.Count;
        var number = 0;
        foreach (var group in script.Batches.GroupBy(b => b.InMaster).OrderByDescending(g => g.Key))
        {
            var database = group.Key ? "master" : script.Database;
            SynapseLog.Connecting(logger, address.Display, database, options.CredentialName);
            if (number == 0) await ProbeAsync(address, options.ConnectTimeout, count, cancellationToken).ConfigureAwait(false);
            await using var connection = new SqlConnection(ConnectionString(address, database, options)) { AccessToken = token };
            await OpenAsync(connection, address, database, number, count, cancellationToken).ConfigureAwait(false);
            foreach (var batch in group)
            {
                number++;
                var batchClock = Stopwatch.StartNew();
                await using var command = connection.CreateCommand();
                command.CommandText = batch.Sql;
                command.CommandType = CommandType.Text;
                command.CommandTimeout = (int)Math.Ceiling(options.CommandTimeout.TotalSeconds);
                if (batch.Sql.Contains(SynapseScript.SasTokenParameter, StringComparison.Ordinal))
                    command.Parameters.Add(new SqlParameter(SynapseScript.SasTokenParameter, SqlDbType.NVarChar, -1) { Value = options.SasToken });
                try
                {
                    await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }
                catch (SqlException e) when (!cancellationToken.IsCancellationRequested)
                {
                    var message = Redacted(OneLine(e.Message), options);
                    SynapseLog.BatchFailed(logger, number, count, batch.Title, e.Number, message);
                    throw new LakehouseException(LakehouseErrorReason.Engine, string.Create(CultureInfo.InvariantCulture,
                        $"Batch {number} of {count} ({batch.Title}) failed on {address.Display}, database {database}: SQL error {e.Number}: {message} ") +
                        (number == 1 ? "No batch ran before it." : string.Create(CultureInfo.InvariantCulture, $"Batches 1 to {number - 1} ran.")) +
                        " The script is idempotent: fix the cause and deploy again.", e, isTransient: false);
                }
                SynapseLog.BatchRan(logger, number, count, batch.Title, batchClock.ElapsedMilliseconds);
            }
        }
        SynapseLog.Deployed(logger, count, script.Views.Count, address.Display, script.Database, clock.ElapsedMilliseconds);
        return new SynapseDeployResult(address.Display, script.Database, count, script.Views.Count, clock.Elapsed);
    }

    /// <summary>The connection string: TLS required and the certificate checked, no pooling (one deploy per process), no user or password.</summary>
    internal static string ConnectionString(SqlServerAddress address, string database, SynapseDeployOptions options) => new SqlConnectionStringBuilder
    {
        DataSource = "tcp:" + address.Host + (address.Port is { } port ? "," + port.ToString(CultureInfo.InvariantCulture) : ""),
        InitialCatalog = database,
        Encrypt = SqlConnectionEncryptOption.Mandatory,
        TrustServerCertificate = false,
        ConnectTimeout = (int)Math.Ceiling(options.ConnectTimeout.TotalSeconds),
        Pooling = false,
        ApplicationName = "lakehouse",
    }.ConnectionString;

    private static async Task<string> TokenAsync(SynapseDeployOptions options, CancellationToken cancellationToken)
    {
        var credential = options.Credential ?? new DefaultAzureCredential();
        try
        {
            var token = await credential.GetTokenAsync(new TokenRequestContext([SynapseDeployOptions.TokenScope]), cancellationToken).ConfigureAwait(false);
            if (string.IsNullOrEmpty(token.Token)) throw new AuthenticationFailedException("The credential returned an empty token.");
            return token.Token;
        }
        catch (Exception e) when (e is AuthenticationFailedException or CredentialUnavailableException)
        {
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"No Microsoft Entra token for Synapse SQL could be obtained from {options.CredentialName} ({e.GetType().Name}). " +
                "Sign in (az login), use a managed identity or a service principal (AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET), " +
                "or set LAKEHOUSE_SYNAPSE_ACCESS_TOKEN to a token for https://database.windows.net/.", e);
        }
    }

    /// <summary>
    /// One TCP connection to the endpoint before SqlClient's: an endpoint that refuses connections or a host name that does not
    /// resolve is reported at once and by its cause (SqlClient's managed network layer on Linux waits out the whole connect timeout
    /// on a refused connection, and then names no cause).
    /// </summary>
    private static async Task ProbeAsync(SqlServerAddress address, TimeSpan timeout, int count, CancellationToken cancellationToken)
    {
        var port = address.Port ?? 1433;
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        string cause;
        try
        {
            await socket.ConnectAsync(address.Host, port, deadline.Token).ConfigureAwait(false);
            return;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            cause = string.Create(CultureInfo.InvariantCulture, $"no answer within {timeout.TotalSeconds:0.#} s");
        }
        catch (SocketException e)
        {
            cause = e.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => string.Create(CultureInfo.InvariantCulture, $"the connection was refused (nothing listens on port {port})"),
                SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => $"the host name '{address.Host}' is not known (DNS)",
                SocketError.TimedOut => string.Create(CultureInfo.InvariantCulture, $"no answer within {timeout.TotalSeconds:0.#} s"),
                _ => $"{e.SocketErrorCode}: {e.Message}",
            };
        }
        throw new LakehouseException(LakehouseErrorReason.Storage, string.Create(CultureInfo.InvariantCulture,
            $"Cannot reach the Synapse SQL endpoint {address.Display}: {cause}. Check the server name (<workspace>-ondemand.sql.azuresynapse.net), ") +
            string.Create(CultureInfo.InvariantCulture, $"the network path to port {port} and the workspace's firewall. None of the {count} batches ran."), isTransient: true);
    }

    private static async Task OpenAsync(SqlConnection connection, SqlServerAddress address, string database, int ran, int count, CancellationToken cancellationToken)
    {
        var before = ran == 0
            ? string.Create(CultureInfo.InvariantCulture, $"none of the {count} batches ran")
            : string.Create(CultureInfo.InvariantCulture, $"batches 1 to {ran} of {count} ran, the others did not");
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (NotSupportedException e)
        {
            // SqlClient refuses to run in globalization-invariant mode (it needs ICU for the server's collations).
            throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature,
                "Cannot connect to Synapse from this process: Microsoft.Data.SqlClient needs ICU, and the process runs in globalization-invariant mode " +
                $"(DOTNET_SYSTEM_GLOBALIZATION_INVARIANT or InvariantGlobalization); install libicu and run without it ({e.Message}). {Capitalized(before)}.", e);
        }
        catch (SqlException e) when (!cancellationToken.IsCancellationRequested)
        {
            // Error classes 20 and up are connection-level (network, TLS, login); 18456 and friends are a sign-in the server refused.
            var network = e.Number is 0 or -1 or -2 or 2 or 35 or 40 or 53 or 10053 or 10054 or 10060 or 10061 or 11001 || e.Class >= 20;
            throw new LakehouseException(LakehouseErrorReason.Storage, string.Create(CultureInfo.InvariantCulture,
                $"Cannot connect to the Synapse SQL endpoint {address.Display}, database {database}: {OneLine(e.Message)} (SQL error {e.Number}). ") +
                (network
                    ? "Check the server name (<workspace>-ondemand.sql.azuresynapse.net), the network path to port " +
                      (address.Port ?? 1433).ToString(CultureInfo.InvariantCulture) + " and the workspace's firewall. "
                    : "Check that the signed-in identity may connect (a Synapse SQL administrator, or a login made for it). ") +
                Capitalized(before) + ".", e, isTransient: network);
        }
    }

    /// <summary><paramref name="text"/> without the SAS token or its signature, should a server message quote them.</summary>
    internal static string Redacted(string text, SynapseDeployOptions options)
    {
        if (options.SasToken is not { } sas) return text;
        text = text.Replace(sas, "<SAS token>", StringComparison.Ordinal);
        foreach (var part in sas.Split('&'))
        {
            if (part.StartsWith("sig=", StringComparison.Ordinal) && part.Length > 4) text = text.Replace(part[4..], "<signature>", StringComparison.Ordinal);
        }
        return text;
    }

    private static string Capitalized(string text) => char.ToUpperInvariant(text[0]) + text[1..];

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
