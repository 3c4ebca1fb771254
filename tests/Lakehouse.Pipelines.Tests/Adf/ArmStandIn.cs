using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Azure.Core.Pipeline;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Pipelines.Tests.Adf;

/// <summary>
/// A local HTTPS server (Kestrel on 127.0.0.1, a free port, a fresh self-signed certificate trusted only by the test's transport) that
/// speaks Azure Resource Manager's REST protocol for PUT of a resource: it records each request and answers 200 with the resource
/// (id, name, type, properties), or, for the resource ids the test names, an ARM error body with the status it gives.
/// </summary>
internal sealed class ArmStandIn : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly X509Certificate2 _certificate;

    private ArmStandIn(WebApplication app, X509Certificate2 certificate, Uri endpoint)
    {
        (_app, _certificate, Endpoint) = (app, certificate, endpoint);
    }

    /// <summary>https://127.0.0.1:port</summary>
    internal Uri Endpoint { get; }

    internal ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>Resource ids (paths, case-insensitive) that get an error, with the status and ARM error code and message.</summary>
    internal ConcurrentDictionary<string, (int Status, string Code, string Message)> Failures { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>One request: method, path, api-version, the Authorization header, the body.</summary>
    internal sealed record Received(string Method, string Path, string? ApiVersion, string? Authorization, JsonObject? Body);

    /// <summary>A transport that trusts this server's certificate and no other one.</summary>
    internal HttpClientTransport Transport()
    {
        var thumbprint = _certificate.Thumbprint;
#pragma warning disable CA2000 // the transport owns the handler
        var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, cert, _, _) => cert?.Thumbprint == thumbprint };
#pragma warning restore CA2000
        return new HttpClientTransport(handler);
    }

    internal static async Task<ArmStandIn> StartAsync()
    {
        var certificate = CreateCertificate();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0, l => l.UseHttps(certificate)));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        ArmStandIn? server = null;
        app.Run(async context =>
        {
            var request = context.Request;
            var text = await new StreamReader(request.Body).ReadToEndAsync();
            var body = text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null;
            var path = request.Path.Value!;
            server!.Requests.Enqueue(new Received(request.Method, path, request.Query["api-version"], request.Headers.Authorization, body));
            context.Response.ContentType = "application/json";
            if (server.Failures.TryGetValue(path, out var failure))
            {
                context.Response.StatusCode = failure.Status;
                context.Response.Headers["x-ms-failure-cause"] = "gateway";
                await context.Response.WriteAsync(new JsonObject { ["error"] = new JsonObject { ["code"] = failure.Code, ["message"] = failure.Message } }.ToJsonString());
                return;
            }

            if (request.Method != "PUT")
            {
                context.Response.StatusCode = 404;
                await context.Response.WriteAsync("""{"error":{"code":"ResourceNotFound","message":"the stand-in answers PUT only"}}""");
                return;
            }

            var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
            var answer = new JsonObject
            {
                ["id"] = path,
                ["name"] = segments[^1],
                ["type"] = segments.Length > 8 ? "Microsoft.DataFactory/factories/" + segments[^2] : "Microsoft.DataFactory/factories",
                ["properties"] = body?["properties"]?.DeepClone(),
                ["etag"] = "\"0000-" + server.Requests.Count + "\"",
            };
            if (body?["location"] is { } location) answer["location"] = location.DeepClone();
            await context.Response.WriteAsync(answer.ToJsonString());
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new ArmStandIn(app, certificate, new Uri(address));
        return server;
    }

    private static X509Certificate2 CreateCertificate()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var created = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(created.Export(X509ContentType.Pfx), null);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _certificate.Dispose();
    }
}
