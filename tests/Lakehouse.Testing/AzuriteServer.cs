using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Lakehouse.Storage;
using Xunit;

namespace Lakehouse.Testing;

/// <summary>
/// A real Azurite blob service (npm <c>azurite</c> 3.35.0) on a free loopback port, in memory, for one test class
/// (<c>IClassFixture&lt;AzuriteServer&gt;</c>). Installs Azurite into <c>~/.cache/lakehouse/npm/azurite</c> on first use
/// (under a file lock, so parallel test processes install once), and kills the process on dispose; a watchdog inside node
/// also ends it if the test process dies first. Each test takes its own container from <see cref="CreateContainerAsync"/>.
/// </summary>
public sealed class AzuriteServer : IAsyncLifetime
{
    /// <summary>The Azurite version the tests run against.</summary>
    public const string Version = "3.35.0";

    /// <summary>The emulator's well-known account.</summary>
    public const string AccountName = "devstoreaccount1";

    /// <summary>The emulator's published, well-known account key (not a secret).</summary>
    public const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private const string ApiVersion = "2021-08-06";
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(10);

    private readonly StringBuilder _output = new();
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };
    private Process? _process;
    private string? _workspace;
    private string? _main;

    /// <summary>True when Azurite keeps its blobs in a folder of the workspace (<see cref="StartPersistentAsync"/>), not in memory.</summary>
    public bool Persistent { get; private init; }

    /// <summary>
    /// Starts an Azurite that keeps its blobs on disk in its workspace, so that <see cref="StopAsync"/> and
    /// <see cref="RestartAsync"/> stop it and start it again on the same port with the same data (dispose it when done).
    /// </summary>
    public static async Task<AzuriteServer> StartPersistentAsync()
    {
        var server = new AzuriteServer { Persistent = true };
        await server.InitializeAsync().ConfigureAwait(false);
        return server;
    }

    /// <summary>
    /// Stops Azurite as an operator would (SIGTERM: it stops listening, drops its connections and saves its metadata, then
    /// exits; SIGKILL after 15 s); its data folder stays for <see cref="RestartAsync"/>. Not SIGKILL: Azurite saves blob metadata
    /// only every 5 s, so a killed Azurite forgets blobs it acknowledged, which Azure Storage never does.
    /// </summary>
    public async Task StopAsync()
    {
        if (!Persistent) throw new InvalidOperationException("An in-memory Azurite loses everything when stopped: use StartPersistentAsync.");
        if (_process is null) return;
        using (var kill = Process.Start(new ProcessStartInfo("kill", ["-TERM", _process.Id.ToString(CultureInfo.InvariantCulture)]) { UseShellExecute = false })!)
            await kill.WaitForExitAsync().ConfigureAwait(false);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        try
        {
            await _process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            LocalServers.Kill(_process);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        _process.Dispose();
        _process = null;
    }

    /// <summary>Starts Azurite again on the same port with the same data folder, after <see cref="StopAsync"/>.</summary>
    public async Task RestartAsync()
    {
        if (!Persistent || _main is null || _workspace is null) throw new InvalidOperationException("Only a started persistent Azurite restarts.");
        if (_process is not null) throw new InvalidOperationException("Azurite is running: StopAsync first.");
        // The port was ours a moment ago; a few tries in case the kernel has not let go of it yet.
        for (var attempt = 1; ; attempt++)
        {
            _process = Start(_main, Path.Combine(_workspace, "watchdog.js"), _workspace, Port);
            if (await LocalServers.WaitUntilListeningAsync(_process, Port, StartTimeout).ConfigureAwait(false)) return;
            LocalServers.Kill(_process);
            _process = null;
            if (attempt == 3) throw new InvalidOperationException($"Azurite did not start again on 127.0.0.1:{Port}. Output:\n{Output()}");
            await Task.Delay(500).ConfigureAwait(false);
        }
    }

    /// <summary>The port Azurite listens on (127.0.0.1).</summary>
    public int Port { get; private set; }

    /// <summary>The account's blob endpoint, path-style: <c>http://127.0.0.1:PORT/devstoreaccount1</c>.</summary>
    public Uri BlobEndpoint => new($"http://127.0.0.1:{Port}/{AccountName}");

    /// <summary>A connection string for the emulator with the well-known key.</summary>
    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={AccountName};AccountKey={AccountKey};BlobEndpoint={BlobEndpoint};";

    /// <summary>
    /// Shared-key options for this server (few retries, so failures show quickly), with the download cache in the server's
    /// workspace, so tests leave nothing in the user's cache folder.
    /// </summary>
    public LakeStorageOptions CreateOptions() => new()
    {
        AccountKey = AccountKey,
        BlobEndpoint = BlobEndpoint,
        MaxRetries = 2,
        CacheDirectory = Path.Combine(_workspace ?? throw new InvalidOperationException("Azurite is not started."), "blob-cache"),
    };

    /// <summary>Installs Azurite if needed and starts it.</summary>
    public async Task InitializeAsync()
    {
        var main = _main = await EnsureInstalledAsync().ConfigureAwait(false);
        _workspace = Path.Combine(Path.GetTempPath(), "lakehouse-azurite", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_workspace);
        var watchdog = Path.Combine(_workspace, "watchdog.js");
        await File.WriteAllTextAsync(watchdog, WatchdogScript).ConfigureAwait(false);

        // A port picked by binding :0 can be taken by someone else before Azurite binds it: try a few.
        for (var attempt = 1; ; attempt++)
        {
            Port = LocalServers.FreePort();
            _process = Start(main, watchdog, _workspace, Port);
            if (await LocalServers.WaitUntilListeningAsync(_process, Port, StartTimeout).ConfigureAwait(false)) return;
            LocalServers.Kill(_process);
            if (attempt == 3)
                throw new InvalidOperationException($"Azurite did not start on 127.0.0.1:{Port}. Output:\n{Output()}");
        }
    }

    /// <summary>Kills Azurite (and anything it started) and deletes its workspace.</summary>
    public async Task DisposeAsync()
    {
        _http.Dispose();
        await LocalServers.StopAsync(_process, _workspace).ConfigureAwait(false);
    }

    /// <summary>Creates a fresh container with a unique name; dispose the result to delete it.</summary>
    public async Task<AzuriteContainer> CreateContainerAsync(string prefix = "t", CancellationToken cancellationToken = default)
    {
        var name = (prefix.ToLowerInvariant() + "-" + Guid.NewGuid().ToString("N"))[..Math.Min(63, prefix.Length + 33)];
        using var response = await SendSignedAsync(HttpMethod.Put, name + "?restype=container", cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Created)
            throw new InvalidOperationException($"Create Container '{name}' answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
        return new AzuriteContainer(this, name);
    }

    /// <summary>Deletes a container (missing is fine).</summary>
    public async Task DeleteContainerAsync(string name, CancellationToken cancellationToken = default)
    {
        using var response = await SendSignedAsync(HttpMethod.Delete, name + "?restype=container", cancellationToken).ConfigureAwait(false);
        if (response.StatusCode is not (HttpStatusCode.Accepted or HttpStatusCode.NotFound))
            throw new InvalidOperationException($"Delete Container '{name}' answered {(int)response.StatusCode}.");
    }

    /// <summary>
    /// Sends a body-less request signed with the account key (its own small Shared Key signer, independent of the
    /// storage code under test). <paramref name="pathAndQuery"/> is relative to the account endpoint, already escaped.
    /// </summary>
    public async Task<HttpResponseMessage> SendSignedAsync(HttpMethod method, string pathAndQuery, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, new Uri(BlobEndpoint + "/" + pathAndQuery));
        var date = DateTimeOffset.UtcNow.ToString("r", CultureInfo.InvariantCulture);
        request.Headers.Add("x-ms-date", date);
        request.Headers.Add("x-ms-version", ApiVersion);
        var uri = request.RequestUri!;
        var canonicalQuery = uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Select(p => (Name: Uri.UnescapeDataString(p[0]).ToLowerInvariant(), Value: p.Length > 1 ? Uri.UnescapeDataString(p[1]) : ""))
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => "\n" + p.Name + ":" + p.Value);
        var stringToSign = $"{method.Method}\n\n\n\n\n\n\n\n\n\n\n\nx-ms-date:{date}\nx-ms-version:{ApiVersion}\n/{AccountName}{uri.AbsolutePath}{string.Concat(canonicalQuery)}";
        var signature = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(AccountKey), Encoding.UTF8.GetBytes(stringToSign)));
        request.Headers.TryAddWithoutValidation("Authorization", $"SharedKey {AccountName}:{signature}");
        return await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The path of Azurite's blob entry point, installing <c>azurite@3.35.0</c> with npm first when it is not in the cache.
    /// The install runs into a staging folder under an exclusive file lock and is renamed into place when complete.
    /// </summary>
    public static async Task<string> EnsureInstalledAsync(CancellationToken cancellationToken = default)
    {
        var main = Path.Combine("dist", "src", "blob", "main.js");
        return Path.Combine(await LocalServers.NpmPackageAsync("azurite", Version, main, InstallTimeout, cancellationToken).ConfigureAwait(false), main);
    }

    /// <summary>Azurite's console output so far (for failure messages).</summary>
    public string Output()
    {
        lock (_output) return _output.ToString();
    }

    private Process Start(string main, string watchdog, string workspace, int port)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = workspace };
        foreach (var argument in new[]
        {
            "--require", watchdog, main,
            "--blobHost", "127.0.0.1", "--blobPort", port.ToString(CultureInfo.InvariantCulture),
            // --skipApiVersionCheck: Azure.Storage.Blobs 12.30 sends x-ms-version 2026-10-06, newer than Azurite 3.35 knows. The
            // emulator is told to accept it rather than the product pinning an older service version (AzureBlobLakeStorage).
            "--disableTelemetry", "--loose", "--skipApiVersionCheck", "--silent",
        })
        {
            start.ArgumentList.Add(argument);
        }
        if (Persistent)
        {
            start.ArgumentList.Add("--location");
            start.ArgumentList.Add(Path.Combine(workspace, "data"));
        }
        else
        {
            start.ArgumentList.Add("--inMemoryPersistence");
        }
        return LocalServers.StartServer(start, _output);
    }

    /// <summary>Loaded into node before Azurite: exits when the test process that started it is gone.</summary>
    private const string WatchdogScript = """
        const parent = Number(process.env.LAKEHOUSE_PARENT_PID);
        if (parent > 0) {
          setInterval(() => {
            try { process.kill(parent, 0); } catch { process.exit(0); }
          }, 1000).unref();
        }
        """;
}
