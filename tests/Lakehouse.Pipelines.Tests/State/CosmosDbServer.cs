using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Lakehouse.Pipelines.State;
using Lakehouse.Testing;

namespace Lakehouse.Pipelines.Tests.State;

/// <summary>
/// A real Cosmos DB NoSQL server (npm <c>@vercel/cosmosdb-server</c> 1.0.1, in memory) on a free loopback port, for one
/// test class. Installs it into <c>~/.cache/lakehouse/npm/cosmosdb-server</c> on first use (under a file lock), makes a
/// fresh self-signed certificate for 127.0.0.1/localhost with openssl (the package's own has expired) and kills the server on
/// dispose; a watchdog in node also ends it when the test process dies. Clients from <see cref="CreateStore"/> trust exactly
/// that certificate, only in their own HTTP handler.
/// </summary>
public sealed class CosmosDbServer : IAsyncLifetime
{
    /// <summary>The server version the tests run against.</summary>
    public const string Version = "1.0.1";

    /// <summary>The Cosmos DB emulator's published, well-known key (not a secret; this server accepts any key).</summary>
    public const string Key = "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw==";

    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(10);
    private readonly StringBuilder _output = new();
    private Process? _process;
    private string? _workspace;
    private string? _thumbprint;

    /// <summary>The port the server listens on (127.0.0.1).</summary>
    public int Port { get; private set; }

    /// <summary>The server's self-signed certificate (PEM): a child process trusts it through <c>SSL_CERT_FILE</c>.</summary>
    public string CertificatePath => Path.Combine(_workspace ?? throw new InvalidOperationException("cosmosdb-server is not started."), "cert.pem");

    /// <summary>The account endpoint.</summary>
    public Uri Endpoint => new($"https://127.0.0.1:{Port}/");

    /// <summary>Installs, makes the certificate, starts.</summary>
    public async Task InitializeAsync()
    {
        var package = await EnsureInstalledAsync().ConfigureAwait(false);
        _workspace = Path.Combine(Path.GetTempPath(), "lakehouse-cosmos", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(_workspace);
        var cert = Path.Combine(_workspace, "cert.pem");
        var key = Path.Combine(_workspace, "key.pem");
        var (exit, output) = await LocalServers.RunAsync("openssl", [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], TimeSpan.FromMinutes(1)).ConfigureAwait(false);
        if (exit != 0) throw new InvalidOperationException($"openssl could not make the test certificate (exit {exit}):\n{output}");
        using (var certificate = X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(cert).ConfigureAwait(false)))
            _thumbprint = certificate.GetCertHashString();

        var script = Path.Combine(_workspace, "start.js");
        await File.WriteAllTextAsync(script, StartScript).ConfigureAwait(false);
        for (var attempt = 1; ; attempt++)
        {
            Port = LocalServers.FreePort();
            _process = Start(script, package, cert, key, Port);
            if (await LocalServers.WaitUntilListeningAsync(_process, Port, TimeSpan.FromSeconds(60)).ConfigureAwait(false)) return;
            LocalServers.Kill(_process);
            if (attempt == 3) throw new InvalidOperationException($"cosmosdb-server did not start on 127.0.0.1:{Port}. Output:\n{Output()}");
        }
    }

    /// <summary>Kills the server and deletes its workspace.</summary>
    public async Task DisposeAsync()
    {
        await LocalServers.StopAsync(_process, _workspace).ConfigureAwait(false);
    }

    /// <summary>A state store on this server, in its own database, trusting this server's certificate only.</summary>
    internal CosmosPipelineStateStore CreateStore(string database)
    {
        var options = CosmosPipelineStateStore.CreateClientOptions();
        options.LimitToEndpoint = true;
        var thumbprint = _thumbprint ?? throw new InvalidOperationException("cosmosdb-server is not started.");
        options.HttpClientFactory = () => new HttpClient(new EmulatorQuirks(new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, certificate, _, _) =>
                certificate is not null && string.Equals(certificate.GetCertHashString(), thumbprint, StringComparison.OrdinalIgnoreCase),
        }));
        return new CosmosPipelineStateStore(new CosmosStateOptions { Endpoint = Endpoint, Key = Key, Database = database }, options);
    }

    /// <summary>The server's console output so far.</summary>
    public string Output()
    {
        lock (_output) return _output.ToString();
    }

    /// <summary>
    /// cosmosdb-server answers 500 (a TypeError) instead of 404 to a read of a missing document; Azure answers 404. This
    /// handler turns exactly that answer back into the 404 the service gives, so the store is tested against the service's
    /// contract. Nothing else is touched.
    /// </summary>
    private sealed class EmulatorQuirks(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
            if (request.Method != HttpMethod.Get || response.StatusCode != HttpStatusCode.InternalServerError
                || request.RequestUri?.AbsolutePath.Contains("/docs/", StringComparison.Ordinal) != true)
                return response;
            var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (!body.Contains("Cannot read properties of undefined", StringComparison.Ordinal))
            {
                response.Content = new StringContent(body, Encoding.UTF8, "application/json");
                return response;
            }
            response.Dispose();
            return new HttpResponseMessage(HttpStatusCode.NotFound)
            {
                RequestMessage = request,
                Content = new StringContent("""{"code":"NotFound","message":"Entity with the specified id does not exist in the system."}""", Encoding.UTF8, "application/json"),
            };
        }
    }

    /// <summary>The installed package folder (containing <c>lib/index.js</c>), installing it with npm first when missing.</summary>
    public static Task<string> EnsureInstalledAsync(CancellationToken cancellationToken = default) =>
        LocalServers.NpmPackageAsync("@vercel/cosmosdb-server", Version, Path.Combine("lib", "index.js"), InstallTimeout, cancellationToken);

    private Process Start(string script, string package, string cert, string key, int port)
    {
        var start = new ProcessStartInfo("node") { WorkingDirectory = _workspace };
        foreach (var argument in new[] { script, package, cert, key, port.ToString(CultureInfo.InvariantCulture) }) start.ArgumentList.Add(argument);
        return LocalServers.StartServer(start, _output);
    }

    /// <summary>Starts the server through its JavaScript API with the fresh certificate; exits when the test process is gone.</summary>
    private const string StartScript = """
        const [pkg, certPath, keyPath, port] = process.argv.slice(2);
        const fs = require("fs");
        const { createHttpsServer } = require(pkg);
        const server = createHttpsServer({ cert: fs.readFileSync(certPath), key: fs.readFileSync(keyPath) });
        server.listen(Number(port), "127.0.0.1", () => console.log("listening on " + port));
        const parent = Number(process.env.LAKEHOUSE_PARENT_PID);
        if (parent > 0) {
          setInterval(() => { try { process.kill(parent, 0); } catch { process.exit(0); } }, 1000).unref();
        }
        """;
}
