using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze.Tests.Simulator;

/// <summary>A real HTTP server (Kestrel on 127.0.0.1, a free port) that records each POST and answers as the test says.</summary>
internal sealed class IngestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private IngestServer(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>http://127.0.0.1:port</summary>
    internal Uri Address { get; }

    internal ConcurrentQueue<Received> Requests { get; } = new();

    /// <summary>One request as the server read it.</summary>
    internal sealed record Received(string Path, string? ContentType, string? IdempotencyKey, byte[] Body);

    /// <summary>The answer to request number n (1-based): status, Retry-After header, body, and Idempotent-Replayed.</summary>
    internal sealed record Answer(int Status, string? RetryAfter = null, string Body = "", bool Replayed = false);

    internal static async Task<IngestServer> StartAsync(Func<int, Answer> answer)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        IngestServer? server = null;
        var count = 0;
        app.Run(async context =>
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            server!.Requests.Enqueue(new Received(context.Request.Path, context.Request.ContentType,
                context.Request.Headers.TryGetValue("Idempotency-Key", out var key) ? key.ToString() : null, body.ToArray()));
            var a = answer(Interlocked.Increment(ref count));
            context.Response.StatusCode = a.Status;
            if (a.RetryAfter is not null) context.Response.Headers.RetryAfter = a.RetryAfter;
            if (a.Replayed) context.Response.Headers["Idempotent-Replayed"] = "true";
            await context.Response.WriteAsync(a.Body);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server = new IngestServer(app, new Uri(address));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
