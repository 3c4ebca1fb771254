using System.Net;

namespace Lakehouse.Testing;

/// <summary>What <see cref="FaultProxy"/> does with one request.</summary>
public enum FaultKind
{
    /// <summary>Forwards it and returns the answer.</summary>
    None,

    /// <summary>Answers 500 without forwarding it.</summary>
    Status500,

    /// <summary>Answers 503 (server busy) without forwarding it.</summary>
    Status503,

    /// <summary>Forwards it (the server does the work), then answers 500: the client cannot know the work was done.</summary>
    LostResponse500,

    /// <summary>Forwards it, sends the status, headers and half the body, then resets the connection.</summary>
    ResetMidBody,

    /// <summary>Waits <see cref="FaultProxy.SlowDelay"/>, then forwards it.</summary>
    Slow,
}

/// <summary>One request that went through the proxy and what was done to it.</summary>
public sealed record ProxiedRequest(string Method, string Path, FaultKind Fault);

/// <summary>
/// A small HTTP reverse proxy on 127.0.0.1 (a free port) in front of a real server (Azurite), that injects faults decided per
/// request by <see cref="Plan"/>: 500 and 503 answers, responses lost after the server did the work, connections reset in the
/// middle of a body, slow answers. Clients reach the server through <see cref="Endpoint"/> with the same paths, so shared-key
/// signatures (which sign the path, not the host) stay valid.
/// </summary>
public sealed class FaultProxy : IAsyncDisposable
{
    private static readonly HashSet<string> HopHeaders = new(StringComparer.OrdinalIgnoreCase)
    {
        "Host", "Connection", "Keep-Alive", "Transfer-Encoding", "Content-Length", "Expect", "Proxy-Connection", "Upgrade",
    };

    private readonly HttpListener _listener = new();
    private readonly HttpClient _upstream = new(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None });
    private readonly Uri _target;
    private readonly Task _loop;
    private readonly List<ProxiedRequest> _requests = [];

    private FaultProxy(Uri target, int port)
    {
        _target = target;
        Endpoint = new Uri($"http://127.0.0.1:{port}/");
        _listener.Prefixes.Add(Endpoint.ToString());
        _listener.Start();
        _loop = Task.Run(AcceptAsync);
    }

    /// <summary>The proxy's address; requests to <c>Endpoint + path</c> go to <c>target + path</c>.</summary>
    public Uri Endpoint { get; }

    /// <summary>Decides the fault of each request (method, path and query, the request's number from 1); none when null.</summary>
    public Func<string, string, int, FaultKind>? Plan { get; set; }

    /// <summary>How long a <see cref="FaultKind.Slow"/> answer waits.</summary>
    public TimeSpan SlowDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The requests so far, in arrival order.</summary>
    public IReadOnlyList<ProxiedRequest> Requests
    {
        get
        {
            lock (_requests) return [.. _requests];
        }
    }

    /// <summary>Starts a proxy in front of <paramref name="target"/> (scheme, host and port; its path is ignored).</summary>
    public static FaultProxy Start(Uri target) => new(target, LocalServers.FreePort());

    private async Task AcceptAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            _ = Task.Run(() => HandleAsync(context));
        }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var request = context.Request;
        var response = context.Response;
        var path = request.RawUrl ?? "/";
        int number;
        FaultKind fault;
        lock (_requests)
        {
            number = _requests.Count + 1;
            fault = Plan?.Invoke(request.HttpMethod, path, number) ?? FaultKind.None;
            _requests.Add(new ProxiedRequest(request.HttpMethod, path, fault));
        }
        try
        {
            using var body = new MemoryStream();
            await request.InputStream.CopyToAsync(body).ConfigureAwait(false);
            if (fault is FaultKind.Status500 or FaultKind.Status503)
            {
                await AnswerAsync(response, fault == FaultKind.Status500 ? 500 : 503, fault == FaultKind.Status500 ? "InternalError" : "ServerBusy").ConfigureAwait(false);
                return;
            }
            if (fault == FaultKind.Slow) await Task.Delay(SlowDelay).ConfigureAwait(false);
            using var forward = new HttpRequestMessage(new HttpMethod(request.HttpMethod), new Uri(_target, path));
            if (body.Length > 0 || request.HttpMethod is "PUT" or "POST") forward.Content = new ByteArrayContent(body.ToArray());
            foreach (var name in request.Headers.AllKeys)
            {
                if (name is null || HopHeaders.Contains(name)) continue;
                var value = request.Headers[name]!;
                if (!forward.Headers.TryAddWithoutValidation(name, value)) forward.Content?.Headers.TryAddWithoutValidation(name, value);
            }
            using var answer = await _upstream.SendAsync(forward).ConfigureAwait(false);
            var bytes = await answer.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            if (fault == FaultKind.LostResponse500)
            {
                await AnswerAsync(response, 500, "InternalError").ConfigureAwait(false);
                return;
            }
            response.StatusCode = (int)answer.StatusCode;
            foreach (var header in answer.Headers.Concat(answer.Content.Headers))
            {
                if (HopHeaders.Contains(header.Key)) continue;
                try
                {
                    response.Headers[header.Key] = string.Join(",", header.Value);
                }
                catch (ArgumentException)
                {
                    // A header HttpListener sets itself.
                }
            }
            if (request.HttpMethod == "HEAD")
            {
                // A HEAD answer has no body but says how long the GET's would be.
                response.ContentLength64 = answer.Content.Headers.ContentLength ?? 0;
                response.Close();
                return;
            }
            response.ContentLength64 = bytes.Length;
            if (fault == FaultKind.ResetMidBody && bytes.Length > 1)
            {
                await response.OutputStream.WriteAsync(bytes.AsMemory(0, bytes.Length / 2)).ConfigureAwait(false);
                await response.OutputStream.FlushAsync().ConfigureAwait(false);
                response.Abort();
                return;
            }
            await response.OutputStream.WriteAsync(bytes).ConfigureAwait(false);
            response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or IOException or HttpRequestException or ObjectDisposedException)
        {
            response.Abort();
        }
    }

    private static async Task AnswerAsync(HttpListenerResponse response, int status, string code)
    {
        var error = System.Text.Encoding.UTF8.GetBytes($"<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>{code}</Code><Message>injected by the test's fault proxy</Message></Error>");
        response.StatusCode = status;
        response.ContentType = "application/xml";
        response.Headers["x-ms-error-code"] = code;
        response.ContentLength64 = error.Length;
        await response.OutputStream.WriteAsync(error).ConfigureAwait(false);
        response.Close();
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        _listener.Close();
        await _loop.ConfigureAwait(false);
        _upstream.Dispose();
    }
}
