using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lakehouse.Bronze;
using Lakehouse.Bronze.Landing;
using Lakehouse.Core;
using Lakehouse.Datasets;
using Lakehouse.Storage;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse bronze ingest</c>: land a stream or landing-zone files in <c>bronze.&lt;dataset&gt;</c>, exactly once.</summary>
internal static class BronzeCommands
{
    internal static Command Create(CliSession session)
    {
        var bronze = new CliCommand("bronze", "Land raw events in bronze tables exactly once: streams (Kafka, Event Hubs) and landing-zone files.")
        {
            Examples =
            [
                "lakehouse bronze ingest --dataset weblogs --from landing/weblogs",
                "lakehouse bronze ingest --dataset weblogs --from kafka://127.0.0.1:9092/weblogs --follow",
            ],
        };
        bronze.Subcommands.Add(CreateIngest(session));
        return bronze;
    }

    private static CliCommand CreateIngest(CliSession session)
    {
        var command = new CliCommand("ingest", "Ingest a stream or landing-zone files into bronze.<dataset>, each event exactly once, raw, with its source position.")
        {
            Details = """
                --from is one of:
                  kafka://host:port/topic                         Kafka, or Event Hubs' Kafka endpoint (see the README)
                  eventhubs://namespace.servicebus.windows.net/hub   Event Hubs over AMQP (connection string or Azure credential)
                  a folder, or abfss://container@account.dfs.core.windows.net/path   landing-zone files
                Streams: each commit holds a micro-batch and, as Delta txn actions, the next position of every partition in it; a restarted
                ingest resumes from the positions in the table (not the broker's committed offsets), so a crash or SIGKILL at any point
                neither loses nor repeats an event. Several ingests with the same --group share the partitions.
                --once reads up to the end positions found at start and exits; --follow (the default for streams) runs until Ctrl+C.
                Files (a folder, one file in it, or an abfss:// folder or blob): each file is one event per line (.ndjson .jsonl .ldjson
                .log .txt), per element of a JSON array (.json starting with '['), per CSV/TSV data record (.csv .tsv: a JSON object
                of strings from the header), or per Event Hubs Capture record (.avro); each also as .gz or .zst (not .avro). Another
                extension is an error naming the file unless --format says what every file holds. Each file is ingested exactly
                once: its identity (path, size, etag or mtime, and a hash of its bytes) goes into the same commit as its rows, so a
                re-run, or the same file landed again, adds nothing. Files modified within --settle-ms are still being written and
                wait; names starting with '.' or '_' and .tmp/.part files are ignored. --once (the default for files) ingests what
                is there; --follow looks again every --poll-ms until Ctrl+C.
                Capture files and the live stream of the same event hub land each event once: a Capture record's identity is (event hub,
                partition, sequence number), the hub and partition read from Capture's path {Namespace}/{EventHub}/{PartitionId}/{Year}/…
                (--capture-hub names the hub when the folders are named otherwise). Records bronze already holds, from eventhubs://…/<hub>
                or kafka://…/<hub> or an earlier Capture file, are skipped; a stream started after a Capture backfill starts each
                partition after what the backfill landed. See the README, "Capture as the backfill for a stream".
                Progress (events/s, lag) shows on a terminal; the summary goes to standard output (--json for one JSON object).
                """,
            Examples =
            [
                "lakehouse bronze ingest --dataset weblogs --from kafka://127.0.0.1:9092/weblogs --follow",
                "lakehouse bronze ingest --dataset sensors --from eventhubs://myns.servicebus.windows.net/sensors --once --json",
                "lakehouse bronze ingest --dataset weblogs --from landing/weblogs --once",
                "lakehouse bronze ingest --dataset accesslogs --from abfss://landing@account.dfs.core.windows.net/accesslogs --follow --poll-ms 30000",
            ],
        };
        var dataset = CommandLine.Text("--dataset", "The dataset (built in, or defined in <lake>/_lakehouse/datasets/): its bronze table is bronze.<dataset>.", "name");
        dataset.Required = true;
        var from = CommandLine.Text("--from", "Where the events come from: kafka://…, eventhubs://…, a folder or abfss://… (see below).", "source");
        from.Required = true;
        var once = CommandLine.Flag("--once", "Read up to the end found at start, then exit.");
        var follow = CommandLine.Flag("--follow", "Keep reading until stopped (Ctrl+C or SIGTERM).");
        var group = CommandLine.Text("--group", "Consumer group of a stream (default lakehouse-bronze); ingests in one group share the partitions.", "name");
        var maxEvents = CommandLine.WholeNumber("--max-batch-events", "Commit when this many events are buffered (default 100000 for streams, 250000 for files).", min: 1, max: 10_000_000);
        var maxWait = CommandLine.WholeNumber("--max-batch-ms", "Commit at the latest this many milliseconds after a batch's first event (default 1000).", min: 1, max: 3_600_000, helpName: "ms");
        var json = CommandLine.Flag("--json", "Print the summary as one JSON object.");
        var format = CommandLine.Text("--format", $"Files: what every file holds, whatever its extension ({string.Join(", ", LandingKinds.Names.Select(n => n.Name))}).", "format");
        format.Validators.Add(CommandLine.OneOf("--format", [.. LandingKinds.Names.Select(n => n.Name)]));
        var poll = CommandLine.WholeNumber("--poll-ms", "Files with --follow: look for new files every this many milliseconds (default 5000).", min: 10, max: 86_400_000, helpName: "ms");
        var settle = CommandLine.WholeNumber("--settle-ms", "Files: take a file only once it is unmodified for this many milliseconds (default 2000).", min: 0, max: 86_400_000, helpName: "ms");
        var captureHub = CommandLine.Text("--capture-hub", "Capture files (.avro): the event hub they hold, as hub or namespace/hub, when their folders are not Capture's {Namespace}/{EventHub}/{PartitionId}/… (see below).", "hub");
        captureHub.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<string?>() is not { } v) return;
            try
            {
                LandingIngestOptions.CheckCaptureHub(v);
            }
            catch (ArgumentException e)
            {
                r.AddError("--capture-hub: " + e.Message);
            }
        });
        var onDataLoss = CommandLine.DataLossOption();
        foreach (var o in new Option[] { dataset, from, once, follow, group, maxEvents, maxWait, onDataLoss, json, format, poll, settle, captureHub }) command.Add(o);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(once) && parse.GetValue(follow)) throw CommandLine.Usage("--once and --follow exclude each other");
            var name = parse.GetValue(dataset)!;
            var source = parse.GetValue(from)!;
            if (BronzeSources.IsStream(source)) CommandLine.CheckStreamAddress(source);
            using var lake = session.OpenLake(parse);
            // An unknown dataset is refused, listing the known ones; so is a lake with a broken definition, naming it.
            await DatasetCatalog.Lookup(lake.Root).GetAsync(name, cancellationToken).ConfigureAwait(false);
            var table = BronzeTable.Open(lake.TableStorage("bronze." + name), lake.Engine, lake.LoggerFactory);
            if (!BronzeSources.IsStream(source))
            {
                if (parse.GetValue(group) is not null || parse.GetValue(maxWait) is not null || parse.GetValue(onDataLoss) is not null)
                    throw CommandLine.Usage("--group, --max-batch-ms and --on-data-loss are for streams (kafka://, eventhubs://), not for files");
                var (landing, file) = await OpenLandingAsync(source, lake.LoggerFactory, cancellationToken).ConfigureAwait(false);
                var landingOptions = new LandingIngestOptions
                {
                    Follow = parse.GetValue(follow),
                    File = file,
                    Format = parse.GetValue(format) is { } f ? LandingKinds.ParseFormat(f) : null,
                    CaptureHub = parse.GetValue(captureHub),
                };
                if (parse.GetValue(poll) is { } pollMs) landingOptions.PollInterval = TimeSpan.FromMilliseconds(pollMs);
                if (parse.GetValue(settle) is { } settleMs) landingOptions.SettleTime = TimeSpan.FromMilliseconds(settleMs);
                if (parse.GetValue(maxEvents) is { } batchEvents) landingOptions.MaxBatchEvents = batchEvents;
                var landingIngestor = new LandingIngestor(table, landing, landingOptions, lake.LoggerFactory);
                var landed = await session.Progress.RunAsync($"ingesting {source} into bronze.{name}", line =>
                {
                    landingIngestor.Progress += p => line.Update(string.Create(CultureInfo.InvariantCulture,
                        $"bronze.{name}: {p.FilesIngested:N0} files, {p.Events:N0} events, {p.EventsPerSecond:N0}/s{(p.FilesPending > 0 ? $", {p.FilesPending} being written" : "")}"));
                    return landingIngestor.RunAsync(cancellationToken);
                }).ConfigureAwait(false);
                await WriteLandingSummaryAsync(session.Out, name, source, landed, parse.GetValue(json)).ConfigureAwait(false);
                if (landed.Problems.Count > 0)
                {
                    throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                        $"{landed.Problems.Count} landing file(s) were not ingested (the others were):{Environment.NewLine}  " +
                        string.Join(Environment.NewLine + "  ", landed.Problems.Take(20)) + (landed.Problems.Count > 20 ? $"{Environment.NewLine}  … and {landed.Problems.Count - 20} more" : ""));
                }
                return CliApp.ExitOk;
            }
            if (parse.GetValue(format) is not null || parse.GetValue(poll) is not null || parse.GetValue(settle) is not null || parse.GetValue(captureHub) is not null)
                throw CommandLine.Usage("--format, --poll-ms, --settle-ms and --capture-hub are for files, not for streams");
            var options = new StreamIngestOptions
            {
                Once = parse.GetValue(once),
                MaxBatchEvents = (int)(parse.GetValue(maxEvents) ?? 100_000),
                MaxBatchWait = TimeSpan.FromMilliseconds(parse.GetValue(maxWait) ?? 1000),
            };
            await using var stream = BronzeSources.OpenStream(source, new StreamSourceSettings
            {
                ConsumerGroup = parse.GetValue(group) ?? StreamSourceSettings.DefaultConsumerGroup,
                LoggerFactory = lake.LoggerFactory,
                Lake = lake.Root,
                Dataset = name,
                OnDataLoss = CommandLine.DataLoss(parse.GetValue(onDataLoss)),
            });
            var ingestor = new StreamIngestor(table, stream, options, lake.LoggerFactory);
            var result = await session.Progress.RunAsync($"ingesting {source} into bronze.{name}", line =>
            {
                ingestor.Progress += p => line.Update(
                    string.Create(CultureInfo.InvariantCulture, $"bronze.{name}: {p.Events:N0} events, {p.EventsPerSecond:N0}/s, {p.Commits} commits{(stream.Lag is { } lag ? $", lag {lag:N0}" : "")}"));
                return ingestor.RunAsync(cancellationToken);
            }).ConfigureAwait(false);
            await WriteSummaryAsync(session.Out, name, source, result, parse.GetValue(json)).ConfigureAwait(false);
            return CliApp.ExitOk;
        });
        return command;
    }

    /// <summary>
    /// The landing storage of <paramref name="source"/> and, when it names one file rather than a folder, that file's name in it.
    /// A local folder or file must exist; an abfss:// location is a blob when a blob of that name exists, else a folder.
    /// </summary>
    private static async Task<(ILakeStorage Landing, string? File)> OpenLandingAsync(string source, Microsoft.Extensions.Logging.ILoggerFactory loggerFactory, CancellationToken cancellationToken)
    {
        if (!source.Contains("://", StringComparison.Ordinal))
        {
            // Through a link to a folder already ingested, its files were new locations and landed again (access logs then counted twice).
            var full = CliPaths.RealPath(source);
            if (File.Exists(full)) return (LakeContext.OpenStorage(Path.GetDirectoryName(full)!, loggerFactory), Path.GetFileName(full));
            if (Directory.Exists(full)) return (LakeContext.OpenStorage(full, loggerFactory), null);
            throw new LakehouseException(LakehouseErrorReason.NotFound, $"The landing folder or file '{source}' does not exist.");
        }
        var authority = source.IndexOf("://", StringComparison.Ordinal) + 3;
        var slash = source.LastIndexOf('/');
        if (slash > authority && slash < source.Length - 1)
        {
            ILakeStorage? parent;
            try
            {
                parent = LakeContext.OpenStorage(source[..slash], loggerFactory);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.InvalidInput)
            {
                parent = null; // The part before the last '/' is not a location of its own (a container's endpoint): a folder.
            }
            var name = source[(slash + 1)..];
            if (parent is not null && await parent.GetInfoAsync(name, cancellationToken).ConfigureAwait(false) is not null) return (parent, name);
        }
        return (LakeContext.OpenStorage(source, loggerFactory), null);
    }

    private static Task WriteLandingSummaryAsync(TextWriter stdout, string dataset, string source, LandingIngestProgress result, bool json)
    {
        if (json)
        {
            return stdout.WriteLineAsync(JsonSerializer.Serialize(new
            {
                table = "bronze." + dataset,
                source,
                filesIngested = result.FilesIngested,
                filesSkipped = result.FilesSkipped,
                filesPending = result.FilesPending,
                filesFailed = result.FilesFailed,
                result.Events,
                eventsAlreadyHeld = result.EventsAlreadyHeld,
                bytes = result.PayloadBytes,
                fileBytes = result.FileBytes,
                result.Commits,
                seconds = Math.Round(result.Elapsed.TotalSeconds, 3),
                eventsPerSecond = Math.Round(result.EventsPerSecond),
                problems = result.Problems,
            }, TableChange.JsonOptions));
        }
        var text = string.Create(CultureInfo.InvariantCulture,
            $"bronze.{dataset}: {result.FilesIngested:N0} files ingested ({result.Events:N0} events, {result.PayloadBytes:N0} bytes) in {result.Commits} commits, " +
            $"{result.FilesSkipped:N0} skipped as already ingested, {result.Elapsed.TotalSeconds:0.0} s, {result.EventsPerSecond:N0} events/s");
        if (result.EventsAlreadyHeld > 0) text += string.Create(CultureInfo.InvariantCulture, $"; {result.EventsAlreadyHeld:N0} Capture records skipped as already in bronze (from the live stream or other Capture files)");
        if (result.FilesPending > 0) text += string.Create(CultureInfo.InvariantCulture, $"; {result.FilesPending:N0} still being written (run again to take them)");
        if (result.FilesFailed > 0) text += string.Create(CultureInfo.InvariantCulture, $"; {result.FilesFailed:N0} not ingested (see below)");
        return stdout.WriteLineAsync(text);
    }

    private static Task WriteSummaryAsync(TextWriter stdout, string dataset, string source, StreamIngestProgress result, bool json)
    {
        if (json)
        {
            return stdout.WriteLineAsync(JsonSerializer.Serialize(new
            {
                table = "bronze." + dataset,
                source,
                result.Events,
                result.Bytes,
                result.Commits,
                droppedOnConflict = result.DroppedOnConflict,
                seconds = Math.Round(result.Elapsed.TotalSeconds, 3),
                eventsPerSecond = Math.Round(result.EventsPerSecond),
                positions = result.Positions,
            }, TableChange.JsonOptions));
        }
        return stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"bronze.{dataset}: {result.Events:N0} events ({result.Bytes:N0} bytes) in {result.Commits} commits, {result.Elapsed.TotalSeconds:0.0} s, {result.EventsPerSecond:N0} events/s; positions {string.Join(", ", result.Positions.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"))}"));
    }
}
