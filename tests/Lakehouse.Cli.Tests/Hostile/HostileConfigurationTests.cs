using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests.Hostile;

/// <summary>
/// Hostile values in the environment (LAKEHOUSE_* variables, connection strings): each ends with its exit code and one
/// <c>error:</c> line naming the variable and the problem — no stack trace, no secret of the value, no control character
/// reaching the terminal.
/// </summary>
public sealed class HostileConfigurationTests : IDisposable
{
    private const string Secret = "S3cr3tV4lue";
    private readonly TempDirectory _temp = new("hostile-config");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Commands_HostileEnvironmentValues_ExitCodeAndOneClearErrorLineWithoutSecretOrStack()
    {
        var lake = _temp.Combine("lake");
        var cases = new (string Variable, string Value, string[] Args, int Exit, string Message)[]
        {
            ("LAKEHOUSE_MEMORY_LIMIT", "1GB\n\u001b[2J", ["sql", "SELECT 1", "--lake", lake], 1,
                "error: LAKEHOUSE_MEMORY_LIMIT is '1GB\\u000A\\u001B[2J': The memory limit is a size with its unit, such as '8GB', '512MiB' or '1.5 GB'.\n"),
            ("LAKEHOUSE_LAKE", $"abfss://c]@acct.dfs.core.windows.net/x?sv=1&sig={Secret}", ["sql", "SELECT 1"], 1,
                "error: Unsupported Azure lake location 'abfss://c]@acct.dfs.core.windows.net/x?<redacted>': a location may not carry a query string: " +
                "give a SAS in the AZURE_STORAGE_SAS_TOKEN environment variable (or, from code, LakeStorageOptions.SasToken).\n"),
            ("LAKEHOUSE_LAKE", "abfss://c@example.com/p", ["sql", "SELECT 1"], 1,
                "error: Unsupported Azure lake location 'abfss://c@example.com/p': host 'example.com' is not an account's blob or dfs endpoint (account.dfs.core.windows.net, " +
                "or account.dfs.<suffix> in another cloud); the storage emulator is http://host:port/account/container/path.\n"),
            ("LAKEHOUSE_SYNAPSE_STORAGE_URL", $"https://acct.dfs.core.windows.net/lake?sv=1&sig={Secret}", ["synapse", "script", "--lake", lake], 2,
                "error: LAKEHOUSE_SYNAPSE_STORAGE_URL: The storage URL 'https://acct.dfs.core.windows.net/lake?<redacted>' is not valid: it has a query string or fragment"),
            ("LAKEHOUSE_KAFKA_PROPERTIES", $"sasl.password={Secret}", ["bronze", "ingest", "--lake", lake, "--dataset", "weblogs", "--from", "kafka://127.0.0.1:1/t", "--once"], 1,
                "error: LAKEHOUSE_KAFKA_PROPERTIES may not set 'sasl.password'"),
            ("LAKEHOUSE_KAFKA_CONNECTION_STRING", $"Endpoint=sb://x;SharedAccessKey={Secret};Garbage", ["bronze", "ingest", "--lake", lake, "--dataset", "weblogs", "--from", "kafka://127.0.0.1:1/t", "--once"], 1,
                "error: LAKEHOUSE_KAFKA_CONNECTION_STRING is not an Event Hubs connection string"),
            ("LAKEHOUSE_KAFKA_SECURITY_PROTOCOL", "plaintext'; rm -rf /", ["bronze", "ingest", "--lake", lake, "--dataset", "weblogs", "--from", "kafka://127.0.0.1:1/t", "--once"], 1,
                "error: LAKEHOUSE_KAFKA_SECURITY_PROTOCOL must be plaintext, ssl, sasl_plaintext or sasl_ssl, not 'plaintext'; rm -rf /'.\n"),
            ("LAKEHOUSE_EVENTHUBS_CONNECTION_STRING", $"SharedAccessKey={Secret}", ["bronze", "ingest", "--lake", lake, "--dataset", "weblogs", "--from", "eventhubs://127.0.0.1:1/hub", "--once"], 1,
                "error: LAKEHOUSE_EVENTHUBS_CONNECTION_STRING needs an Endpoint and a SharedAccessKeyName/SharedAccessKey (or SharedAccessSignature).\n"),
            ("LAKEHOUSE_EVENTHUBS_LEASE_SECONDS", "1e9", ["bronze", "ingest", "--lake", lake, "--dataset", "weblogs", "--from", "eventhubs://127.0.0.1:1/hub", "--once"], 1,
                "error: LAKEHOUSE_EVENTHUBS_LEASE_SECONDS must be a whole number of seconds from 1 to 3600, not '1e9'.\n"),
            ("LAKEHOUSE_ALERT_WEBHOOK_URL", $"http://user:{Secret}@127.0.0.1:1/x", ["gold", "run", "--lake", lake], 1,
                "error: The environment variable LAKEHOUSE_ALERT_WEBHOOK_URL carries user information; put credentials into the secret header instead.\n"),
            ("LAKEHOUSE_COSMOS_CONNECTION_STRING", $"AccountEndpoint=notaurl;AccountKey={Secret}", ["pipeline", "runs", "--lake", lake], 1,
                "error: LAKEHOUSE_COSMOS_CONNECTION_STRING has no valid AccountEndpoint.\n"),
        };

        var results = await Task.WhenAll(cases.Select(c => CliRunner.RunAsync(new Dictionary<string, string> { [c.Variable] = c.Value }, c.Args)));

        foreach (var (c, r) in cases.Zip(results))
        {
            var what = $"{c.Variable}: exit {r.ExitCode}: {r.Stderr}";
            Assert.True(r.ExitCode == c.Exit, what);
            Assert.StartsWith(c.Message, r.Stderr, StringComparison.Ordinal);
            Assert.True(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == 1, what);
            Assert.DoesNotContain(Secret, r.Stderr + r.Stdout, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("(Parameter '", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain('\u001b', r.Stderr);
        }
        Assert.False(Directory.Exists(Path.Combine(lake, "bronze")), "a refused command wrote to the lake");
    }
}
