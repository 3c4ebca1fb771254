using System.Globalization;
using System.Text;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// Credentials given the ways users give them (environment variables and connection strings for storage, Kafka, Event Hubs,
/// Synapse, the alert webhook) never show in what the CLI prints, even with <c>--verbose</c> (debug logs, an error's causes and
/// stack) and when the endpoint is down so that every retry and failure path logs. Each secret is a distinctive value; the test
/// scans standard output and standard error for it, whole and in its recognizable pieces.
/// </summary>
public sealed class SecretsInOutputTests : IDisposable
{
    private const string SasSignature = "SIGNATUREx7Qw9Zp3Lm2Kv8Rt5Yb1Nc4Hd6Jf0Gs";
    private const string KafkaPassword = "kafka-pass-5f2c91e07b3a4d68";
    private const string WebhookCode = "webhook-code-8a1e73c05d9b42f6";
    private const string WebhookSecret = "webhook-secret-2b7d94a1c6e05f38";
    private const string SynapseToken = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.synapse-token-4c8e1a7f.sig";

    private static readonly string StorageKey = Convert.ToBase64String(Encoding.ASCII.GetBytes("storage-account-key-0d3f6a9c2e71b854-secret!!"));
    private static readonly string SharedAccessKey = Convert.ToBase64String(Encoding.ASCII.GetBytes("event-hubs-shared-access-key-7e2a5c"));

    private readonly TempDirectory _temp = new("cli-secrets");

    public void Dispose() => _temp.Dispose();

    /// <summary>A port on 127.0.0.1 where nothing listens: every connection is refused at once.</summary>
    private static int ClosedPort() => LocalServers.FreePort();

    [Fact]
    public async Task StorageCredentials_EndpointDown_NoKeyOrSignatureInOutput()
    {
        var port = ClosedPort();
        var endpoint = $"http://127.0.0.1:{port}/acct";
        var lake = "abfss://lake@acct.dfs.core.windows.net/prod";
        await AssertNoSecretsAsync(["table", "list", "--lake", lake, "-v"],
            new() { ["AZURE_STORAGE_ACCOUNT"] = "acct", ["AZURE_STORAGE_KEY"] = StorageKey, ["LAKEHOUSE_BLOB_ENDPOINT"] = endpoint }, StorageKey);
        await AssertNoSecretsAsync(["table", "list", "--lake", lake, "-v"],
            new() { ["AZURE_STORAGE_CONNECTION_STRING"] = $"DefaultEndpointsProtocol=http;AccountName=acct;AccountKey={StorageKey};BlobEndpoint={endpoint};" }, StorageKey);
        await AssertNoSecretsAsync(["table", "list", "--lake", lake, "-v"],
            new() { ["AZURE_STORAGE_SAS_TOKEN"] = $"sv=2024-08-04&ss=b&srt=sco&sp=rl&se=2030-01-01T00:00:00Z&spr=https,http&sig={SasSignature}", ["LAKEHOUSE_BLOB_ENDPOINT"] = endpoint },
            SasSignature);
    }

    [Fact]
    public async Task KafkaCredentials_BrokerDown_NoPasswordInOutput()
    {
        var port = ClosedPort();
        string[] ingest = ["bronze", "ingest", "--dataset", "weblogs", "--from", $"kafka://127.0.0.1:{port}/events", "--once", "-v", "--lake", _temp.Combine("lake")];
        await AssertNoSecretsAsync(ingest, new()
        {
            ["LAKEHOUSE_KAFKA_SECURITY_PROTOCOL"] = "SASL_PLAINTEXT",
            ["LAKEHOUSE_KAFKA_SASL_MECHANISM"] = "PLAIN",
            ["LAKEHOUSE_KAFKA_SASL_USERNAME"] = "lakehouse",
            ["LAKEHOUSE_KAFKA_SASL_PASSWORD"] = KafkaPassword,
        }, KafkaPassword);
        // Event Hubs' Kafka endpoint: the connection string is the SASL password.
        await AssertNoSecretsAsync(ingest, new()
        {
            ["LAKEHOUSE_KAFKA_CONNECTION_STRING"] = $"Endpoint=sb://127.0.0.1:{port}/;SharedAccessKeyName=listen;SharedAccessKey={SharedAccessKey}",
        }, SharedAccessKey);
    }

    [Theory]
    [InlineData("kafka://lakehouse:{0}@127.0.0.1:9092/events", "The Kafka URI holds user information ('…@'), which is not taken: ")]
    [InlineData("kafka://lakehouse:{0}@127.0.0.1:9092", "The Kafka URI holds user information ('…@'), which is not taken: ")]
    [InlineData("kafka://lakehouse:pass/{0}@127.0.0.1:9092/events", "The Kafka URI holds user information ('…@'), which is not taken: ")]
    [InlineData("kafka://127.0.0.1:9092/events?password={0}", "'kafka://127.0.0.1:9092/events' is followed by a query or fragment, which is not taken: ")]
    [InlineData("eventhubs://listen:{0}@ns.servicebus.windows.net/hub", "The Event Hubs address holds user information ('…@'), which is not taken: ")]
    [InlineData("eventhubs://listen:{0}@/hub", "The Event Hubs address holds user information ('…@'), which is not taken: ")]
    [InlineData("eventhubs:///hub?sig={0}", "'eventhubs:///hub…' has a query or fragment; ")]
    public async Task StreamUri_CredentialsWrittenIntoIt_RefusedWithoutShowingThem(string uri, string refusal)
    {
        // The password of kafka://user:password@host/topic, or a signature in a query, was shown in the error ("'user:password@host:9092'
        // in 'kafka://…' is not host:port"), and so landed in terminals, CI logs and pipeline run records.
        var from = string.Format(CultureInfo.InvariantCulture, uri, KafkaPassword);
        var ingest = await CliRunner.RunAsync("bronze", "ingest", "--dataset", "weblogs", "--from", from, "--once", "-v", "--lake", _temp.Combine("lake"));
        var stream = await CliRunner.RunAsync("stream", "--dataset", "weblogs", "--from", from, "--port", "0", "--lake", _temp.Combine("lake"));

        foreach (var result in new[] { ingest, stream })
        {
            Assert.DoesNotContain(KafkaPassword[11..], result.Stdout + result.Stderr, StringComparison.Ordinal);
            Assert.Equal(2, result.ExitCode); // a usage error: the address is refused before anything runs
            Assert.StartsWith("error: " + refusal, result.Stderr.Split('\n').Single(l => l.StartsWith("error: ", StringComparison.Ordinal)), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task EventHubsConnectionString_HubDown_NoKeyInOutput()
    {
        var port = ClosedPort();
        await AssertNoSecretsAsync(
            ["bronze", "ingest", "--dataset", "weblogs", "--from", $"eventhubs://127.0.0.1:{port}/hub", "--once", "-v", "--lake", _temp.Combine("lake")],
            new() { ["LAKEHOUSE_EVENTHUBS_CONNECTION_STRING"] = $"Endpoint=sb://127.0.0.1:{port}/;SharedAccessKeyName=listen;SharedAccessKey={SharedAccessKey};EntityPath=hub" },
            SharedAccessKey);
    }

    [Fact]
    public async Task SynapseToken_ServerDown_NoTokenInOutput()
    {
        var port = ClosedPort();
        await AssertNoSecretsAsync(
            ["synapse", "deploy", "--server", $"127.0.0.1,{port}", "--storage-url", "https://acct.dfs.core.windows.net/lake/prod", "--credential", "sas",
                "--connect-timeout", "2", "-v", "--lake", _temp.Combine("lake")],
            new() { ["LAKEHOUSE_SYNAPSE_ACCESS_TOKEN"] = SynapseToken, ["LAKEHOUSE_SYNAPSE_SAS_TOKEN"] = $"sv=2024-08-04&sp=rl&sig={SasSignature}" },
            SynapseToken, SasSignature);
    }

    [Fact]
    public async Task AlertWebhook_Down_NoCodeOrSecretInOutput()
    {
        var lake = _temp.Combine("lake");
        var landing = _temp.Combine("landing");
        foreach (string[] step in new[]
        {
            new[] { "produce", "--dataset", "sensors", "--events", "3000", "--to", landing },
            ["bronze", "ingest", "--dataset", "sensors", "--from", landing, "--once", "--settle-ms", "0", "--lake", lake],
            ["silver", "run", "--dataset", "sensors", "--lake", lake],
        })
        {
            var done = await CliRunner.RunAsync(step);
            Assert.True(done.ExitCode == 0, done.Stderr);
        }
        var port = ClosedPort();
        var output = await AssertNoSecretsAsync(["gold", "run", "--dataset", "sensors", "-v", "--lake", lake],
            new() { ["LAKEHOUSE_ALERT_WEBHOOK_URL"] = $"http://127.0.0.1:{port}/api/alerts?code={WebhookCode}", ["LAKEHOUSE_ALERT_WEBHOOK_SECRET"] = WebhookSecret },
            WebhookCode, WebhookSecret);
        // The run went on (a failing webhook never blocks it), and the failure was reported naming the endpoint by its origin only.
        Assert.Equal(0, output.ExitCode);
        Assert.Contains($"Alert webhook http://127.0.0.1:{port}: ", output.Stderr, StringComparison.Ordinal);
        Assert.Contains("not delivered after 5 tries", output.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("/api/alerts", output.Stdout + output.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// Runs the command (SIGTERM after 20 s if it is still retrying, which is also a path that must not leak), then asserts that no
    /// secret, nor any 12-character piece of one, is in its output.
    /// </summary>
    private static async Task<CliRunner.Result> AssertNoSecretsAsync(string[] args, Dictionary<string, string> environment, params string[] secrets)
    {
        using var process = CliRunner.Start(args, environment: environment);
        await process.WaitUntilAsync(() => false, TimeSpan.FromSeconds(20));
        if (!process.HasExited) await process.SignalAsync("TERM");
        var result = await process.WaitAsync();
        var output = result.Stdout + result.Stderr;
        Assert.False(string.IsNullOrWhiteSpace(output), $"lakehouse {string.Join(' ', args)} printed nothing");
        foreach (var secret in secrets)
        {
            for (var at = 0; at + 12 <= secret.Length; at += 4)
            {
                var piece = secret.Substring(at, 12);
                Assert.False(output.Contains(piece, StringComparison.Ordinal),
                    $"lakehouse {string.Join(' ', args)} printed a piece of a secret ('{piece}' at {output.IndexOf(piece, StringComparison.Ordinal)}):\n{Redacted(output, secrets)}");
            }
        }
        return result;
    }

    /// <summary>The output with the secrets masked, so a failure message does not spread them further.</summary>
    private static string Redacted(string output, IEnumerable<string> secrets) =>
        secrets.Aggregate(output, (text, secret) => text.Replace(secret, "<secret>", StringComparison.Ordinal));
}
