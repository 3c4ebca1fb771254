using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lakehouse.Bronze;
using Lakehouse.Core;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse bronze ingest</c>: land a stream or landing-zone files in <c>bronze.&lt;dataset&gt;</c>, exactly once.</summary>
internal static class BronzeCommands
{
    internal static Command Create(CliSession session)
    {
        var bronze = new CliCommand("bronze", "Land raw events in bronze tables exactly once: streams (Kafka, Event Hubs) and landing-zone files.");
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
                Progress (events/s, lag) shows on a terminal; the summary goes to standard output (--json for one JSON object).
                """,
            Examples =
            [
                "lakehouse bronze ingest --dataset weblogs --from kafka://127.0.0.1:9092/weblogs --follow",
                "lakehouse bronze ingest --dataset sensors --from eventhubs://myns.servicebus.windows.net/sensors --once --json",
                "lakehouse bronze ingest --dataset weblogs --from landing/weblogs --once",
            ],
        };
        var dataset = CommandLine.Text("--dataset", "The dataset: its bronze table is bronze.<dataset>.", "name");
        dataset.Required = true;
        var from = CommandLine.Text("--from", "Where the events come from: kafka://…, eventhubs://…, a folder or abfss://… (see below).", "source");
        from.Required = true;
        var once = CommandLine.Flag("--once", "Read up to the end found at start, then exit.");
        var follow = CommandLine.Flag("--follow", "Keep reading until stopped (Ctrl+C or SIGTERM).");
        var group = CommandLine.Text("--group", "Consumer group of a stream (default lakehouse-bronze); ingests in one group share the partitions.", "name");
        var maxEvents = CommandLine.WholeNumber("--max-batch-events", "Commit when this many events are buffered (default 100000).", min: 1, max: 10_000_000);
        var maxWait = CommandLine.WholeNumber("--max-batch-ms", "Commit at the latest this many milliseconds after a batch's first event (default 1000).", min: 1, max: 3_600_000, helpName: "ms");
        var json = CommandLine.Flag("--json", "Print the summary as one JSON object.");
        foreach (var o in new Option[] { dataset, from, once, follow, group, maxEvents, maxWait, json }) command.Add(o);
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(once) && parse.GetValue(follow)) throw CommandLine.Usage("--once and --follow exclude each other");
            var name = parse.GetValue(dataset)!;
            var source = parse.GetValue(from)!;
            using var lake = session.OpenLake(parse);
            var table = BronzeTable.Open(lake.TableStorage("bronze." + name), lake.Engine, lake.LoggerFactory);
            if (!BronzeSources.IsStream(source))
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, "Landing-zone ingest is not available yet.");
            var options = new StreamIngestOptions
            {
                Once = parse.GetValue(once),
                MaxBatchEvents = (int)(parse.GetValue(maxEvents) ?? 100_000),
                MaxBatchWait = TimeSpan.FromMilliseconds(parse.GetValue(maxWait) ?? 1000),
            };
            await using var stream = BronzeSources.OpenStream(source, new StreamSourceSettings
            {
                ConsumerGroup = parse.GetValue(group) ?? "lakehouse-bronze",
                Once = options.Once,
                LoggerFactory = lake.LoggerFactory,
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
