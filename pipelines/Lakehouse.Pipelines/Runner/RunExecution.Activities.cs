using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lakehouse.Core;
using Lakehouse.Pipelines.State;

namespace Lakehouse.Pipelines.Runner;

/// <summary>What each activity type does.</summary>
internal sealed partial class RunExecution
{
    private Task<JsonNode?> ExecuteAsync(JsonObject activity, string type, string key, int attempt, DateTimeOffset started, Scope scope, CancellationToken cancellationToken)
    {
        var props = activity["typeProperties"] as JsonObject ?? [];
        return type switch
        {
            "Custom" => CustomAsync(props, key, attempt, started, scope, cancellationToken),
            "Script" => ScriptAsync(props, key, scope, cancellationToken),
            "WebActivity" => WebAsync(props, key, scope, cancellationToken),
            "ExecutePipeline" => ExecutePipelineAsync(props, key, scope, cancellationToken),
            "ForEach" => ForEachAsync(props, key, scope, cancellationToken),
            "IfCondition" => IfConditionAsync(props, key, scope, cancellationToken),
            "Until" => UntilAsync(props, key, scope, cancellationToken),
            "Wait" => WaitAsync(props, key, scope, cancellationToken),
            "Fail" => FailAsync(props, key, scope),
            "SetVariable" or "AppendVariable" => Task.FromResult(SetVariable(type, props, scope)),
            _ => throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature, $"The activity type '{type}' is unknown to the local runner."),
        };
    }

    /// <summary>The error code of a Custom activity whose <c>lakehouse</c> command ended with a usage error (exit 2): never retried.</summary>
    internal const string UsageErrorCode = "LakehouseUsageError";

    /// <summary>The exit codes of a command ended by SIGINT and SIGTERM (128 + the signal).</summary>
    private const int SigIntExit = 130;
    private const int SigTermExit = 143;

    /// <summary>The longest Wait: a timer's longest due time (2^32 - 2 ms), in whole seconds.</summary>
    private const long MaxWaitSeconds = (uint.MaxValue - 1L) / 1000;

    /// <summary>How long a command ended by SIGINT or SIGTERM waits for the run's own stop before it counts as failed.</summary>
    private static readonly TimeSpan SignalGrace = TimeSpan.FromSeconds(2);

    private async Task<JsonNode?> CustomAsync(JsonObject props, string key, int attempt, DateTimeOffset started, Scope scope, CancellationToken cancellationToken)
    {
        var command = PipelineValues.Text(PipelineValues.Evaluate(props["command"], Context(scope)));
        if (string.IsNullOrWhiteSpace(command)) throw new ActivityFailedException($"Activity '{key}': the command is empty.", "CustomCommandEmpty");
        System.Diagnostics.ProcessStartInfo start;
        try
        {
            start = CustomCommand.StartInfo(command, _runner.LakehouseCommand);
        }
        catch (FormatException e)
        {
            throw new ActivityFailedException($"Activity '{key}': {e.Message}: {command}", "CustomCommandInvalid");
        }
        start.Environment["LAKEHOUSE_PIPELINE_RUN_ID"] = RunId;
        start.Environment["LAKEHOUSE_PIPELINE_ACTIVITY"] = key;
        var logFile = Path.Combine(LogDirectory, SafeFileName(key) + ".log");
        var result = await CustomCommand.RunAsync(start, logFile, _runner.Options.OutputTailBytes, Secure.Redact,
            (pid, processStart) => SaveAsync(new ActivityRunRecord(RunId, key, attempt, RunStatus.InProgress,
                new JsonObject { ["pid"] = pid, ["processStartedAt"] = processStart, ["logFile"] = logFile }.ToJsonString(), started), CancellationToken.None),
            cancellationToken).ConfigureAwait(false);
        var output = new JsonObject
        {
            ["exitcode"] = result.ExitCode,
            ["stdout"] = result.StdoutTail,
            ["logFile"] = logFile,
        };
        if (result.ExitCode is SigIntExit or SigTermExit)
        {
            // A terminal's Ctrl+C reaches the whole foreground process group: the command often ends of it before this process's
            // own handler has stopped the run, and the run was recorded Failed (not resumable) instead of Cancelled. A stop that
            // comes within the grace makes this attempt Cancelled (the delay throws); otherwise the command failed on its own.
            await Task.Delay(SignalGrace, cancellationToken).ConfigureAwait(false);
        }
        if (result.ExitCode != 0)
        {
            var why = result.StderrTail.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
            // lakehouse's exit code 2 is a usage error: the same command line fails the same way, so it is not retried.
            var usage = result.ExitCode == 2 && CustomCommand.IsLakehouse(command);
            throw new ActivityFailedException($"The command exited with code {result.ExitCode.ToString(CultureInfo.InvariantCulture)}{(why.Length > 0 ? ": " + why : "")} (log: {logFile})",
                usage ? UsageErrorCode : "CustomCommandFailed", output);
        }
        return output;
    }

    private async Task<JsonNode?> ScriptAsync(JsonObject props, string key, Scope scope, CancellationToken cancellationToken)
    {
        var resultSets = new JsonArray();
        foreach (var script in props["scripts"] as JsonArray ?? [])
        {
            var text = PipelineValues.Text(PipelineValues.Evaluate(script?["text"], Context(scope)));
            var rows = await _runner.RunScriptAsync(text, cancellationToken).ConfigureAwait(false);
            resultSets.Add(new JsonObject { ["rowCount"] = rows.Count, ["rows"] = rows });
        }
        return new JsonObject { ["resultSetCount"] = resultSets.Count, ["resultSets"] = resultSets, ["activity"] = key };
    }

    private async Task<JsonNode?> WebAsync(JsonObject props, string key, Scope scope, CancellationToken cancellationToken)
    {
        var values = PipelineValues.Evaluate(new JsonObject
        {
            ["method"] = props["method"]?.DeepClone(),
            ["url"] = props["url"]?.DeepClone(),
            ["headers"] = props["headers"]?.DeepClone(),
            ["body"] = props["body"]?.DeepClone(),
        }, Context(scope))!.AsObject();
        var method = PipelineValues.Text(values["method"]).ToUpperInvariant();
        if (!Uri.TryCreate(PipelineValues.Text(values["url"]), UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            throw new ActivityFailedException($"Activity '{key}': the url is not an absolute http(s) URL.", "WebActivityInvalidUrl");
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        string? contentType = null;
        if (values["body"] is { } body && method != "GET")
        {
            request.Content = new StringContent(PipelineValues.Text(body), Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        }
        foreach (var (name, value) in values["headers"] as JsonObject ?? [])
        {
            if (string.Equals(name, "Content-Type", StringComparison.OrdinalIgnoreCase))
            {
                contentType = PipelineValues.Text(value);
                if (request.Content is not null) request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            }
            else if (!request.Headers.TryAddWithoutValidation(name, PipelineValues.Text(value)))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, PipelineValues.Text(value));
            }
        }
        using var response = await _runner.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        var text = await ResponseTextAsync(response, key, method, url, cancellationToken).ConfigureAwait(false);
        var status = (int)response.StatusCode;
        JsonObject output;
        try
        {
            output = JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject ?? new JsonObject { ["Response"] = text };
        }
        catch (JsonException e)
        {
            // JSON with a key given twice: which value would the next activity read? Refused (it failed with .NET's bare "An item with
            // the same key has already been added"), where text that is not JSON at all is the output's Response, as in ADF.
            if (IsJson(text))
                throw new ActivityFailedException($"Activity '{key}': {method} {url.GetLeftPart(UriPartial.Authority)} answered HTTP {status.ToString(CultureInfo.InvariantCulture)} with JSON that gives a key twice: {e.Message}",
                    "WebActivityInvalidResponse");
            output = new JsonObject { ["Response"] = text };
        }
        var headers = new JsonObject();
        foreach (var (name, value) in response.Headers.Concat(response.Content.Headers)) headers[name] = string.Join(", ", value);
        output["ADFWebActivityResponseHeaders"] = headers;
        output["statusCode"] = status;
        if (status is < 200 or >= 300)
            throw new ActivityFailedException($"Activity '{key}': {method} {url.GetLeftPart(UriPartial.Authority)} answered HTTP {status.ToString(CultureInfo.InvariantCulture)}: {Cut(text, 300)}",
                "WebActivityHttpError", output);
        return output;
    }

    /// <summary>ADF's largest WebActivity response: 4 MB (its error 2001, "The length of execution output is over limit").</summary>
    internal const int MaxWebResponseBytes = 4 * 1024 * 1024;

    /// <summary>The response's body as text (UTF-8, or the charset it names), refused past <see cref="MaxWebResponseBytes"/> before more is read.</summary>
    private static async Task<string> ResponseTextAsync(HttpResponseMessage response, string key, string method, Uri url, CancellationToken cancellationToken)
    {
        ActivityFailedException TooLarge(string size) => new(
            $"Activity '{key}': {method} {url.GetLeftPart(UriPartial.Authority)} answered with a body of {size} bytes; ADF takes a WebActivity response of at most 4 MB ({MaxWebResponseBytes.ToString(CultureInfo.InvariantCulture)} bytes).",
            "WebActivityResponseTooLarge");
        if (response.Content.Headers.ContentLength is long length && length > MaxWebResponseBytes) throw TooLarge(length.ToString(CultureInfo.InvariantCulture));
        var body = new MemoryStream();
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            var chunk = new byte[81_920];
            int read;
            while ((read = await stream.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
            {
                if (body.Length + read > MaxWebResponseBytes) throw TooLarge("more than " + MaxWebResponseBytes.ToString(CultureInfo.InvariantCulture));
                body.Write(chunk, 0, read);
            }
        }
        var encoding = Encoding.UTF8;
        if (response.Content.Headers.ContentType?.CharSet is { Length: > 0 } charset)
        {
            try
            {
                encoding = Encoding.GetEncoding(charset.Trim('"'));
            }
            catch (ArgumentException)
            {
                // a charset .NET does not know: read as UTF-8, as HttpContent does
            }
        }
        var text = encoding.GetString(body.GetBuffer(), 0, (int)body.Length);
        return text.StartsWith('\uFEFF') ? text[1..] : text; // a byte order mark, which HttpContent's reading drops too
    }

    private static bool IsJson(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    private async Task<JsonNode?> ExecutePipelineAsync(JsonObject props, string key, Scope scope, CancellationToken cancellationToken)
    {
        var reference = PipelineDefinition.Str(props["pipeline"]?["referenceName"])!;
        var child = Definition.LoadReferenced(reference);
        var given = PipelineValues.Evaluate(props["parameters"], Context(scope)) as JsonObject ?? [];
        var parameters = PipelineValues.Bind(child, given.Select(p => KeyValuePair.Create(p.Key, p.Value?.DeepClone())));
        var childRunId = RunId + "_" + SafeFileName(key);
        var wait = props["waitOnCompletion"] is { } w && PipelineValues.Bool(PipelineValues.Evaluate(w, Context(scope)), $"Activity '{key}': waitOnCompletion");
        var output = new JsonObject { ["pipelineName"] = child.Name, ["pipelineRunId"] = childRunId };
        var run = _runner.RunChildAsync(child, childRunId, parameters, RunId, Secure, cancellationToken);
        if (!wait)
        {
            // ADF returns at once when waitOnCompletion is false (its default); locally the run still waits for the child before it ends.
            Detach(run);
            return output;
        }
        var result = await run.ConfigureAwait(false);
        if (result.Status != RunStatus.Succeeded)
            throw new ActivityFailedException($"Operation on target {result.FailedActivity ?? reference} failed: {result.Error}", "ExecutePipelineFailed", output);
        return output;
    }

    private async Task<JsonNode?> ForEachAsync(JsonObject props, string key, Scope scope, CancellationToken cancellationToken)
    {
        if (PipelineValues.Evaluate(props["items"], Context(scope)) is not JsonArray items)
            throw new ActivityFailedException($"Activity '{key}': items must be an array.", "ForEachItemsNotArray");
        if (items.Count > PipelineChecks.MaxForEachItems)
            throw new ActivityFailedException(string.Create(CultureInfo.InvariantCulture,
                $"Activity '{key}': items holds {items.Count} items; ADF's ForEach takes at most {PipelineChecks.MaxForEachItems}: split them, and run a ForEach over each part in a pipeline of its own (ExecutePipeline)."),
                "ForEachTooManyItems");
        // Literals were checked before the run (PipelineDefinition); an expression's value is checked by the same rule here.
        var sequential = props["isSequential"] is { } s && PipelineValues.Bool(PipelineValues.Evaluate(s, Context(scope)), $"Activity '{key}': isSequential");
        var batch = sequential ? 1 : props["batchCount"] is { } bc ? PipelineValues.Whole(PipelineValues.Evaluate(bc, Context(scope)), $"Activity '{key}': batchCount") : 20;
        if (batch is < 1 or > 50)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Activity '{key}': batchCount must be a whole number from 1 to 50, not {batch.ToString(CultureInfo.InvariantCulture)}");
        var inner = props["activities"] as JsonArray ?? [];
        if (!sequential && PipelineChecks.ParallelSetVariableProblem(inner) is { } parallelSet)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Activity '{key}': {parallelSet}");
        using var slots = new SemaphoreSlim((int)batch);
        var iterations = items.Select(async (item, i) =>
        {
            await slots.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                return await RunContainerAsync(inner, scope.Inner($"{key}/{i.ToString(CultureInfo.InvariantCulture)}/", true, item?.DeepClone()), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                slots.Release();
            }
        }).ToList();
        var results = await Task.WhenAll(iterations).ConfigureAwait(false);
        var failed = results.Select((r, i) => (r, i)).Where(x => x.r.Status != RunStatus.Succeeded).ToList();
        var output = new JsonObject { ["itemCount"] = items.Count, ["failedIterations"] = failed.Count };
        if (failed.Count > 0)
            throw new ActivityFailedException($"Activity failed because an inner activity failed (iteration {failed[0].i.ToString(CultureInfo.InvariantCulture)}): {failed[0].r.Error}",
                failed[0].r.ErrorCode ?? "ForEachIterationFailed", output);
        return output;
    }

    private async Task<JsonNode?> IfConditionAsync(JsonObject props, string key, Scope scope, CancellationToken cancellationToken)
    {
        var value = PipelineValues.Bool(PipelineValues.Evaluate(props["expression"], Context(scope)), $"Activity '{key}': expression");
        var branch = props[value ? "ifTrueActivities" : "ifFalseActivities"] as JsonArray ?? [];
        var result = await RunContainerAsync(branch, scope.Inner(key + "/", false, null), cancellationToken).ConfigureAwait(false);
        var output = new JsonObject { ["expression"] = value };
        if (result.Status != RunStatus.Succeeded)
            throw new ActivityFailedException($"Activity failed because an inner activity failed: {result.Error}", result.ErrorCode ?? "IfConditionBranchFailed", output);
        return output;
    }

    private async Task<JsonNode?> UntilAsync(JsonObject props, string key, Scope scope, CancellationToken cancellationToken)
    {
        // Checked before the run when written as a value (PipelineChecks); an expression's value is checked by the same rule here.
        var timeout = PipelineChecks.MaxActivityTimeout;
        if (props["timeout"] is { } value && PipelineChecks.UntilTimeoutProblem(PipelineValues.Evaluate(value, Context(scope)), out timeout) is { } problem)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"typeProperties.timeout {problem}");
        var inner = props["activities"] as JsonArray ?? [];
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        // A timer waits at most about 49 days (MaxWaitSeconds); an Until may have up to 90: the timer is set again until the time is up.
        var timer = CancelAfterAsync(limit, timeout);
        try
        {
            return await UntilLoopAsync(props, key, scope, inner, timeout, limit, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await limit.CancelAsync().ConfigureAwait(false); // ends the timer
            await timer.ConfigureAwait(false);
        }
    }

    private async Task<JsonNode?> UntilLoopAsync(JsonObject props, string key, Scope scope, JsonArray inner, TimeSpan timeout, CancellationTokenSource limit, CancellationToken cancellationToken)
    {
        for (var i = 0; ; i++)
        {
            var iteration = scope.Inner($"{key}/{i.ToString(CultureInfo.InvariantCulture)}/", false, null);
            ContainerResult result;
            try
            {
                result = await RunContainerAsync(inner, iteration, limit.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new ActivityFailedException($"Activity '{key}' timed out after {timeout.ToString("c", CultureInfo.InvariantCulture)} before its expression was true ({i} iterations).",
                    "UntilTimedOut", new JsonObject { ["iterations"] = i });
            }
            if (result.Status != RunStatus.Succeeded)
                throw new ActivityFailedException($"Activity failed because an inner activity failed (iteration {i.ToString(CultureInfo.InvariantCulture)}): {result.Error}",
                    result.ErrorCode ?? "UntilIterationFailed", new JsonObject { ["iterations"] = i + 1 });
            if (PipelineValues.Bool(PipelineValues.Evaluate(props["expression"], Context(iteration)), $"Activity '{key}': expression"))
                return new JsonObject { ["iterations"] = i + 1 };
            if (limit.IsCancellationRequested)
                throw new ActivityFailedException($"Activity '{key}' timed out after {timeout.ToString("c", CultureInfo.InvariantCulture)} before its expression was true ({i + 1} iterations).",
                    "UntilTimedOut", new JsonObject { ["iterations"] = i + 1 });
        }
    }

    /// <summary>Cancels <paramref name="source"/> after <paramref name="delay"/>, which may be longer than one timer can wait; ends quietly when it is cancelled first.</summary>
    private static async Task CancelAfterAsync(CancellationTokenSource source, TimeSpan delay)
    {
        var longest = TimeSpan.FromSeconds(MaxWaitSeconds);
        try
        {
            for (var left = delay; left > TimeSpan.Zero; left -= longest)
                await Task.Delay(left < longest ? left : longest, source.Token).ConfigureAwait(false);
            await source.CancelAsync().ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // cancelled (the run, or the loop ended): nothing to time any more
        }
    }

    private async Task<JsonNode?> WaitAsync(JsonObject props, string key, Scope scope, CancellationToken cancellationToken)
    {
        var seconds = PipelineValues.Whole(PipelineValues.Evaluate(props["waitTimeInSeconds"], Context(scope)), $"Activity '{key}': waitTimeInSeconds");
        if (seconds < 0) throw new ActivityFailedException($"Activity '{key}': waitTimeInSeconds is negative.", "WaitInvalid");
        // Longer than a timer can wait, it failed with .NET's "The value needs to translate in milliseconds to -1 …" (or an overflow).
        if (seconds > MaxWaitSeconds)
            throw new ActivityFailedException(
                $"Activity '{key}': waitTimeInSeconds {seconds.ToString(CultureInfo.InvariantCulture)} is longer than the local runner can wait ({MaxWaitSeconds.ToString(CultureInfo.InvariantCulture)} s, about 49 days).",
                "WaitInvalid");
        await Task.Delay(TimeSpan.FromSeconds(seconds), cancellationToken).ConfigureAwait(false);
        return new JsonObject { ["waitTimeInSeconds"] = seconds };
    }

    private Task<JsonNode?> FailAsync(JsonObject props, string key, Scope scope)
    {
        var context = Context(scope);
        var message = PipelineValues.Text(PipelineValues.Evaluate(props["message"], context));
        var code = PipelineValues.Text(PipelineValues.Evaluate(props["errorCode"], context));
        if (string.IsNullOrWhiteSpace(message) || string.IsNullOrWhiteSpace(code))
            throw new ActivityFailedException($"Activity '{key}': a Fail activity's message and errorCode must not be blank.", "FailActivityInvalid");
        throw new ActivityFailedException(message, code, new JsonObject { ["message"] = message, ["errorCode"] = code });
    }

    private JsonNode? SetVariable(string type, JsonObject props, Scope scope)
    {
        var name = PipelineDefinition.Str(props["variableName"])!;
        var value = PipelineValues.Evaluate(props["value"], Context(scope));
        // ADF fails a SetVariable whose value is not of the variable's type (a number into a String, "true" into a Bool); an
        // AppendVariable's variable is an Array (checked on load) and takes an item of any type.
        var declared = PipelineDefinition.Str(Definition.Variables[name]["type"])!;
        if (type == "SetVariable" && value is not null && !IsOfVariableType(declared, value))
            throw new ActivityFailedException(
                $"The variable '{name}' of type {declared} cannot be set to {Cut(value.ToJsonString(), 200)}, a value of type {ValueKindName(value)}: it takes only {declared} values.",
                "InvalidVariableType");
        lock (_gate)
        {
            if (type == "SetVariable") _variables[name] = value?.DeepClone();
            else if (_variables[name] is JsonArray array) array.Add(value?.DeepClone());
            else _variables[name] = new JsonArray(value?.DeepClone());
        }
        return new JsonObject { ["name"] = name, ["value"] = value };
    }

    /// <summary>Whether a value is of a variable type (String, Bool or Array, as <see cref="PipelineChecks.VariableTypes"/> spells them).</summary>
    private static bool IsOfVariableType(string type, JsonNode value) => type switch
    {
        "String" => value is JsonValue v && v.GetValueKind() == System.Text.Json.JsonValueKind.String,
        "Bool" => value is JsonValue b && b.GetValueKind() is System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False,
        "Array" => value is JsonArray,
        _ => false,
    };

    private static string ValueKindName(JsonNode value) => value.GetValueKind() switch
    {
        System.Text.Json.JsonValueKind.String => "String",
        System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => "Bool",
        System.Text.Json.JsonValueKind.Number => "Number",
        System.Text.Json.JsonValueKind.Array => "Array",
        System.Text.Json.JsonValueKind.Object => "Object",
        _ => "Null",
    };

    /// <summary>
    /// An activity path as a file name (its log, an ExecutePipeline's child run id): '/' and anything unusual become '_'. When that
    /// loses something (a '_', a space, …) a hash of the path is added, so two activities never share one: "Run A" and "Run_A" were
    /// both "Run_A", and the second ExecutePipeline took the first one's finished child run as its own and ran nothing.
    /// </summary>
    internal static string SafeFileName(string key)
    {
        var safe = string.Concat(key.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' ? c : '_'));
        if (key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '/')) return safe;
        var hash = System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(key));
        return $"{safe}-{Convert.ToHexStringLower(hash, 0, 4)}";
    }

    private static string Cut(string text, int max) => text.Length <= max ? text : text[..max] + "…";
}
