using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Lakehouse.Bronze;
using Lakehouse.Bronze.Simulator;
using Lakehouse.Datasets;
using Lakehouse.Datasets.Simulation;

namespace Lakehouse.Cli.Commands;

/// <summary>
/// <c>lakehouse produce</c>: the simulator. Realistic events of a built-in dataset, deterministic for a seed, with duplicates,
/// malformed and late events on request, sent to a folder (rolling files), an HTTP endpoint, Kafka or Event Hubs.
/// </summary>
internal static class ProduceCommand
{
    internal static Command Create(CliSession session)
    {
        var command = new CliCommand("produce", "Simulate a dataset's events and send them to a folder, an HTTP endpoint, Kafka or Event Hubs.")
        {
            Details = """
                --to is one of:
                  a folder                                  rolling files <dataset>-s<seed>-<id>-00001.ndjson (.log for accesslogs), each
                                                            written under a hidden .<name>.inprogress name and renamed when complete
                  http://host:port[/path]                   POST batches to /ingest/<dataset> (lakehouse serve) or the path given;
                                                            408, 429, 502, 503 and 504 are retried with backoff, other errors stop the run
                  kafka://host:port/topic, eventhubs://…    a stream (see the README)
                The same --dataset, --events, --seed, fractions, --start and --days give byte-identical events. Event times start
                at 2024-05-01T00:00:00Z unless --start says otherwise, and span 3 days (weblogs, accesslogs) or a day of 30-second
                readings per sensor (sensors) unless --days says otherwise. A fraction is 0.05 or 5%: duplicates are exact
                re-sends of recent events, malformed events are truncated, garbage or not UTF-8, late events are 1 to 24 hours
                older than the others. A summary goes to standard output (--json for one JSON object).
                """,
            Examples =
            [
                "lakehouse produce --dataset weblogs --events 100000 --to landing/weblogs",
                "lakehouse produce --dataset sensors --events 50000 --rate 1000 --to http://127.0.0.1:8080 --duplicates 2% --late 1%",
                "lakehouse produce --dataset accesslogs --events 1000000 --to kafka://127.0.0.1:9092/accesslogs --malformed 0.001",
                "lakehouse produce --dataset weblogs --events 5000 --start now --days 0.1 --to landing/live --json",
            ],
        };
        var dataset = CommandLine.Text("--dataset", $"The dataset to simulate: {CommandLine.Alternatives(EventSimulator.Datasets)}.", "name");
        dataset.Required = true;
        dataset.Validators.Add(CommandLine.OneOf("--dataset", EventSimulator.Datasets));
        var to = CommandLine.Text("--to", "Where the events go: a folder, http://host:port, kafka://host:port/topic or eventhubs://… (see below).", "destination");
        to.Required = true;
        var events = CommandLine.WholeNumber("--events", "How many events to send in all, duplicates and malformed ones included (default 10000).", min: 0, max: 10_000_000_000);
        var seed = CommandLine.WholeNumber("--seed", "The random seed (default 42).", helpName: "S");
        var rate = Number("--rate", "Send this many events per second (default: as fast as the destination takes them).", "R", min: 0.001, max: 1e9);
        var duplicates = Fraction("--duplicates", "The fraction of sends that re-send a recent event (default 0).");
        var malformed = Fraction("--malformed", "The fraction of sends that are malformed (default 0).");
        var late = Fraction("--late", "The fraction of new events that arrive 1 to 24 hours late (default 0).");
        var start = CommandLine.Text("--start", "The first event time: 2024-05-01, 2024-05-01T12:00:00Z, or now (default 2024-05-01T00:00:00Z).", "time");
        var days = Number("--days", "How many days the event times span (default: 3, sensors a day of readings).", "D");
        var fileEvents = CommandLine.WholeNumber("--file-events", "Folder: events per file (default 100000).", min: 1, max: 100_000_000);
        var batch = CommandLine.WholeNumber("--batch", "Events per batch: per HTTP request or write (default 1000).", min: 1, max: 1_000_000);
        var json = CommandLine.Flag("--json", "Print the summary as one JSON object.");
        foreach (var o in new Option[] { dataset, to, events, seed, rate, duplicates, malformed, late, start, days, fileEvents, batch, json }) command.Add(o);

        command.SetAction(async (parse, cancellationToken) =>
        {
            var name = parse.GetValue(dataset)!;
            var destination = parse.GetValue(to)!;
            if (BronzeSources.IsStream(destination)) CommandLine.CheckStreamAddress(destination);
            var span = parse.GetValue(days);
            if (span > 3650) throw CommandLine.Usage("--days must be at most 3650");
            var simulator = new SimulatorOptions
            {
                Events = parse.GetValue(events) ?? 10_000,
                Seed = parse.GetValue(seed) ?? 42,
                Duplicates = parse.GetValue(duplicates) ?? 0,
                Malformed = parse.GetValue(malformed) ?? 0,
                Late = parse.GetValue(late) ?? 0,
                Start = parse.GetValue(start) is { } startText ? ParseStart(startText) : SimulatorOptions.DefaultStart,
                Span = span is { } d ? TimeSpan.FromDays(d) : null,
            };
            if (simulator.Duplicates + simulator.Malformed > 1) throw CommandLine.Usage("--duplicates and --malformed together are at most 1 (all of the events)");
            CheckEventTimesEnd(name, simulator, parse.GetValue(start), span);

            var definition = DatasetCatalog.BuiltIn.Get(name);
            var runId = RunId(name, simulator);
            var produce = new ProduceOptions { Rate = parse.GetValue(rate), BatchSize = (int)(parse.GetValue(batch) ?? 1_000) };
            var sinkOptions = new EventSinkOptions
            {
                Dataset = name,
                TextPayload = definition.Payload == DatasetPayloadKind.Text,
                RunId = runId,
                EventsPerFile = (int)(parse.GetValue(fileEvents) ?? 100_000),
            };
            var shown = Shown(destination);
            var sink = EventSinks.Open(destination, new StreamSourceSettings { LoggerFactory = session.LoggerFactory }, sinkOptions);
            ProduceProgress? last = null;
            try
            {
                last = await session.Progress.RunAsync($"producing {name} to {shown}", line => EventProducer.RunAsync(
                    EventSimulator.Generate(name, simulator), sink, produce, p =>
                    {
                        last = p;
                        line.Update(string.Create(CultureInfo.InvariantCulture, $"{name}: {p.Events:N0} of {simulator.Events:N0} events, {p.EventsPerSecond:N0}/s"));
                    }, cancellationToken)).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (last is not null)
            {
                // Stopped: what was sent stays sent (a folder's last file was published); say how far it got, then end as cancelled.
                await WriteSummaryAsync(session, name, shown, runId, simulator, last, parse.GetValue(json), stopped: true).ConfigureAwait(false);
                throw;
            }
            await WriteSummaryAsync(session, name, shown, runId, simulator, last, parse.GetValue(json), stopped: false).ConfigureAwait(false);
            return CliApp.ExitOk;
        });
        return command;
    }

    /// <summary>
    /// The run's name: the dataset, the seed and a digest of everything that decides the events, so the same options name the same
    /// files (and HTTP idempotency keys) and different options never collide.
    /// </summary>
    internal static string RunId(string dataset, SimulatorOptions o)
    {
        var identity = string.Create(CultureInfo.InvariantCulture,
            $"{dataset}|{o.Events}|{o.Seed}|{o.Duplicates:R}|{o.Malformed:R}|{o.Late:R}|{o.Start.UtcTicks}|{o.Span?.Ticks}");
        var digest = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(identity)))[..8];
        return string.Create(CultureInfo.InvariantCulture, $"{dataset}-s{o.Seed}-{digest}");
    }

    private static Task WriteSummaryAsync(CliSession session, string dataset, string to, string runId, SimulatorOptions options, ProduceProgress p, bool json, bool stopped)
    {
        if (json)
        {
            return session.Out.WriteLineAsync(JsonSerializer.Serialize(new
            {
                dataset,
                to,
                runId,
                seed = options.Seed,
                events = p.Events,
                duplicates = p.Duplicates,
                malformed = p.Malformed,
                late = p.Late,
                bytes = p.Bytes,
                files = p.Files,
                requests = p.Requests,
                retries = p.Retries,
                alreadyLanded = p.Replayed,
                seconds = Math.Round(p.Elapsed.TotalSeconds, 3),
                eventsPerSecond = Math.Round(p.EventsPerSecond),
                stopped,
            }, TableChange.JsonOptions));
        }
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"{(stopped ? "stopped after" : "produced")} {p.Events:N0} {dataset} events ({p.Duplicates:N0} duplicates, {p.Malformed:N0} malformed, {p.Late:N0} late) to {to}: ");
        if (p.Files is { } files) sb.Append(CultureInfo.InvariantCulture, $"{files.Count} file{(files.Count == 1 ? "" : "s")}, ");
        if (p.Requests is { } requests) sb.Append(CultureInfo.InvariantCulture, $"{requests:N0} requests ({p.Retries:N0} retried, {p.Replayed:N0} batches already landed), ");
        sb.Append(CultureInfo.InvariantCulture, $"{p.Bytes:N0} bytes, {p.Elapsed.TotalSeconds:0.0} s, {p.EventsPerSecond:N0} events/s; run {runId}");
        return session.Out.WriteLineAsync(sb.ToString());
    }

    private static DateTimeOffset ParseStart(string text)
    {
        if (text.Equals("now", StringComparison.OrdinalIgnoreCase))
        {
            var now = DateTimeOffset.UtcNow;
            return new DateTimeOffset(now.Ticks - (now.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        }
        if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
            throw CommandLine.Usage($"--start must be a date or time such as 2024-05-01 or 2024-05-01T12:00:00Z, or now; not '{text}'");
        // Silver takes event times from First 00:00:00Z up to (not including) the day after Last; where the events end is checked
        // with the span (CheckEventTimesEnd).
        var (first, last) = (Datasets.EventTimes.First, Datasets.EventTimes.Last);
        return t >= FirstEventTime && t < EndOfEventTimes ? t
            : throw CommandLine.Usage($"--start must be from {first:yyyy-MM-dd} to {last:yyyy-MM-dd} (the event times the lake takes), not '{text}'");
    }

    private static DateTimeOffset FirstEventTime => new(Datasets.EventTimes.First.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    /// <summary>The first time silver no longer takes: the day after <see cref="Datasets.EventTimes.Last"/>, 00:00:00Z.</summary>
    private static DateTimeOffset EndOfEventTimes => new(Datasets.EventTimes.Last.AddDays(1).ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);

    /// <summary>
    /// Refuses a start and span whose events would run past the event times silver takes (it would quarantine them as
    /// out_of_range), saying how many days that start allows.
    /// </summary>
    private static void CheckEventTimesEnd(string dataset, SimulatorOptions options, string? startText, double? days)
    {
        var end = EventSimulator.EndOfEventTimes(dataset, options);
        if (end <= EndOfEventTimes) return;
        var given = days is { } d ? string.Create(CultureInfo.InvariantCulture, $"--days {d}") : $"{dataset}' default span";
        var sensors = dataset == "sensors";
        // The most days this start allows: sensors' readings run on past the span (a quarter of it and a day are kept free).
        var room = (EndOfEventTimes - options.Start).TotalDays;
        var most = Math.Floor((sensors ? (room - 1) / 1.25 : room) * 1000) / 1000;
        var allowed = most > 0 ? string.Create(CultureInfo.InvariantCulture, $"from that start --days is at most {most}") : "start earlier";
        throw CommandLine.Usage(
            $"--start {startText ?? "(default)"} with {given} makes event times up to {end.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}" +
            $"{(sensors ? " (sensors' readings run up to a quarter of --days and a day past it)" : "")}, " +
            $"but the lake takes event times from {FirstEventTime.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'} up to, not including, {EndOfEventTimes.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss'Z'}: {allowed}");
    }

    /// <summary>A fraction: 0.05 or 5%, between 0 and 1.</summary>
    private static Option<double?> Fraction(string name, string description)
    {
        var option = new Option<double?>(name) { Description = description, HelpName = "F" };
        option.CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            var percent = text.EndsWith('%');
            if (!double.TryParse(percent ? text[..^1] : text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                result.AddError($"{name} must be a fraction such as 0.05 or 5%, not '{text}'");
                return null;
            }
            if (percent) value /= 100;
            if (!double.IsFinite(value) || value is < 0 or > 1)
            {
                result.AddError($"{name} must be between 0 and 1 (0% and 100%), not '{text}'");
                return null;
            }
            return value;
        };
        return option;
    }

    /// <summary>A positive number such as 1000 or 0.5.</summary>
    private static Option<double?> Number(string name, string description, string helpName, double min = double.Epsilon, double max = double.MaxValue)
    {
        var option = new Option<double?>(name) { Description = description, HelpName = helpName };
        option.CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (!double.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out var value) || !double.IsFinite(value) || value <= 0)
            {
                result.AddError($"{name} must be a number more than 0, not '{text}'");
                return null;
            }
            // A rate so low that one batch waits longer than a timer can (about 24 days) failed with .NET's timer message.
            if (value < min || value > max)
            {
                result.AddError($"{name} must be between {min.ToString(CultureInfo.InvariantCulture)} and {max.ToString(CultureInfo.InvariantCulture)}, not '{text}'");
                return null;
            }
            return value;
        };
        return option;
    }

    /// <summary>The destination without a URL's user info or query (which may hold a key).</summary>
    private static string Shown(string to)
    {
        var scheme = to.IndexOf("://", StringComparison.Ordinal);
        if (scheme < 0) return to;
        var cut = to.IndexOfAny(['?', '#']);
        if (cut >= 0) to = to[..cut];
        var at = to.IndexOf('@', StringComparison.Ordinal);
        return at > scheme ? to[..(scheme + 3)] + to[(at + 1)..] : to;
    }
}
