using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Lakehouse.Pipelines.Runner;
using Lakehouse.Pipelines.State;
using Lakehouse.Testing;

namespace Lakehouse.Pipelines.Tests.Runner;

/// <summary>A temp folder with a pipeline/ folder and a lake, and a runner on that lake (SQLite state).</summary>
public abstract class RunnerTestKit : IAsyncLifetime
{
    protected TempDirectory Temp { get; } = new("runner");

    protected string Lake => Temp.Combine("lake");

    protected string Work => Temp.Combine("work");

    protected PipelineRunner Runner { get; private set; } = null!;

    protected PipelineWebhookOptions? Webhook { get; set; }

    public virtual Task InitializeAsync()
    {
        Directory.CreateDirectory(Work);
        Directory.CreateDirectory(Temp.Combine("pipeline"));
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync()
    {
        if (Runner is not null) await Runner.DisposeAsync();
        Temp.Dispose();
    }

    protected PipelineRunner CreateRunner()
    {
        Runner = new PipelineRunner(new PipelineRunnerOptions { LakeRoot = Lake, Webhook = Webhook });
        return Runner;
    }

    /// <summary>Writes pipeline/&lt;name&gt;.json with these activities, parameters and variables, and returns its path.</summary>
    protected string Pipeline(string name, JsonArray activities, JsonObject? parameters = null, JsonObject? variables = null)
    {
        var properties = new JsonObject { ["activities"] = activities };
        if (parameters is not null) properties["parameters"] = parameters;
        if (variables is not null) properties["variables"] = variables;
        var path = Temp.Combine("pipeline", name + ".json");
        File.WriteAllText(path, new JsonObject { ["name"] = name, ["properties"] = properties }.ToJsonString());
        return path;
    }

    protected static JsonObject Custom(string name, string command, JsonObject? policy = null, params (string Activity, string[] Conditions)[] dependsOn) =>
        Activity(name, "Custom", new JsonObject { ["command"] = command }, policy, dependsOn);

    protected static JsonObject Activity(string name, string type, JsonObject typeProperties, JsonObject? policy = null, params (string Activity, string[] Conditions)[] dependsOn)
    {
        var activity = new JsonObject
        {
            ["name"] = name,
            ["type"] = type,
            ["dependsOn"] = new JsonArray(dependsOn.Select(d => (JsonNode)new JsonObject
            {
                ["activity"] = d.Activity,
                ["dependencyConditions"] = new JsonArray(d.Conditions.Select(c => (JsonNode)JsonValue.Create(c)).ToArray()),
            }).ToArray()),
            ["typeProperties"] = typeProperties,
        };
        if (policy is not null) activity["policy"] = policy;
        return activity;
    }

    protected static JsonObject Retry(int retry, string timeout = "0.00:05:00") =>
        new() { ["retry"] = retry, ["retryIntervalInSeconds"] = 0, ["timeout"] = timeout };

    protected static (string, string[]) On(string activity, params string[] conditions) => (activity, conditions);

    protected static RunStatus StatusOf(PipelineRunResult result, string activity) => result.Activities.Single(a => a.ActivityName == activity).Status;
}

/// <summary>A real HTTP listener on 127.0.0.1 and a free port that records every request and answers 200 with a JSON body.</summary>
public sealed class RequestRecorder : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly List<(string Method, string Path, string Body, Dictionary<string, string> Headers)> _requests = [];
    private readonly Task _loop;

    public RequestRecorder()
    {
        for (var attempt = 0; ; attempt++)
        {
            Port = LocalServers.FreePort();
            _listener.Prefixes.Clear();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < 5)
            {
            }
        }
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }

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
            var reply = Encoding.UTF8.GetBytes("{\"ok\":true,\"echo\":" + (body.Length == 0 ? "null" : JsonValue.Create(body).ToJsonString()) + "}");
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/json";
            await context.Response.OutputStream.WriteAsync(reply);
            context.Response.Close();
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
