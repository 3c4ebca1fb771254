using System.Globalization;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Cli.Streaming;
using Lakehouse.Engine;

namespace Lakehouse.Cli.Bench;

/// <summary>
/// The streaming part of the medallion suite: for each rate, simulated web-log events sent at that rate for the given seconds to a
/// topic of librdkafka's mock cluster (started here), <c>lakehouse stream</c> (bronze, silver and gold in one child process) taking
/// them into a fresh lake. Latency is produce → visible (<see cref="StreamLatency"/>): from the Kafka message's CreateTime (set when
/// the producer hands it to librdkafka) to the modification time of the silver (gold: page_performance_daily) commit file that first
/// covers the event's bronze version — the moment a reader of the table's latest version sees it. Sustained throughput is the
/// events over the time from the first send to the gold commit that made the last one visible. The counts must reconcile or the
/// bench fails.
/// </summary>
internal sealed class MedallionStreamBench(DuckEngine engine, string run, Action<string> progress)
{
    /// <summary>--max-batch-ms of the stream: a bronze micro-batch commits at the latest this long after its first event.</summary>
    internal const int MaxBatchMs = 200;

    /// <summary>Runs each rate in turn; <paramref name="partitions"/> (null: <see cref="StreamRig.DefaultPartitions"/> of the rate) partitions per topic.</summary>
    internal async Task<List<MedallionStream>> RunAsync(IReadOnlyList<int> rates, int seconds, int? partitions, CancellationToken cancellationToken)
    {
        var results = new List<MedallionStream>();
        using var kafka = KafkaMockCluster.Start();
        progress($"stream: librdkafka mock cluster at {kafka.BootstrapServers}");
        foreach (var rate in rates)
        {
            results.Add(await RateAsync(kafka, rate, seconds, partitions ?? StreamRig.DefaultPartitions(rate), cancellationToken).ConfigureAwait(false));
        }
        return results;
    }

    private async Task<MedallionStream> RateAsync(KafkaMockCluster kafka, int rate, int seconds, int partitions, CancellationToken cancellationToken)
    {
        var lake = Path.Combine(run, $"stream-{rate}");
        var events = (long)rate * seconds;
        using var rig = await StreamRig.StartAsync(kafka, engine, lake, $"bench-{rate}-{Guid.NewGuid().ToString("N")[..8]}", partitions, MaxBatchMs, progress, cancellationToken)
            .ConfigureAwait(false);
        progress(string.Create(CultureInfo.InvariantCulture, $"stream: {rate:N0} events/s for {seconds} s ({events:N0} events, {rig.Partitions} partitions) → lakehouse stream"));
        StreamProduced sent;
        var stopped = false;
        using (var producer = rig.StartProducer(events, rate, seed: 7))
        {
            // While it sends, a stream that fell further behind than the mock keeps stops the run (void) instead of reporting on lost events;
            // a producer that cannot keep the rate is stopped when its time is up, so the run stays a run of that many seconds.
            var sending = System.Diagnostics.Stopwatch.StartNew();
            while (!producer.HasExited)
            {
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken).ConfigureAwait(false);
                await rig.ThrowIfDeletedBeforeConsumedAsync(cancellationToken).ConfigureAwait(false);
                if (sending.Elapsed > TimeSpan.FromSeconds(seconds) + StreamRig.ProducerGrace && !producer.HasExited)
                {
                    await rig.StopProducerAsync(producer, cancellationToken).ConfigureAwait(false);
                    stopped = true;
                }
            }
            sent = await StreamRig.ProducedAsync(producer, TimeSpan.FromSeconds(seconds * 10 + 120), cancellationToken, stopped).ConfigureAwait(false);
        }
        var (onBroker, _) = rig.Broker();
        // A stopped producer's last batch may be on the broker without being in its summary: the broker's count is what was sent.
        if (stopped) sent = sent with { Events = onBroker };
        if (onBroker != sent.Events)
            throw new Lakehouse.Core.LakehouseException(Lakehouse.Core.LakehouseErrorReason.Engine, $"The producer sent {sent.Events} events, the broker holds {onBroker}.");
        var drain = await rig.WaitCaughtUpAsync(sent.Events, TimeSpan.FromSeconds(Math.Max(300, seconds * 10)), cancellationToken).ConfigureAwait(false);
        var peak = await rig.StopAsync(cancellationToken).ConfigureAwait(false);
        var counts = await rig.CountsAsync(sent.Events, cancellationToken).ConfigureAwait(false);
        var latency = await StreamLatency.MeasureAsync(rig.Storage, engine, StreamRig.Dataset, StreamRig.GoldTable, cancellationToken).ConfigureAwait(false);
        if (latency.Events != sent.Events || latency.SilverEvents != sent.Events || latency.GoldEvents != sent.Events)
            throw new Lakehouse.Core.LakehouseException(Lakehouse.Core.LakehouseErrorReason.Engine,
                $"Latency: {sent.Events} events sent, {latency.Events} found in bronze's commits, {latency.SilverEvents} visible in silver, {latency.GoldEvents} in gold.");
        var span = (latency.GoldDoneAt!.Value - latency.FirstProduced!.Value).TotalSeconds;
        var sendSpan = (latency.LastProduced!.Value - latency.FirstProduced.Value).TotalSeconds;
        var target = rate <= 10_000 ? 500 : 1000;
        var result = new MedallionStream(rate, seconds, sent.Events, sent.Duplicates, sent.Malformed, Round(sendSpan > 0 ? sent.Events / sendSpan : sent.Events, 0),
            Round(latency.BronzeP50Ms, 0), Round(latency.BronzeP99Ms, 0), Round(latency.SilverP50Ms, 0), Round(latency.SilverP99Ms, 0),
            Round(latency.GoldP50Ms!.Value, 0), Round(latency.GoldP99Ms!.Value, 0), Round(sent.Events / span, 0), Round(drain.TotalMilliseconds, 0), peak, MaxBatchMs, counts,
            $"silver_p99_ms <= {target}", latency.SilverP99Ms <= target, rig.Partitions, stopped);
        progress(string.Create(CultureInfo.InvariantCulture,
            $"stream {rate:N0}/s: sent {result.SendEventsPerS:N0}/s; produce → bronze p50 {result.BronzeP50Ms:N0} p99 {result.BronzeP99Ms:N0} ms, silver p50 {result.SilverP50Ms:N0} p99 {result.SilverP99Ms:N0} ms, gold p50 {result.GoldP50Ms:N0} p99 {result.GoldP99Ms:N0} ms; ") + string.Create(CultureInfo.InvariantCulture,
            $"sustained {result.SustainedEventsPerS:N0} events/s; caught up {drain.TotalSeconds:0.0} s after the last send; peak RSS {peak / 1048576.0:N0} MiB; ") + string.Create(CultureInfo.InvariantCulture,
            $"{counts.Silver:N0} in silver, {counts.Quarantined:N0} quarantined, {counts.Duplicates:N0} duplicates"));
        Directory.Delete(lake, recursive: true);
        return result;
    }

    private static double Round(double value, int digits) => Math.Round(value, digits, MidpointRounding.AwayFromZero);
}
