using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary><c>lakehouse synapse script|deploy</c> as a user runs them: help, wrong arguments, the files written, an endpoint that is not there.</summary>
public sealed class SynapseCommandTests : IDisposable
{
    private const string StorageUrl = "https://lakeacct.dfs.core.windows.net/lake/prod";
    private const string Server = "lakews-ondemand.sql.azuresynapse.net";
    private const string Token = "eyJ0eXAiOiJKV1QiLCJhbGciOi.SECRET-TOKEN-VALUE.sig";

    private readonly TempDirectory _temp = new("cli-synapse");

    public void Dispose() => _temp.Dispose();

    private string Lake => _temp.Combine("lake");

    /// <summary>A lake with silver.weblogs (partitioned by event_date) and gold.page_performance_daily, imported by the CLI.</summary>
    private async Task LakeAsync()
    {
        var weblogs = _temp.Combine("weblogs.ndjson");
        await File.WriteAllTextAsync(weblogs, """
            {"event_id":"e1","page_url":"/home","tti_ms":1234.5,"status":200,"is_bot":false,"attrs":{"referrer":"x"},"event_date":"2024-05-01"}
            {"event_id":"e2","page_url":"/cart","tti_ms":99.0,"status":500,"is_bot":true,"attrs":{"referrer":"y"},"event_date":"2024-05-02"}

            """);
        var daily = _temp.Combine("daily.ndjson");
        await File.WriteAllTextAsync(daily, """
            {"event_date":"2024-05-01","page_url":"/home","events":10,"tti_avg_ms":100.5,"error_rate":0.1}

            """);
        foreach (var (file, table) in new[] { (weblogs, "silver.weblogs"), (daily, "gold.page_performance_daily") })
        {
            var r = await CliRunner.RunAsync("table", "import", file, "--to", table, "--lake", Lake, "--partition-by", "event_date");
            Assert.True(r.ExitCode == 0, r.Stderr);
        }
    }

    [Fact]
    public async Task ScriptHelp_DescribesTypesFilesAndOptions()
    {
        var r = await CliRunner.RunAsync("synapse", "script", "--help");

        Assert.Equal((0, ""), (r.ExitCode, r.Stderr));
        var help = string.Join(' ', r.Stdout.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Usage: lakehouse synapse script [options]", help, StringComparison.Ordinal);
        Assert.Contains("--credential <managed-identity|sas>", help, StringComparison.Ordinal);
        Assert.Contains("--storage-url <url>", help, StringComparison.Ordinal);
        Assert.Contains("strings VARCHAR(MAX) COLLATE Latin1_General_100_BIN2_UTF8, or VARCHAR(n) with --string-length;", help, StringComparison.Ordinal);
        Assert.Contains("Files: synapse.sql and, with --server, lakehouse.pbids", help, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("synapse script --credential password", "error: --credential must be managed-identity or sas, not 'password'")]
    [InlineData("synapse script --string-length 9000", "error: --string-length must be between 1 and 8000")]
    [InlineData("synapse script --storage-url http://lakeacct.dfs.core.windows.net/lake", "error: --storage-url: The storage URL 'http://lakeacct.dfs.core.windows.net/lake' is not valid: use https://<account>.dfs.core.windows.net/<container>/<path>.")]
    [InlineData("synapse script --storage-url https://lakeacct.dfs.core.windows.net/lake --database master", "error: --database: The database name 'master' is a system database; the views need a user database (external data sources exist only there).")]
    [InlineData("synapse script --storage-url https://lakeacct.dfs.core.windows.net/lake --server ws;Password=x", "error: --server: The server is not valid: it holds '@', ';' or '=', as a user and password or a connection string would (not shown here, as it may hold a secret); give only the host name of the serverless SQL endpoint, <workspace>-ondemand.sql.azuresynapse.net, optionally with ,port. Credentials come from the environment (see lakehouse synapse deploy --help).")]
    [InlineData("synapse deploy --storage-url https://lakeacct.dfs.core.windows.net/lake", "error: 'lakehouse synapse deploy' needs --server <host> (see lakehouse synapse deploy --help)")]
    [InlineData("synapse script --storage-url https://lakeacct.dfs.core.windows.net/lake --out ", "error: --out must name a folder (created when missing), not an empty value")]
    [InlineData("synapse script --storage-url https://lakeacct.dfs.core.windows.net/lake --out /dev/null", "error: --out '/dev/null' is a file, not a folder: give the folder to write synapse.sql and lakehouse.pbids into (created when missing)")]
    [InlineData("synapse scrpit", "error: unknown command 'scrpit' for 'lakehouse synapse' (did you mean 'script'?) (commands: script, deploy)")]
    public async Task WrongArgument_UsageErrorNamingIt(string line, string message)
    {
        var r = await CliRunner.RunAsync([.. line.Split(' '), "--lake", Lake]);

        Assert.Equal((2, message + "\n", ""), (r.ExitCode, r.Stderr, r.Stdout));
        Assert.False(Directory.Exists(Path.Combine(Lake, "_lakehouse")));
    }

    [Fact]
    public async Task Script_LocalLakeWithoutStorageUrl_UsageErrorSayingWhatToGive()
    {
        await LakeAsync();

        var r = await CliRunner.RunAsync("synapse", "script", "--lake", Lake);

        Assert.Equal(2, r.ExitCode);
        Assert.Equal($"error: --storage-url is needed: the lake '{Lake}' has no ADLS address Synapse could read. Give the URL of the lake's copy in ADLS Gen2 " +
            "(https://<account>.dfs.core.windows.net/<container>/<path>), or run with an abfss:// --lake\n", r.Stderr);
    }

    [Fact]
    public async Task Script_LocalLakeNamedWithHashAndQuestionMark_NamedWholeInTheError()
    {
        var lake = _temp.Combine("lake#1?x");
        Directory.CreateDirectory(lake);

        var r = await CliRunner.RunAsync("synapse", "script", "--lake", lake);

        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith($"error: --storage-url is needed: the lake '{lake}' has no ADLS address Synapse could read.", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Script_LakeWithSilverAndGold_WritesScriptAndPbidsIntoOut()
    {
        await LakeAsync();
        var outDir = _temp.Combine("out");

        var r = await CliRunner.RunAsync("synapse", "script", "--lake", Lake, "--storage-url", StorageUrl, "--server", Server, "--database", "sales", "--out", outDir);

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("", r.Stderr);
        Assert.Equal(
            $"{outDir}/synapse.sql: 7 batches, 2 views (silver.weblogs, gold.page_performance_daily) in database sales\n" +
            $"{outDir}/lakehouse.pbids: Power BI data source for {Server}, database sales (DirectQuery)\n", r.Stdout);
        var sql = await File.ReadAllTextAsync(Path.Combine(outDir, "synapse.sql"));
        Assert.Contains("CREATE DATABASE [sales] COLLATE Latin1_General_100_BIN2_UTF8;", sql, StringComparison.Ordinal);
        Assert.Contains("CREATE OR ALTER VIEW [silver].[weblogs]", sql, StringComparison.Ordinal);
        Assert.Contains("CREATE OR ALTER VIEW [gold].[page_performance_daily]", sql, StringComparison.Ordinal);
        Assert.Contains("    [event_id] VARCHAR(MAX) COLLATE Latin1_General_100_BIN2_UTF8,\n", sql, StringComparison.Ordinal);
        Assert.Contains("    [tti_ms] FLOAT,\n", sql, StringComparison.Ordinal);
        Assert.Contains("    [is_bot] BIT,\n", sql, StringComparison.Ordinal);
        Assert.Contains("    [attrs] VARCHAR(MAX) COLLATE Latin1_General_100_BIN2_UTF8,\n", sql, StringComparison.Ordinal);
        Assert.Contains("-- silver.weblogs: 7 columns, partitioned by [event_date]\n", sql, StringComparison.Ordinal);
        Assert.Equal(8, sql.Split('\n').Count(l => l == "GO"));
        using var pbids = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(outDir, "lakehouse.pbids")));
        var address = pbids.RootElement.GetProperty("connections")[0].GetProperty("details").GetProperty("address");
        Assert.Equal((Server, "sales"), (address.GetProperty("server").GetString(), address.GetProperty("database").GetString()));
    }

    /// <summary>
    /// An --out that cannot hold the files (under a file, or with a folder named like one of them) is named in the error; before, the
    /// error was .NET's alone ("Could not find a part of the path …", "Is a directory : …").
    /// </summary>
    [Fact]
    public async Task Script_OutThatCannotHoldTheFiles_ErrorNamesOut()
    {
        await LakeAsync();
        var file = _temp.Combine("afile");
        await File.WriteAllTextAsync(file, "x");
        var taken = _temp.Combine("taken");
        Directory.CreateDirectory(Path.Combine(taken, "synapse.sql"));

        foreach (var outDir in new[] { Path.Combine(file, "sub"), taken })
        {
            var r = await CliRunner.RunAsync("synapse", "script", "--lake", Lake, "--storage-url", StorageUrl, "--out", outDir);

            Assert.Equal(1, r.ExitCode);
            Assert.StartsWith($"error: --out '{outDir}': synapse.sql could not be written there (", r.Stderr, StringComparison.Ordinal);
            Assert.EndsWith("). Give a folder that can be created and written, with no folder of the files' names in it.\n", r.Stderr, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// --storage-url in the lake's abfss:// form names the same place as its https form, and gives the same script; one that is not an
    /// ADLS address is refused naming it whole (the https check showed it without its container).
    /// </summary>
    [Fact]
    public async Task Script_StorageUrlAsAbfss_SameScriptAsHttps()
    {
        await LakeAsync();

        var https = await CliRunner.RunAsync("synapse", "script", "--lake", Lake, "--storage-url", StorageUrl, "--out", _temp.Combine("https"));
        var abfss = await CliRunner.RunAsync("synapse", "script", "--lake", Lake, "--storage-url", "abfss://lake@lakeacct.dfs.core.windows.net/prod", "--out", _temp.Combine("abfss"));
        var bad = await CliRunner.RunAsync("synapse", "script", "--lake", Lake, "--storage-url", "abfss://lakeacct.dfs.core.windows.net/prod");

        Assert.Equal((0, 0), (https.ExitCode, abfss.ExitCode));
        var sql = await File.ReadAllTextAsync(Path.Combine(_temp.Combine("https"), "synapse.sql"));
        Assert.Contains("LOCATION = N'https://lakeacct.dfs.core.windows.net/lake/prod/'", sql, StringComparison.Ordinal);
        Assert.Equal(sql, await File.ReadAllTextAsync(Path.Combine(_temp.Combine("abfss"), "synapse.sql")));
        Assert.Equal((2, "error: --storage-url 'abfss://lakeacct.dfs.core.windows.net/prod' is not an ADLS Gen2 address: write abfss://<container>@<account>.dfs.core.windows.net/<path> " +
            "or https://<account>.dfs.core.windows.net/<container>/<path>\n"), (bad.ExitCode, bad.Stderr));
    }

    /// <summary>
    /// A SAS pasted into the storage URL (the option, its environment variable, or the lake's own address) is refused without being
    /// echoed: the messages showed the whole URL, signature included, where every other message of the CLI cuts the query off.
    /// </summary>
    [Theory]
    [InlineData("--storage-url", "abfss://lake@lakeacct.dfs.core.windows.net/prod?sv=2024-08-04&sp=rl&sig=SIGNATUREx7Qw9Zp3",
        "error: --storage-url 'abfss://lake@lakeacct.dfs.core.windows.net/prod?<redacted>' has a query string or fragment; a SAS goes into the credential (--credential sas), never into the URL\n")]
    [InlineData("--storage-url", "lakeacct.dfs.core.windows.net/lake/prod?sv=2024-08-04&sig=SIGNATUREx7Qw9Zp3",
        "error: --storage-url must be an absolute URL such as https://<account>.dfs.core.windows.net/<container>/<path>, not 'lakeacct.dfs.core.windows.net/lake/prod?<redacted>'\n")]
    [InlineData("LAKEHOUSE_SYNAPSE_STORAGE_URL", "abfss://lake@lakeacct.dfs.core.windows.net/prod#sig=SIGNATUREx7Qw9Zp3",
        "error: LAKEHOUSE_SYNAPSE_STORAGE_URL 'abfss://lake@lakeacct.dfs.core.windows.net/prod?<redacted>' has a query string or fragment; a SAS goes into the credential (--credential sas), never into the URL\n")]
    [InlineData("--lake", "abfss://lake@lakeacct.dfs.core.windows.net/prod?sv=2024-08-04&sig=SIGNATUREx7Qw9Zp3",
        "error: --storage-url is needed: the lake 'abfss://lake@lakeacct.dfs.core.windows.net/prod?<redacted>' has no ADLS address Synapse could read. Give the URL of the lake's copy in ADLS Gen2 " +
        "(https://<account>.dfs.core.windows.net/<container>/<path>), or run with an abfss:// --lake\n")]
    public async Task Script_SasInTheStorageUrlOrLake_RefusedWithoutShowingTheSignature(string where, string value, string message)
    {
        await LakeAsync();
        var environment = new Dictionary<string, string> { ["LAKEHOUSE_SYNAPSE_STORAGE_URL"] = "" };
        string[] args = where switch
        {
            "--lake" => ["synapse", "script", "--lake", value],
            "--storage-url" => ["synapse", "script", "--lake", Lake, "--storage-url", value],
            _ => ["synapse", "script", "--lake", Lake],
        };
        if (where == "LAKEHOUSE_SYNAPSE_STORAGE_URL") environment[where] = value;

        var r = await CliRunner.RunAsync(environment, args);

        Assert.Equal((2, message, ""), (r.ExitCode, r.Stderr, r.Stdout));
        Assert.DoesNotContain("SIGNATURE", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Script_NoOutNoServer_IntoTheLakesFolderWithANoteAboutThePbids()
    {
        await LakeAsync();

        var r = await CliRunner.RunAsync("synapse", "script", "--lake", Lake, "--storage-url", StorageUrl, "--json");

        Assert.True(r.ExitCode == 0, r.Stderr);
        Assert.Equal("note: no lakehouse.pbids was written: give --server <workspace>-ondemand.sql.azuresynapse.net for it\n", r.Stderr);
        var folder = Path.Combine(Lake, "_lakehouse", "synapse");
        Assert.Equal(["synapse.sql"], Directory.GetFiles(folder).Select(Path.GetFileName));
        using var json = JsonDocument.Parse(r.Stdout);
        Assert.Equal("lakehouse", json.RootElement.GetProperty("database").GetString());
        Assert.Equal(StorageUrl + "/", json.RootElement.GetProperty("storageUrl").GetString());
        Assert.Equal("managed-identity", json.RootElement.GetProperty("credential").GetString());
        Assert.Equal(["silver.weblogs", "gold.page_performance_daily"], json.RootElement.GetProperty("views").EnumerateArray().Select(v => v.GetProperty("view").GetString()));
        Assert.Equal([Path.Combine(folder, "synapse.sql")], json.RootElement.GetProperty("files").EnumerateArray().Select(f => f.GetString()));
    }

    [Fact]
    public async Task Deploy_NothingListensOnTheServerPort_ClearErrorFastWithoutTheTokenEvenVerbose()
    {
        await LakeAsync();
        var port = LocalServers.FreePort();
        var environment = new Dictionary<string, string> { ["LAKEHOUSE_SYNAPSE_ACCESS_TOKEN"] = Token };
        var clock = Stopwatch.StartNew();

        var r = await CliRunner.RunAsync(environment, "synapse", "deploy", "--lake", Lake, "--storage-url", StorageUrl, "--server", $"127.0.0.1,{port}");
        var elapsed = clock.Elapsed;
        var verbose = await CliRunner.RunAsync(environment, "synapse", "deploy", "--lake", Lake, "--storage-url", StorageUrl, "--server", $"127.0.0.1,{port}", "-v");

        Assert.Equal(1, r.ExitCode);
        Assert.Equal("", r.Stdout);
        Assert.Equal($"error: Cannot reach the Synapse SQL endpoint 127.0.0.1,{port}: the connection was refused (nothing listens on port {port}). " +
            $"Check the server name (<workspace>-ondemand.sql.azuresynapse.net), the network path to port {port} and the workspace's firewall. None of the 7 batches ran.\n", r.Stderr);
        Assert.True(elapsed < TimeSpan.FromSeconds(15), $"took {elapsed}");
        Assert.Equal(1, verbose.ExitCode);
        Assert.Contains($"[7210 Lakehouse.Gold.Synapse] Connecting to 127.0.0.1,{port}, database master, with a token from LAKEHOUSE_SYNAPSE_ACCESS_TOKEN", verbose.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", r.Stderr + r.Stdout + verbose.Stderr + verbose.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_EndpointThatClosesEveryConnection_SqlClientRunsInTheCliAndReportsThePreLoginFailure()
    {
        // Not a SQL server: a port that accepts and closes. It takes the deploy past the TCP probe into SqlClient's login, which
        // the CLI can reach only because it is not globalization-invariant (SqlClient refuses that mode before any I/O).
        await LakeAsync();
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var stop = new CancellationTokenSource();
        var closer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var client = await listener.AcceptTcpClientAsync(stop.Token);
            }
        });
        var environment = new Dictionary<string, string> { ["LAKEHOUSE_SYNAPSE_ACCESS_TOKEN"] = Token };

        var r = await CliRunner.RunAsync(environment, "synapse", "deploy", "--lake", Lake, "--storage-url", StorageUrl, "--server", $"127.0.0.1,{port}", "--connect-timeout", "10");
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => closer);

        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith($"error: Cannot connect to the Synapse SQL endpoint 127.0.0.1,{port}, database master: A connection was successfully established with the server, but then an error occurred during the pre-login handshake.", r.Stderr, StringComparison.Ordinal);
        Assert.EndsWith("None of the 7 batches ran.\n", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("Globalization", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("SECRET", r.Stderr + r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Deploy_SasCredentialWithoutToken_ErrorBeforeAnyConnection()
    {
        await LakeAsync();
        var environment = new Dictionary<string, string> { ["LAKEHOUSE_SYNAPSE_ACCESS_TOKEN"] = Token, ["AZURE_STORAGE_SAS_TOKEN"] = "", ["LAKEHOUSE_SYNAPSE_SAS_TOKEN"] = "" };

        var r = await CliRunner.RunAsync(environment, "synapse", "deploy", "--lake", Lake, "--storage-url", StorageUrl, "--server", "127.0.0.1,1", "--credential", "sas");

        Assert.Equal((1, "error: The script's credential is a SAS, but no SAS token is configured: set LAKEHOUSE_SYNAPSE_SAS_TOKEN (or AZURE_STORAGE_SAS_TOKEN) to a SAS with read and list permissions on the lake's container.\n"),
            (r.ExitCode, r.Stderr));
    }
}
