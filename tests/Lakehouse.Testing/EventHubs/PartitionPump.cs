using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Azure.Amqp;
using Microsoft.Azure.Amqp.Encoding;
using Microsoft.Azure.Amqp.Framing;

namespace Lakehouse.Testing.EventHubs;

/// <summary>Where a receiver starts, from its <c>apache.org:selector-filter:string</c> filter.</summary>
internal static partial class StandInFilter
{
    public const string SelectorFilterName = "apache.org:selector-filter:string";

    [GeneratedRegex(@"^\s*amqp\.annotation\.(?<field>x-opt-offset|x-opt-sequence-number|x-opt-enqueued-time)\s*(?<op>>=|>)\s*'?(?<value>[^']*?)'?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex Selector();

    /// <summary>The index (= sequence number) of the first event the receiver gets; no filter: the beginning.</summary>
    public static int StartIndex(StandInPartition partition, FilterSet? filters)
    {
        if (filters is null || !filters.TryGetValue<object>(new AmqpSymbol(SelectorFilterName), out var filter)) return 0;
        var text = filter switch
        {
            DescribedType described => described.Value as string,
            string s => s,
            _ => null,
        } ?? throw new AmqpException(AmqpErrorCode.InvalidField, $"The selector filter '{filter}' is not a string.");
        var match = Selector().Match(text);
        if (!match.Success) throw new AmqpException(AmqpErrorCode.NotImplemented, $"The stand-in does not understand the selector filter '{text}'.");
        var inclusive = match.Groups["op"].Value == ">=";
        var value = match.Groups["value"].Value;
        var field = match.Groups["field"].Value.ToLowerInvariant();
        if (value == "@latest") return partition.Count;
        if (!long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            throw new AmqpException(AmqpErrorCode.InvalidField, $"The selector filter '{text}' has no number.");
        return field switch
        {
            "x-opt-offset" => partition.FirstIndexWhere(e => inclusive ? e.Offset >= n : e.Offset > n),
            "x-opt-sequence-number" => (int)Math.Clamp(inclusive ? n : n + 1, 0, partition.Count),
            _ => partition.FirstIndexWhere(e =>
            {
                var ms = new DateTimeOffset(e.EnqueuedTime).ToUnixTimeMilliseconds();
                return inclusive ? ms >= n : ms > n;
            }),
        };
    }
}

/// <summary>
/// Feeds one receiver link from its partition: whatever the partition holds past the receiver's position, as far as the
/// receiver's credit allows, waking up when events are appended or credit arrives.
/// </summary>
internal sealed class PartitionPump(SendingAmqpLink link, StandInPartition partition, int start)
{
    private readonly SemaphoreSlim _wake = new(0);
    private readonly CancellationTokenSource _stop = new();
    private int _next = start;
    private long _tag;

    public void Start()
    {
        link.RegisterCreditListener((_, _, _) => Wake());
        partition.Subscribe(Wake);
        _ = Task.Run(RunAsync);
    }

    public void Stop()
    {
        partition.Unsubscribe(Wake);
        _stop.Cancel();
    }

    private void Wake()
    {
        if (_wake.CurrentCount == 0) _wake.Release();
    }

    private async Task RunAsync()
    {
        var batch = new List<StandInEvent>();
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var credit = (int)Math.Min(link.LinkCredit, 256);
                batch.Clear();
                if (credit > 0 && partition.CopyFrom(_next, credit, batch) > 0)
                {
                    foreach (var e in batch)
                    {
                        var tag = BitConverter.GetBytes(Interlocked.Increment(ref _tag));
                        link.SendMessageNoWait(StandInMessages.ToMessage(e), new ArraySegment<byte>(tag), AmqpConstants.NullBinary);
                    }
                    _next += batch.Count;
                    continue;
                }
                await _wake.WaitAsync(TimeSpan.FromMilliseconds(200), _stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // The link closed.
        }
        catch (Exception e) when (e is AmqpException or ObjectDisposedException or InvalidOperationException)
        {
            link.SafeClose(e);
        }
    }
}
