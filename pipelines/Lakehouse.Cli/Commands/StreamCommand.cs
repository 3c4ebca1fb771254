using System.CommandLine;
using System.Globalization;
using Lakehouse.Bronze;
using Lakehouse.Cli.Streaming;
using Lakehouse.Datasets;
using Lakehouse.Serve;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse stream</c>: continuous mode, a stream through bronze, silver and gold (or some of them) until Ctrl+C or SIGTERM.</summary>
internal static class StreamCommand
{
    internal static Command Create(CliSession session)
    {
        var command = new CliCommand("stream", "Run the medallion continuously: a stream into bronze micro-batches, silver and gold following incrementally, with /progress and /metrics.")
        {
            Details = """
                --from is kafka://host:port/topic, eventhubs://namespace.servicebus.windows.net/hub (as for bronze ingest), or http: this
                process serves POST /ingest/<dataset> for its --dataset (as lakehouse serve does; other datasets are answered 404) and
                lands what it receives in bronze.
                --layers picks what this process runs (default bronze,silver,gold): one process for everything, or one per layer —
                --layers bronze lands the stream, --layers silver follows bronze's new versions, --layers gold follows silver's. Each
                layer resumes where its tables say (bronze: the stream positions committed with the events; silver: the bronze version
                it consumed; gold: the silver version it consumed), so a worker stopped anywhere, even by SIGKILL, repeats and loses
                nothing when it starts again. A bronze micro-batch is committed after --max-batch-ms or --max-batch-events; then silver and
                gold process what is new. Each table this process writes is compacted every --compact-every commits, and checkpoints
                keep the Delta log a snapshot reads short.
                Progress like Spark's StreamingQueryProgress (batch id, input and processed rows/s, durations per phase, source offsets,
                lag, the gold watermark) at GET /progress (?last=N) and Prometheus text at GET /metrics, on --port (127.0.0.1; 0: a free
                port, printed as "listening on <url>"); the latest batch is saved under <lake>/_lakehouse/stream/ for lakehouse status.
                Gold's watermark: --watermark-delay and --future-tolerance, as for lakehouse gold run. With LAKEHOUSE_ALERT_WEBHOOK_URL set
                (and optionally LAKEHOUSE_ALERT_WEBHOOK_SECRET), new alerts are posted as gold raises them, beside the gold steps (a slow or
                failing webhook never holds them up; what it did not accept is posted again every 30 s and by later runs), and silver's
                quality-gate refusals are posted too.
                Ctrl+C or SIGTERM: the bronze batch being buffered is dropped (it is read again on restart), the silver or gold step running
                gets --grace-ms to commit, then the process exits 130 (143).
                """,
            Examples =
            [
                "lakehouse stream --dataset weblogs --from kafka://127.0.0.1:9092/weblogs --port 8081",
                "lakehouse stream --dataset sensors --from eventhubs://myns.servicebus.windows.net/sensors --layers bronze",
                "lakehouse stream --dataset sensors --layers silver,gold       # another process follows bronze",
                "lakehouse stream --dataset weblogs --from http --port 8080     # POST /ingest/weblogs",
                "curl -s http://127.0.0.1:8081/progress?last=5; curl -s http://127.0.0.1:8081/metrics",
            ],
        };
        var dataset = CommandLine.Text("--dataset", "The dataset (built in, or defined in <lake>/_lakehouse/datasets/).", "name");
        dataset.Required = true;
        var from = CommandLine.Text("--from", "Where bronze's events come from: kafka://…, eventhubs://… or http (needed when bronze runs here).", "source");
        var layers = CommandLine.Text("--layers", "The layers this process runs, comma-separated (default bronze,silver,gold).", "layers");
        layers.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is { } text && StreamLayerNames.Parse(text, out var problem) is null) result.AddError(problem!);
        });
        var port = CommandLine.WholeNumber("--port", "Serve /progress and /metrics (and, with --from http, /ingest) on 127.0.0.1:<port> (default 8081; 0: a free port).", min: 0, max: 65535);
        var group = CommandLine.Text("--group", "Consumer group of the stream (default lakehouse-bronze).", "name");
        var maxWait = CommandLine.WholeNumber("--max-batch-ms", "Commit a bronze micro-batch at the latest this many milliseconds after its first event (default 500).", min: 1, max: 3_600_000, helpName: "ms");
        var maxEvents = CommandLine.WholeNumber("--max-batch-events", "Commit a bronze micro-batch when it holds this many events (default 100000).", min: 1, max: 10_000_000);
        var poll = CommandLine.WholeNumber("--poll-ms", "How often silver or gold looks for new upstream versions written by another process (default 200).", min: 10, max: 600_000, helpName: "ms");
        var compact = CommandLine.WholeNumber("--compact-every", "Compact each table this process writes after this many of its commits (default 50; 0: never).", min: 0, max: 1_000_000);
        var grace = CommandLine.WholeNumber("--grace-ms", "On Ctrl+C or SIGTERM, how long the silver or gold step running may take to commit before it is abandoned (default 10000).", min: 0, max: 600_000, helpName: "ms");
        var onDataLoss = CommandLine.DataLossOption();
        var (delay, future) = GoldCommands.WatermarkOptions();
        foreach (var o in new Option[] { dataset, from, layers, port, group, maxWait, maxEvents, poll, compact, grace, delay, future, onDataLoss }) command.Add(o);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var name = parse.GetValue(dataset)!;
            var which = parse.GetValue(layers) is { } text ? StreamLayerNames.Parse(text, out _)!.Value : StreamLayers.All;
            var source = parse.GetValue(from);
            var bronzeHere = (which & StreamLayers.Bronze) != 0;
            if (bronzeHere && source is null) throw CommandLine.Usage("--from is needed when this process runs bronze (kafka://…, eventhubs://… or http)");
            if (!bronzeHere && source is not null) throw CommandLine.Usage("--from is for the bronze layer; this process runs " + StreamLayerNames.Key(which));
            var http = string.Equals(source, "http", StringComparison.OrdinalIgnoreCase);
            if (source is not null && !http && !BronzeSources.IsStream(source))
                throw CommandLine.Usage($"--from '{source}' is not a stream: give kafka://host:port/topic, eventhubs://namespace/hub or http (files: lakehouse bronze ingest)");
            if (source is not null && !http) CommandLine.CheckStreamAddress(source);
            if ((http || !bronzeHere) && parse.GetValue(group) is not null) throw CommandLine.Usage("--group is for a kafka:// or eventhubs:// source");
            if ((http || !bronzeHere) && parse.GetValue(onDataLoss) is not null) throw CommandLine.Usage("--on-data-loss is for a kafka:// or eventhubs:// source");
            var options = new StreamRunOptions
            {
                Dataset = name,
                From = http ? "http" : source,
                Layers = which,
                Group = parse.GetValue(group),
                MaxBatchWait = TimeSpan.FromMilliseconds(parse.GetValue(maxWait) ?? 500),
                MaxBatchEvents = (int)(parse.GetValue(maxEvents) ?? 100_000),
                Poll = TimeSpan.FromMilliseconds(parse.GetValue(poll) ?? 200),
                CompactEvery = (int)(parse.GetValue(compact) ?? 50),
                Grace = TimeSpan.FromMilliseconds(parse.GetValue(grace) ?? 10_000),
                Windows = GoldCommands.Windows(parse, delay, future),
                Webhook = Core.Webhooks.WebhookOptions.FromEnvironment(),
            };

            using var lake = session.OpenLake(parse);
            var definition = await DatasetCatalog.Lookup(lake.Root).GetAsync(name, cancellationToken).ConfigureAwait(false);
            var runner = new StreamRunner(options, lake.Root, lake.Engine, definition, lake.LoggerFactory);
            // Opened (not connected) before the server starts, so that bad settings are refused before "listening on" is printed.
            var stream = bronzeHere && !http
                ? BronzeSources.OpenStream(source!, new StreamSourceSettings
                {
                    ConsumerGroup = options.Group ?? StreamSourceSettings.DefaultConsumerGroup,
                    LoggerFactory = lake.LoggerFactory,
                    Lake = lake.Root,
                    Dataset = name,
                    OnDataLoss = CommandLine.DataLoss(parse.GetValue(onDataLoss)),
                })
                : null;
            try
            {
                return await RunAsync().ConfigureAwait(false);
            }
            finally
            {
                if (stream is not null) await stream.DisposeAsync().ConfigureAwait(false);
            }

            async Task<int> RunAsync()
            {
                var serverOptions = new LakehouseServerOptions
                {
                    Urls = [string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{parse.GetValue(port) ?? 8081}")],
                    IngestEnabled = http,
                };
                // The stream's layers follow this dataset's bronze only: events of another would land where nothing of this process reads them.
                serverOptions.Ingest.OnlyDataset = name;
                serverOptions.Monitor.Progress = runner.ProgressJson;
                serverOptions.Monitor.Metrics = runner.WriteMetrics;
                var server = LakehouseServer.Create(serverOptions, lake.Root, lake.Engine, lake.LoggerFactory);
                await using (server.ConfigureAwait(false))
                {
                    await ServeCommand.StartAsync(server, session, cancellationToken).ConfigureAwait(false);
                    // Ctrl+C or SIGTERM: new events are refused (503) at once, as serve does, not taken while the layers stop.
                    using var refuseOnStop = cancellationToken.Register(server.BeginStop);
                    try
                    {
                        await session.Progress.RunAsync($"streaming {name} ({StreamLayerNames.Key(which)})", async line =>
                        {
                            runner.Progressed += p => line.Update(string.Create(CultureInfo.InvariantCulture,
                                $"{name} batch {p.BatchId}: {p.NumInputRows:N0} rows, {p.InputRowsPerSecond:N0}/s in, {p.ProcessedRowsPerSecond:N0}/s processed, {p.DurationMs["triggerExecution"]} ms"));
                            Func<long>? httpEvents = http ? () => server.Totals.Events : null;
                            await runner.RunAsync(stream, httpEvents, cancellationToken).ConfigureAwait(false);
                            return 0;
                        }).ConfigureAwait(false);
                    }
                    finally
                    {
                        if (stream is not null) await stream.DisposeAsync().ConfigureAwait(false);
                        stream = null;
                        await server.StopAsync().ConfigureAwait(false);
                        if (http) await runner.CountHttpAtStopAsync(server.Totals.Events).ConfigureAwait(false);
                        if (runner.Last is { } last)
                        {
                            await session.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                                $"stream {runner.RunId}: {last.BatchId + 1:N0} batches; {string.Join(", ", last.Totals.Where(t => t.Value > 0).Select(t => $"{t.Key} {t.Value:N0}"))}")).ConfigureAwait(false);
                        }
                    }
                }
                cancellationToken.ThrowIfCancellationRequested();
                return CliApp.ExitOk;
            }
        });
        return command;
    }
}
