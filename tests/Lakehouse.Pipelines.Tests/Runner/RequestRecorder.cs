using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lakehouse.Testing;

namespace Lakehouse.Pipelines.Tests.Runner;

/// <summary>A real HTTP listener on 127.0.0.1 and a free port that records every request and answers 200 with a JSON body.</summary>
public sealed class RequestRecorder : IDisposable
{
    private readonly HttpListener _listener;
    private readonly List<(string Method, string Path, string Body, Dictionary<string, string> Headers)> _requests = [];
    private readonly Task _loop;

    public RequestRecorder()
    {
        // A new listener per attempt: one whose Start failed on a port taken meanwhile kept that port among its prefixes, and its
        // Close then tried to bind it again ("Address already in use", CI 2026-12-05).
        for (var attempt = 0; ; attempt++)
        {
            Port = LocalServers.FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try
            {
                listener.Start();
                _listener = listener;
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                try
                {
                    listener.Close();
                }
                catch (HttpListenerException)
                {
                    // the port it could not take
                }
            }
        }
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

    /// <summary>The body to answer with instead of the echo (UTF-8), and whether it is sent chunked (without a Content-Length).</summary>
    public (string Body, bool Chunked)? Reply { get; set; }

    public Uri Uri(string path) => new($"http://127.0.0.1:{Port}{path}");

    public IReadOnlyList<(string Method, string Path, string Body, Dictionary<string, string> Headers)> Requests
    {
        get
        {
            lock (_requests) return [.. _requests];
        }
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var headers = context.Request.Headers.AllKeys.OfType<string>().ToDictionary(k => k, k => context.Request.Headers[k] ?? "", StringComparer.OrdinalIgnoreCase);
            lock (_requests) _requests.Add((context.Request.HttpMethod, context.Request.Url!.AbsolutePath, body, headers));
            var reply = Encoding.UTF8.GetBytes(Reply?.Body ?? "{\"ok\":true,\"echo\":" + (body.Length == 0 ? "null" : JsonValue.Create(body).ToJsonString()) + "}");
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            if (Reply?.Chunked == true) context.Response.SendChunked = true;
            else context.Response.ContentLength64 = reply.Length;
            try
            {
                await context.Response.OutputStream.WriteAsync(reply);
                context.Response.Close();
            }
            catch (HttpListenerException)
            {
                // the client stopped reading (a reply it refuses as too large)
            }
        }
    }

    public void Dispose()
    {
        try
        {
            _listener.Stop();
            _listener.Close();
        }
        catch (HttpListenerException)
        {
            // .NET's managed listener can try to bind a port again while closing; the test's requests are already recorded
        }
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
