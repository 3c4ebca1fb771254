using System.Diagnostics;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Lakehouse.Serve.Tests.Dashboard;

/// <summary>
/// Debian's <c>chromium</c>, headless, driven over the DevTools protocol (a WebSocket): it opens a page, evaluates
/// JavaScript in it (to wait for the page's scripts and read what they drew) and takes screenshots. tests/run.sh installs
/// chromium; when it is missing or does not start, <see cref="StartAsync"/> fails saying so (the test fails, never skips).
/// </summary>
internal sealed partial class HeadlessChromium : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _profile;
    private readonly ClientWebSocket _socket;
    private int _nextId;

    private HeadlessChromium(Process process, string profile, ClientWebSocket socket)
    {
        _process = process;
        _profile = profile;
        _socket = socket;
    }

    /// <summary>The chromium executable on PATH.</summary>
    internal static string Executable
    {
        get
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                foreach (var name in new[] { "chromium", "chromium-browser" })
                {
                    var path = Path.Combine(dir, name);
                    if (File.Exists(path)) return path;
                }
            }
            throw new InvalidOperationException(
                "Chromium is not installed, and the dashboard tests need it as the browser: run tests/run.sh (it installs Debian's chromium) or `apt-get install -y chromium`.");
        }
    }

    /// <summary>Starts chromium on <paramref name="url"/> (a window of <paramref name="width"/> × <paramref name="height"/>) and connects to that page.</summary>
    internal static async Task<HeadlessChromium> StartAsync(Uri url, int width = 1400, int height = 1000)
    {
        var profile = Path.Combine(Path.GetTempPath(), "lakehouse-test", "chromium-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(profile);
        var start = new ProcessStartInfo(Executable) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[]
        {
            "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-port=0", "--remote-debugging-address=127.0.0.1",
            $"--user-data-dir={profile}", $"--window-size={width},{height}", "--hide-scrollbars", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-dev-shm-usage", "--disable-background-networking", "--lang=en-US", url.ToString(),
        })
        {
            start.ArgumentList.Add(a);
        }
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new InvalidOperationException($"Chromium ({start.FileName}) did not start.");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"Chromium ({start.FileName}) cannot be started: {e.Message}", e);
        }
        _ = DrainAsync(process.StandardOutput);
        var stderr = new StringBuilder();
        try
        {
            // "DevTools listening on ws://127.0.0.1:<port>/devtools/browser/<id>" comes on standard error once it listens.
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            int? port = null;
            while (port is null)
            {
                var line = await process.StandardError.ReadLineAsync(timeout.Token)
                    ?? throw new InvalidOperationException($"Chromium exited (code {(process.WaitForExit(5000) ? process.ExitCode : -1)}) before it listened for DevTools:\n{stderr}");
                stderr.AppendLine(line);
                if (DevToolsLine().Match(line) is { Success: true } m) port = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            }
            _ = DrainAsync(process.StandardError);
            var socket = new ClientWebSocket();
            await socket.ConnectAsync(await PageSocketAsync(port.Value, timeout.Token), timeout.Token);
            var chromium = new HeadlessChromium(process, profile, socket);
            await chromium.SendAsync("Runtime.enable");
            await chromium.SendAsync("Page.enable");
            return chromium;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or WebSocketException or HttpRequestException)
        {
            Stop(process, profile);
            throw new InvalidOperationException($"Chromium did not start its DevTools endpoint in time: {e.Message}\n{stderr}", e);
        }
        catch
        {
            Stop(process, profile);
            throw;
        }
    }

    /// <summary>The WebSocket of the first page target (the page opened on the command line).</summary>
    private static async Task<Uri> PageSocketAsync(int port, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        while (true)
        {
            var list = JsonNode.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/json/list"), cancellationToken))!.AsArray();
            if (list.FirstOrDefault(t => (string?)t!["type"] == "page") is { } page) return new Uri((string)page["webSocketDebuggerUrl"]!);
            await Task.Delay(50, cancellationToken);
        }
    }

    private static async Task DrainAsync(StreamReader reader)
    {
        try
        {
            while (await reader.ReadLineAsync() is not null)
            {
                // Chromium's own log (D-Bus and GPU notices in a container); read so that it never blocks on a full pipe.
            }
        }
        catch (IOException)
        {
            // The process went away.
        }
    }

    /// <summary>Sends a DevTools command and returns its result (events that arrive meanwhile are skipped).</summary>
    internal async Task<JsonNode> SendAsync(string method, JsonObject? parameters = null)
    {
        var id = ++_nextId;
        var message = new JsonObject { ["id"] = id, ["method"] = method, ["params"] = parameters ?? new JsonObject() };
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[1 << 16];
        while (true)
        {
            using var received = new MemoryStream();
            WebSocketReceiveResult result;
            do
            {
                result = await _socket.ReceiveAsync(buffer, timeout.Token);
                if (result.MessageType == WebSocketMessageType.Close) throw new InvalidOperationException("Chromium closed the DevTools connection.");
                received.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);
            var answer = JsonNode.Parse(received.ToArray())!;
            if ((int?)answer["id"] != id) continue;
            if (answer["error"] is { } error) throw new InvalidOperationException($"DevTools {method} failed: {error.ToJsonString()}");
            return answer["result"]!;
        }
    }

    /// <summary>Evaluates <paramref name="expression"/> in the page (awaiting a promise) and returns its value as JSON.</summary>
    internal async Task<JsonElement> EvaluateAsync(string expression)
    {
        var result = await SendAsync("Runtime.evaluate", new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true });
        if (result["exceptionDetails"] is { } exception) throw new InvalidOperationException($"The page threw: {exception.ToJsonString()}");
        var value = result["result"]?["value"];
        return JsonDocument.Parse(value?.ToJsonString() ?? "null").RootElement.Clone();
    }

    /// <summary>
    /// Waits until <paramref name="condition"/> (a JavaScript expression) is true in the page; false after <paramref name="timeout"/>.
    /// While the page is still loading (no body yet), a condition that throws counts as false.
    /// </summary>
    internal async Task<bool> WaitForAsync(string condition, TimeSpan timeout)
    {
        var check = $"(() => {{ try {{ return !!({condition}); }} catch {{ return false; }} }})()";
        for (var clock = Stopwatch.StartNew(); clock.Elapsed < timeout; await Task.Delay(100))
        {
            if ((await EvaluateAsync(check)).GetBoolean()) return true;
        }
        return (await EvaluateAsync(check)).GetBoolean();
    }

    /// <summary>A PNG of the whole page (beyond the window when it is taller).</summary>
    internal async Task<byte[]> ScreenshotAsync()
    {
        var metrics = await SendAsync("Page.getLayoutMetrics");
        var size = metrics["cssContentSize"]!;
        var clip = new JsonObject { ["x"] = 0, ["y"] = 0, ["width"] = (double)size["width"]!, ["height"] = (double)size["height"]!, ["scale"] = 1 };
        var shot = await SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png", ["captureBeyondViewport"] = true, ["clip"] = clip });
        return Convert.FromBase64String((string)shot["data"]!);
    }

    private static void Stop(Process process, string profile)
    {
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(10_000);
        }
        catch (InvalidOperationException)
        {
            // It has exited.
        }
        process.Dispose();
        try
        {
            Directory.Delete(profile, recursive: true);
        }
        catch (IOException)
        {
            // A file still held by a child that is going away; the temp cleaner takes it.
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException)
        {
            // Closing anyway.
        }
        _socket.Dispose();
        Stop(_process, _profile);
    }

    [GeneratedRegex(@"DevTools listening on ws://[^:]+:(\d+)/")]
    private static partial Regex DevToolsLine();
}
