using System.Net;
using System.Text;

namespace Lakehouse.Testing;

/// <summary>A request the receiver got.</summary>
public sealed record ReceivedRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body, DateTimeOffset At);

/// <summary>How the receiver answers one request: a status, optionally after a wait, with Retry-After or Location.</summary>
public sealed record Reply(int Status, string? RetryAfter = null, TimeSpan Delay = default, string? Location = null);

/// <summary>
/// A real HTTP server (HttpListener on 127.0.0.1, a free port) that records every request and answers the n-th one as the
/// test's script says. Used by every test of a webhook (gold's alerts, silver's quality gates). Requests are answered concurrently, so one held back does not hold back the next.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly HttpListener _listener;
    private readonly Func<int, Reply> _script;
    private readonly List<ReceivedRequest> _requests = [];
    private readonly List<Task> _answers = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _loop;

    private WebhookReceiver(HttpListener listener, int port, Func<int, Reply> script)
    {
        _listener = listener;
        _script = script;
        Port = port;
        _loop = Task.Run(ListenAsync);
    }

    public int Port { get; }

    /// <summary>The webhook URL, with a path that stands for a token (webhook URLs often carry one; logs must not).</summary>
    public Uri Uri => new($"http://127.0.0.1:{Port}/hooks/{PathToken}");

    public const string PathToken = "path-token-5f1e9c";

    public IReadOnlyList<ReceivedRequest> Requests
    {
        get
        {
            lock (_requests) return [.. _requests];
        }
    }

    /// <summary>Starts a receiver; <paramref name="script"/> gets the 1-based number of each request.</summary>
    public static WebhookReceiver Start(Func<int, Reply> script)
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = LocalServers.FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return new WebhookReceiver(listener, port, script);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                listener.Close(); // another process took the port between probing and listening: try another
            }
        }
    }

    private async Task ListenAsync()
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
            int number;
            using (var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8))
            {
                var body = await reader.ReadToEndAsync();
                var headers = context.Request.Headers.AllKeys.Where(k => k is not null).ToDictionary(k => k!, k => context.Request.Headers[k]!, StringComparer.OrdinalIgnoreCase);
                lock (_requests)
                {
                    _requests.Add(new ReceivedRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, headers, body, DateTimeOffset.UtcNow));
                    number = _requests.Count;
                }
            }
            var answer = AnswerAsync(context, _script(number), _stopping.Token);
            lock (_answers) _answers.Add(answer);
        }
    }

    private static async Task AnswerAsync(HttpListenerContext context, Reply reply, CancellationToken stopping)
    {
        try
        {
            if (reply.Delay > TimeSpan.Zero) await Task.Delay(reply.Delay, stopping);
            context.Response.StatusCode = reply.Status;
            if (reply.RetryAfter is not null) context.Response.Headers["Retry-After"] = reply.RetryAfter;
            if (reply.Location is not null) context.Response.Headers["Location"] = reply.Location;
            context.Response.ContentLength64 = 0;
            context.Response.Close();
        }
        catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException or IOException)
        {
            // The client gave up on this request (its timeout): nothing to answer.
        }
        catch (OperationCanceledException)
        {
            // The receiver is stopping: a delayed answer is not given.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        _listener.Stop();
        _listener.Close();
        await _loop;
        Task[] answers;
        lock (_answers) answers = [.. _answers];
        await Task.WhenAll(answers);
        _stopping.Dispose();
    }
}
