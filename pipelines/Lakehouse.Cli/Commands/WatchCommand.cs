using System.CommandLine;
using System.Globalization;
using Lakehouse.Core;
using Lakehouse.Pipelines.State;
using Lakehouse.Pipelines.Trigger;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse watch &lt;landing&gt;</c>: the local storage-event trigger.</summary>
internal static class WatchCommand
{
    internal static Command Create(CliSession session)
    {
        var command = new CliCommand("watch", "Start a pipeline when files land in a folder: one run per settled batch, a file never twice (the local BlobEventsTrigger).")
        {
            Details = """
                Watches <landing> (file system events plus a full listing every second, since events get lost). New files make a batch;
                once every file of the batch has kept its size and modification time for --settle-seconds, each is claimed in the
                landed-file ledger of the state store (<lake>/_lakehouse/state.db) and one run starts:
                  lakehouse pipeline run --resume <runId>   (the run queued with its trigger body and parameters)
                The trigger body has the BlobEventsTrigger shape: folderPath "container/folder" (the batch's folder; the container is the
                landing folder's name, or --container), fileName (the file when the batch is one file, else empty), and files (every
                file as container/path; local only). --trigger reads an ADF trigger file (trigger/*.json, BlobEventsTrigger): its
                pipeline (../pipeline/<name>.json), its parameter mapping (evaluated as ADF does, e.g. @triggerBody().folderPath) and its
                filters (blobPathBeginsWith /container/blobs/..., blobPathEndsWith, ignoreEmptyBlobs). --pipeline alone maps folderPath
                and fileName to the pipeline's parameters of those names.
                A file claimed before (same path, size and modification time) starts nothing, also after a restart. Names starting
                with '.' or '_' and temporary suffixes (.tmp, .part, ...) are skipped, as bronze ingest skips them. Runs start one at a
                time; a failed run is reported and the watch goes on. Ctrl+C stops the watch (and the run, which stops as on Ctrl+C);
                a run of a watch that did not finish (stopped, or killed with its process) is resumed first when a watch starts again.
                A batch holds at most 256 files (the rest start the next run at once). --once handles the files there now (one run, or
                one per 256 files) and exits: 0, or 1 when a run failed.
                Secrets: give a SecureString parameter with --param-env <name>=<VARIABLE> (read from the environment variable), not
                --param, whose value every user of the machine can see on the watch's command line (ps). The watch gives each run
                its SecureString values through the run's environment (LAKEHOUSE_SECURE_PARAM_<n>), never its command line.
                """,
            Examples =
            [
                "lakehouse watch ./landing --trigger pipelines/adf/trigger/tr_landing_blob_created.json --param lakeRoot=./lake --param landingRoot=./landing",
                "lakehouse watch ./landing --pipeline pipelines/adf/pipeline/pl_medallion.json --settle-seconds 10 --once",
                "lakehouse watch ./landing --pipeline pl_export.json --param-env apiKey=API_KEY   # a SecureString from $API_KEY, on no command line",
            ],
        };
        var landing = new Argument<string>("landing") { Description = "The landing folder to watch.", HelpName = "landing" };
        var trigger = CommandLine.Text("--trigger", "An ADF BlobEventsTrigger file: the pipeline, parameter mapping and filters.", "file");
        var pipeline = CommandLine.Text("--pipeline", "The pipeline file to run (with --trigger: instead of the trigger's ../pipeline/<name>.json).", "file");
        var parameters = PipelineParameterOptions.Create("A pipeline parameter of every run, name=value (repeatable). For a secret, use --param-env.");
        var settle = CommandLine.WholeNumber("--settle-seconds", "How long a batch's files must keep their size and time before the run starts (default 5).", 0, 3600, "S");
        var container = CommandLine.Text("--container", "The container the landing folder stands for in folderPath (default: the folder's name).", "name");
        var once = CommandLine.Flag("--once", "Handle the files there now and exit.");
        command.Add(landing);
        command.Add(trigger);
        command.Add(pipeline);
        parameters.AddTo(command);
        foreach (var o in new Option[] { settle, container, once }) command.Add(o);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var triggerFile = parse.GetValue(trigger);
            var pipelineFile = parse.GetValue(pipeline);
            if (triggerFile is null && pipelineFile is null) throw CommandLine.Usage("'lakehouse watch' needs --trigger <file> or --pipeline <file> (see lakehouse watch --help)");
            var definition = triggerFile is not null ? BlobEventsTriggerDefinition.Load(triggerFile, pipelineFile) : BlobEventsTriggerDefinition.ForPipeline(pipelineFile!);
            var lake = session.LakeLocation(parse);
            if (lake.Contains("://", StringComparison.Ordinal))
                throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature, "lakehouse watch keeps its ledger in SQLite under a local lake: give --lake a folder");
            var options = new LandingWatchOptions
            {
                Parameters = parameters.Bind(parse),
                Container = parse.GetValue(container),
                Once = parse.GetValue(once),
                LoggerFactory = session.LoggerFactory,
            };
            if (parse.GetValue(settle) is { } seconds) options.SettleTime = TimeSpan.FromSeconds(seconds);
            options.ScanInterval = TimeSpan.FromMilliseconds(Math.Clamp(options.SettleTime.TotalMilliseconds / 2, 50, 1000));
            await using var store = new SqlitePipelineStateStore(SqlitePipelineStateStore.PathUnderLake(lake));
            await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
            var (program, leading) = Self();
            string[] trailing = session.Verbose ? ["--lake", lake, "--verbose"] : ["--lake", lake];
            using var watcher = LandingWatcher.Create(parse.GetValue(landing)!, definition, store, options, program, leading, trailing);
            await session.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"watching {parse.GetValue(landing)} for {Path.GetFileName(definition.PipelineFile)} (settle {options.SettleTime.TotalSeconds} s){(options.Once ? ", once" : "; Ctrl+C stops")}")).ConfigureAwait(false);
            var failed = await watcher.RunAsync(cancellationToken).ConfigureAwait(false);
            return failed == 0 ? CliApp.ExitOk : CliApp.ExitFailed;
        });
        return command;
    }

    /// <summary>How to start this same lakehouse: the apphost, or <c>dotnet lakehouse.dll</c>.</summary>
    private static (string Program, string[] Leading)
        Self()
    {
        var process = Environment.ProcessPath ?? "dotnet";
        return string.Equals(Path.GetFileNameWithoutExtension(process), "dotnet", StringComparison.OrdinalIgnoreCase)
            ? (process, [typeof(WatchCommand).Assembly.Location])
            : (process, []);
    }
}
