using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Lakehouse.Core;
using Lakehouse.Pipelines.Runner;
using Lakehouse.Pipelines.State;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Cli.Commands;

/// <summary>
/// <c>lakehouse pipeline run</c>: an ADF pipeline file run on this machine (<see cref="PipelineRunner"/>); <c>lakehouse
/// pipeline runs</c>: the history of runs and their activities, from the state store.
/// </summary>
internal static class PipelineCommands
{
    internal static Command Create(CliSession session)
    {
        var pipeline = new CliCommand("pipeline", "Run ADF pipeline files locally and show their runs.")
        {
            Examples = ["lakehouse pipeline run pipelines/adf/pipeline/pl_medallion.json --param lakeRoot=lake --param landingRoot=landing", "lakehouse pipeline runs"],
        };
        pipeline.Subcommands.Add(CreateRun(session));
        pipeline.Subcommands.Add(CreateRuns(session));
        return pipeline;
    }

    private static CliCommand CreateRun(CliSession session)
    {
        var command = new CliCommand("run", "Run an ADF pipeline file on this machine, with ADF's dependsOn, retry and timeout semantics; exit 0 when the run succeeded.")
        {
            Details = $"""
                The file and every pipeline it executes are checked first: an unknown activity type or function, an expression that
                does not parse, or a parameter that is not declared is an error (exit 1) before anything runs.
                Custom activities run their command (a command starting with 'lakehouse ' runs this lakehouse), logs in
                <lake>/_lakehouse/runs/<runId>/<activity>.log; Script activities query the lake's tables as 'lakehouse sql' does;
                linked services are not used locally. Runs and activity checkpoints go to the state store: SQLite in
                <lake>/_lakehouse/state.db, or Cosmos DB when LAKEHOUSE_COSMOS_CONNECTION_STRING (or _ENDPOINT and _KEY) is set.
                Resume: a run whose process was killed is resumed by running the same command line again (same file, --param and
                --trigger-body), or by --resume <runId>: activities that finished are not run again.
                SecureString parameters are shown and recorded as *** (in the run record, logs, outputs and errors); a run given one
                is resumed with it given again: --resume <runId> --param-env <name>=<VARIABLE> (or --param <name>=<value>).
                Secrets: --param puts the value on this process's command line, which every user of the machine can see (ps);
                --param-env <name>=<VARIABLE> reads it from the environment variable instead, which only you can see. Set it
                without your shell's history keeping it, e.g. read -rs API_KEY && export API_KEY (bash).
                A failed run is posted to {PipelineWebhook.UrlVariable} when it is set (secret: {PipelineWebhook.SecretVariable}).
                Exit 0: the run succeeded; 1: it failed or could not start; 130: stopped by Ctrl+C (resume it later).
                """,
            Examples =
            [
                "lakehouse pipeline run pipelines/adf/pipeline/pl_medallion.json --param lakeRoot=lake --param landingRoot=landing --lake lake",
                "lakehouse pipeline run pipelines/adf/pipeline/pl_medallion.json --trigger-body '{\"folderPath\":\"landing/weblogs\",\"fileName\":\"a.ndjson\"}'",
                "lakehouse pipeline run pipelines/adf/pipeline/pl_backfill.json --param dates='[\"2024-05-01\"]' --json",
                "lakehouse pipeline run pl_export.json --param-env apiKey=API_KEY   # a SecureString from $API_KEY, on no command line",
                "lakehouse pipeline run --resume 0f8fad5b-d9cb-469f-a165-70867728950e --param-env apiKey=API_KEY",
            ],
        };
        var file = new Argument<string?>("file") { Description = "The pipeline's JSON file (not needed with --resume).", Arity = ArgumentArity.ZeroOrOne };
        var param = PipelineParameterOptions.Create("A parameter value, name=value (repeat for more); converted to the declared type (Array and Object as JSON). For a secret, use --param-env.");
        var triggerBody = CommandLine.Text("--trigger-body", "What @triggerBody() returns: a JSON object (a storage event's folderPath and fileName).", "json");
        var resume = CommandLine.Text("--resume", "Resume the run with this id (its process was killed or it was cancelled), or start one that watch queued; --param-env (or --param) gives its SecureString parameters again.", "runId");
        var json = CommandLine.Flag("--json", "Print the run as one JSON object (run id, status, activities with outputs and errors).");
        command.Add(file);
        param.AddTo(command);
        command.Add(triggerBody);
        command.Add(resume);
        command.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file);
            var runId = parse.GetValue(resume);
            if (path is null == runId is null)
                throw CommandLine.Usage(runId is null ? "'lakehouse pipeline run' needs the pipeline file (or --resume <runId>)" : "give the pipeline file or --resume <runId>, not both");
            if (runId is not null && parse.GetValue(triggerBody) is not null)
                throw CommandLine.Usage("--resume takes the run's own trigger body: drop --trigger-body");
            var parameters = param.Bind(parse).ToDictionary(StringComparer.OrdinalIgnoreCase);
            var body = TriggerBody(parse.GetValue(triggerBody));
            var lake = LocalLake(session.LakeLocation(parse));
            await using var store = OpenStateStore(lake, session.LoggerFactory);
            await using var runner = new PipelineRunner(new PipelineRunnerOptions
            {
                LakeRoot = lake,
                StateStore = store,
                Webhook = PipelineWebhook.FromEnvironment(),
                LoggerFactory = session.LoggerFactory,
            });
            PipelineRunResult result;
            if (runId is not null)
            {
                // Nothing printed first: ResumeAsync refuses a run that does not exist, has finished or still runs.
                // --param-env/--param give the SecureString parameters again: the run record keeps them masked, never their values.
                result = await runner.ResumeAsync(runId, parameters, cancellationToken).ConfigureAwait(false);
            }
            else if (await runner.FindUnfinishedRunAsync(path!, parameters, body, cancellationToken).ConfigureAwait(false) is { } unfinished)
            {
                await session.Error.WriteLineAsync($"resuming run {unfinished}: it did not finish (its process is gone); activities that finished are not run again")
                    .ConfigureAwait(false);
                result = await runner.ResumeAsync(unfinished, parameters, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                result = await runner.RunAsync(path!, parameters, body, cancellationToken).ConfigureAwait(false);
            }
            if (parse.GetValue(json))
            {
                await session.Out.WriteLineAsync(RunJson(result.RunId, result.Pipeline, result.Status, result.StartedAt, result.EndedAt, result.Error, result.Activities,
                    new JsonObject { ["failedActivity"] = result.FailedActivity, ["resumed"] = result.Resumed, ["logs"] = result.LogDirectory }).ToJsonString()).ConfigureAwait(false);
            }
            else
            {
                await WriteActivitiesAsync(session.Out, result.Activities).ConfigureAwait(false);
                await session.Out.WriteLineAsync($"run {result.RunId} {result.Status} in {Seconds(result.EndedAt - result.StartedAt)} (logs: {result.LogDirectory})").ConfigureAwait(false);
                if (result.Error is not null) await session.Error.WriteLineAsync($"error: {(result.FailedActivity is null ? "" : $"activity {result.FailedActivity}: ")}{result.Error}").ConfigureAwait(false);
            }
            return result.Status == RunStatus.Succeeded ? CliApp.ExitOk : CliApp.ExitFailed;
        });
        return command;
    }

    private static CliCommand CreateRuns(CliSession session)
    {
        var command = new CliCommand("runs", "Show pipeline runs: status, start, duration; with --run, each activity's status, attempts, duration, output and error.")
        {
            Details = "Runs come from the state store (SQLite in <lake>/_lakehouse/state.db, or Cosmos DB when LAKEHOUSE_COSMOS_* is set), newest first.",
            Examples = ["lakehouse pipeline runs", "lakehouse pipeline runs --pipeline pl_medallion --limit 5", "lakehouse pipeline runs --run 0f8fad5b-d9cb-469f-a165-70867728950e --json"],
        };
        var pipelineName = CommandLine.Text("--pipeline", "Only runs of this pipeline.", "name");
        var run = CommandLine.Text("--run", "One run, with its activities.", "runId");
        var limit = CommandLine.WholeNumber("--limit", "The most runs shown (default 20).", min: 1, max: 1000);
        var json = CommandLine.Flag("--json", "Print JSON: an array of runs, or one run with its activities.");
        command.Add(pipelineName);
        command.Add(run);
        command.Add(limit);
        command.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var lake = LocalLake(session.LakeLocation(parse));
            // A read: a mistyped --lake is named, not created with an empty state store (Cosmos DB keeps runs outside the lake).
            if (!UsesCosmos) LakeContext.CheckFolder(lake, mustExist: true);
            await using var store = OpenStateStore(lake, session.LoggerFactory);
            await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(run) is { } runId)
            {
                var record = await store.TryGetRunAsync(runId, cancellationToken).ConfigureAwait(false)
                    ?? throw new LakehouseException(LakehouseErrorReason.NotFound, $"There is no pipeline run '{runId}' in the state store of {lake}.");
                var activities = await store.ListActivitiesAsync(runId, cancellationToken).ConfigureAwait(false);
                if (parse.GetValue(json))
                {
                    await session.Out.WriteLineAsync(RunJson(record.RunId, record.Pipeline, record.Status, record.StartedAt, record.EndedAt, record.Error, activities, null).ToJsonString())
                        .ConfigureAwait(false);
                    return CliApp.ExitOk;
                }
                await session.Out.WriteLineAsync($"run {record.RunId}  pipeline {record.Pipeline}  {record.Status}  started {Time(record.StartedAt)}  {(record.EndedAt is { } e ? Seconds(e - record.StartedAt) : "running")}")
                    .ConfigureAwait(false);
                if (record.Error is not null) await session.Out.WriteLineAsync($"error: {record.Error}").ConfigureAwait(false);
                await WriteActivitiesAsync(session.Out, activities, withOutput: true).ConfigureAwait(false);
                return CliApp.ExitOk;
            }
            var runs = await store.ListRunsAsync(parse.GetValue(pipelineName), (int)(parse.GetValue(limit) ?? 20), cancellationToken).ConfigureAwait(false);
            if (parse.GetValue(json))
            {
                await session.Out.WriteLineAsync(new JsonArray(runs.Select(r => (JsonNode)RunJson(r.RunId, r.Pipeline, r.Status, r.StartedAt, r.EndedAt, r.Error, null, null)).ToArray())
                    .ToJsonString()).ConfigureAwait(false);
                return CliApp.ExitOk;
            }
            if (runs.Count == 0)
            {
                await session.Error.WriteLineAsync(parse.GetValue(pipelineName) is { } only
                    ? $"no runs of pipeline '{only}' in the state store of {lake}"
                    : $"no pipeline runs in the state store of {lake}").ConfigureAwait(false);
                return CliApp.ExitOk;
            }
            await session.Out.WriteLineAsync($"{"RUN",-36}  {"PIPELINE",-20}  {"STATUS",-10}  {"STARTED",-20}  {"DURATION",9}  ERROR").ConfigureAwait(false);
            foreach (var r in runs)
            {
                await session.Out.WriteLineAsync($"{r.RunId,-36}  {r.Pipeline,-20}  {r.Status,-10}  {Time(r.StartedAt),-20}  {(r.EndedAt is { } e ? Seconds(e - r.StartedAt) : "running"),9}  {OneLine(r.Error, 100)}")
                    .ConfigureAwait(false);
            }
            return CliApp.ExitOk;
        });
        return command;
    }

    /// <summary>Whether the state store is Cosmos DB (LAKEHOUSE_COSMOS_CONNECTION_STRING or LAKEHOUSE_COSMOS_ENDPOINT set).</summary>
    private static bool UsesCosmos =>
        Environment.GetEnvironmentVariable("LAKEHOUSE_COSMOS_CONNECTION_STRING") is { Length: > 0 } || Environment.GetEnvironmentVariable("LAKEHOUSE_COSMOS_ENDPOINT") is { Length: > 0 };

    /// <summary>The state store: Cosmos DB when LAKEHOUSE_COSMOS_CONNECTION_STRING or LAKEHOUSE_COSMOS_ENDPOINT is set, else SQLite in the lake.</summary>
    internal static IPipelineStateStore OpenStateStore(string lake, ILoggerFactory loggerFactory)
    {
        if (UsesCosmos)
        {
            CosmosStateOptions options;
            try
            {
                options = CosmosStateOptions.FromEnvironment();
            }
            catch (ArgumentException e)
            {
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, e.Message, e);
            }
            return new CosmosPipelineStateStore(options, loggerFactory.CreateLogger<CosmosPipelineStateStore>());
        }
        return new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(lake), loggerFactory.CreateLogger<SqlitePipelineStateStore>());
    }

    private static string LocalLake(string location) =>
        location.Contains("://", StringComparison.Ordinal)
            ? throw new LakehouseException(LakehouseErrorReason.InvalidInput, "The local pipeline runner keeps its logs in a local lake folder: give --lake a folder (the pipeline's own lakeRoot parameter may still point at Azure).")
            : Path.GetFullPath(location);

    private static JsonNode? TriggerBody(string? text)
    {
        if (text is null) return null;
        try
        {
            return JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }) as JsonObject ?? throw CommandLine.Usage("--trigger-body must be a JSON object, e.g. '{\"folderPath\":\"landing/weblogs\",\"fileName\":\"a.ndjson\"}'");
        }
        catch (JsonException e)
        {
            throw CommandLine.Usage($"--trigger-body is not JSON: {e.Message}");
        }
    }

    private static JsonObject RunJson(string runId, string pipeline, RunStatus status, DateTimeOffset started, DateTimeOffset? ended, string? error,
        IReadOnlyList<ActivityRunRecord>? activities, JsonObject? extra)
    {
        var json = new JsonObject
        {
            ["runId"] = runId,
            ["pipeline"] = pipeline,
            ["status"] = status.ToString(),
            ["startedAt"] = started,
            ["endedAt"] = ended,
            ["durationMs"] = ended is { } e ? (long)(e - started).TotalMilliseconds : null,
            ["error"] = error,
        };
        foreach (var (key, value) in extra ?? []) json[key] = value?.DeepClone();
        if (activities is not null)
        {
            json["activities"] = new JsonArray(activities.Select(a => (JsonNode)new JsonObject
            {
                ["name"] = a.ActivityName,
                ["status"] = a.Status.ToString(),
                ["attempt"] = a.Attempt,
                ["startedAt"] = a.StartedAt,
                ["endedAt"] = a.EndedAt,
                ["durationMs"] = a.Duration is { } d ? (long)d.TotalMilliseconds : null,
                ["output"] = a.OutputJson is { } o ? JsonNode.Parse(o) : null,
                ["error"] = a.Error,
            }).ToArray());
        }
        return json;
    }

    private static async Task WriteActivitiesAsync(TextWriter output, IReadOnlyList<ActivityRunRecord> activities, bool withOutput = false)
    {
        if (activities.Count == 0) return;
        var width = Math.Clamp(activities.Max(a => a.ActivityName.Length), 8, 60);
        await output.WriteLineAsync($"{"ACTIVITY".PadRight(width)}  {"STATUS",-10}  {"ATTEMPT",7}  {"DURATION",9}  {(withOutput ? "OUTPUT / ERROR" : "ERROR")}").ConfigureAwait(false);
        foreach (var a in activities)
        {
            var detail = a.Error is not null ? OneLine(a.Error, 160) : withOutput ? OneLine(a.OutputJson, 160) : "";
            await output.WriteLineAsync($"{a.ActivityName.PadRight(width)}  {a.Status,-10}  {a.Attempt,7}  {(a.Duration is { } d ? Seconds(d) : a.Status == RunStatus.InProgress ? "running" : ""),9}  {detail}")
                .ConfigureAwait(false);
        }
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " s";

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static string OneLine(string? text, int max)
    {
        if (text is null) return "";
        var line = text.ReplaceLineEndings(" ");
        return line.Length <= max ? line : line[..max] + "…";
    }
}
