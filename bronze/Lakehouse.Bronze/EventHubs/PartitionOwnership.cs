using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Lakehouse.Core;
using Lakehouse.Storage;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze.EventHubs;

/// <summary>
/// Which worker of a group reads which partition, agreed through small lease files in the lake, the way the Event Hubs
/// Processor's load balancer does with blobs, but with put-if-absent only (the lake storage has no conditional overwrite).
/// </summary>
/// <remarks>
/// Each partition has a folder of numbered leases, <c>&lt;partition&gt;/&lt;epoch:D20&gt;.json</c>; the highest epoch is the
/// partition's current lease (owner, expiry). Claiming, stealing, renewing and releasing all mean creating the next epoch's
/// file with put-if-absent: of two workers racing for one epoch exactly one wins, and a worker whose renewal finds its next
/// epoch already taken knows the partition was stolen. A lease is live until its expiry (by the writer's clock) or until it
/// has stayed the current epoch for a whole lease duration by this worker's own clock, whichever comes first — so a dead
/// worker's partitions are taken over after one lease duration whatever the clocks say. Every round each worker renews its
/// leases, then claims free (never claimed, released or expired) partitions up to its fair share, or steals one partition
/// from a worker holding more than its share. Old epochs are deleted as new ones are written. Correctness never depends on
/// this: bronze's commits refuse a batch planned from positions another worker has since advanced; ownership only keeps
/// workers from reading the same events.
/// </remarks>
internal sealed class PartitionOwnership
{
    private const int EpochsKept = 4;
    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private readonly ILakeStorage _folder;
    private readonly IReadOnlyList<string> _partitions;
    private readonly TimeProvider _time;
    private readonly ILogger _log;
    private readonly Dictionary<string, (long Epoch, Lease Lease, long FirstSeen)> _seen = new(StringComparer.Ordinal);
    private readonly HashSet<string> _owned = new(StringComparer.Ordinal);

    /// <summary>Ownership of <paramref name="partitions"/> among the workers sharing <paramref name="folder"/>.</summary>
    public PartitionOwnership(ILakeStorage folder, string ownerId, IReadOnlyList<string> partitions, TimeSpan leaseDuration, ILogger log, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(leaseDuration, TimeSpan.FromSeconds(1));
        _folder = folder;
        OwnerId = ownerId;
        _partitions = partitions;
        LeaseDuration = leaseDuration;
        _log = log;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>This worker's id in the lease files.</summary>
    public string OwnerId { get; }

    /// <summary>How long a lease lasts without renewal.</summary>
    public TimeSpan LeaseDuration { get; }

    /// <summary>How often a worker renews and rebalances: a third of the lease duration.</summary>
    public TimeSpan RenewInterval => LeaseDuration / 3;

    /// <summary>The partitions this worker held after the last round.</summary>
    public IReadOnlySet<string> Owned => new HashSet<string>(_owned, StringComparer.Ordinal);

    /// <summary>A lease as stored: who holds it ("" once released) and until when.</summary>
    internal sealed record Lease(string Owner, DateTimeOffset Expires, string? Host = null, int? Process = null);

    /// <summary>One round: renew this worker's leases, then claim or steal towards a fair share. Returns the partitions owned now.</summary>
    public async Task<IReadOnlySet<string>> BalanceAsync(CancellationToken cancellationToken)
    {
        var current = await ReadAsync(cancellationToken).ConfigureAwait(false);
        var now = _time.GetUtcNow();

        // Renew: a lease this worker holds moves to the next epoch; if that epoch exists, someone took the partition.
        foreach (var p in _partitions)
        {
            var mine = current.TryGetValue(p, out var c) && c.Lease.Owner == OwnerId;
            if (!mine)
            {
                if (_owned.Remove(p)) EventHubsLog.PartitionLost(_log, p, c.Lease?.Owner ?? "nobody");
                continue;
            }
            if (await TryWriteAsync(p, c.Epoch + 1, OwnerId, now, cancellationToken).ConfigureAwait(false))
            {
                current[p] = (c.Epoch + 1, new Lease(OwnerId, now + LeaseDuration));
                _owned.Add(p);
            }
            else
            {
                current.Remove(p);
                if (_owned.Remove(p)) EventHubsLog.PartitionLost(_log, p, "another worker");
            }
        }

        // Balance: fair share over the live owners (this worker included).
        var others = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var free = new List<string>();
        foreach (var p in _partitions)
        {
            if (_owned.Contains(p)) continue;
            if (current.TryGetValue(p, out var c) && IsLive(p, c.Epoch, c.Lease, now))
            {
                if (!others.TryGetValue(c.Lease.Owner, out var list)) others[c.Lease.Owner] = list = [];
                list.Add(p);
            }
            else
            {
                free.Add(p);
            }
        }
        var workers = others.Count + 1;
        int min = _partitions.Count / workers, extras = _partitions.Count % workers, max = min + (extras > 0 ? 1 : 0);
        var want = _owned.Count < min ? min - _owned.Count
            : _owned.Count == min && extras > 0 && others.Values.Count(l => l.Count > min) < extras ? 1
            : 0;
        foreach (var p in free.OrderBy(_ => Random.Shared.Next()).ToList())
        {
            if (want <= 0) break;
            var epoch = current.TryGetValue(p, out var c) ? c.Epoch : 0;
            if (await TryWriteAsync(p, epoch + 1, OwnerId, now, cancellationToken).ConfigureAwait(false))
            {
                _owned.Add(p);
                want--;
                EventHubsLog.PartitionClaimed(_log, p, c.Lease?.Owner is { Length: > 0 } previous ? $"expired lease of {previous}" : "free");
            }
        }
        if (want > 0)
        {
            // Nothing free: steal one partition from the richest worker, if it holds more than its share.
            var richest = others.OrderByDescending(o => o.Value.Count).FirstOrDefault();
            if (richest.Value is { } theirs && (theirs.Count > max || (_owned.Count < min && theirs.Count > min)))
            {
                var p = theirs[Random.Shared.Next(theirs.Count)];
                if (await TryWriteAsync(p, current[p].Epoch + 1, OwnerId, now, cancellationToken).ConfigureAwait(false))
                {
                    _owned.Add(p);
                    EventHubsLog.PartitionClaimed(_log, p, "stolen from " + richest.Key);
                }
            }
        }
        return Owned;
    }

    /// <summary>Gives up every partition this worker holds (a new epoch with no owner), so others claim them at once.</summary>
    public async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        if (_owned.Count == 0) return;
        var current = await ReadAsync(cancellationToken).ConfigureAwait(false);
        foreach (var p in _owned.ToList())
        {
            if (current.TryGetValue(p, out var c) && c.Lease.Owner == OwnerId)
                await TryWriteAsync(p, c.Epoch + 1, "", _time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        }
        _owned.Clear();
    }

    private bool IsLive(string partition, long epoch, Lease lease, DateTimeOffset now)
    {
        if (lease.Owner.Length == 0 || lease.Expires <= now) return false;
        return !_seen.TryGetValue(partition, out var seen) || seen.Epoch != epoch || _time.GetElapsedTime(seen.FirstSeen) < LeaseDuration;
    }

    /// <summary>The current (highest) epoch and lease of each partition that has one.</summary>
    private async Task<Dictionary<string, (long Epoch, Lease Lease)>> ReadAsync(CancellationToken cancellationToken)
    {
        var latest = new Dictionary<string, long>(StringComparer.Ordinal);
        await foreach (var file in _folder.ListAsync("", cancellationToken).ConfigureAwait(false))
        {
            var slash = file.Path.IndexOf('/', StringComparison.Ordinal);
            if (slash <= 0 || !file.Path.EndsWith(".json", StringComparison.Ordinal)) continue;
            var partition = file.Path[..slash];
            if (!long.TryParse(file.Path.AsSpan(slash + 1, file.Path.Length - slash - 6), NumberStyles.None, CultureInfo.InvariantCulture, out var epoch)) continue;
            if (!latest.TryGetValue(partition, out var e) || epoch > e) latest[partition] = epoch;
        }
        var result = new Dictionary<string, (long, Lease)>(StringComparer.Ordinal);
        foreach (var (partition, epoch) in latest)
        {
            if (_seen.TryGetValue(partition, out var seen) && seen.Epoch == epoch)
            {
                result[partition] = (epoch, seen.Lease);
                continue;
            }
            Lease? lease;
            try
            {
                var bytes = await _folder.ReadAsync(LeasePath(partition, epoch), cancellationToken).ConfigureAwait(false);
                lease = JsonSerializer.Deserialize<Lease>(bytes, Json);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.NotFound)
            {
                continue; // superseded and cleaned up between the listing and the read: the next round sees the newer one
            }
            catch (JsonException)
            {
                lease = null;
            }
            lease ??= new Lease("", DateTimeOffset.MinValue); // an unreadable lease holds nothing
            _seen[partition] = (epoch, lease, _time.GetTimestamp());
            result[partition] = (epoch, lease);
        }
        return result;
    }

    private async Task<bool> TryWriteAsync(string partition, long epoch, string owner, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var lease = new Lease(owner, owner.Length == 0 ? now : now + LeaseDuration, Environment.MachineName, Environment.ProcessId);
        try
        {
            await _folder.PutIfAbsentAsync(LeasePath(partition, epoch), JsonSerializer.SerializeToUtf8Bytes(lease, Json), cancellationToken).ConfigureAwait(false);
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.AlreadyExists)
        {
            return false;
        }
        _seen[partition] = (epoch, lease, _time.GetTimestamp());
        if (epoch > EpochsKept)
        {
            try
            {
                await _folder.DeleteAsync(LeasePath(partition, epoch - EpochsKept), cancellationToken).ConfigureAwait(false);
            }
            catch (LakehouseException e) when (e.Reason is LakehouseErrorReason.Storage or LakehouseErrorReason.NotFound)
            {
                // Cleanup only: a later round deletes what is left.
            }
        }
        return true;
    }

    private static string LeasePath(string partition, long epoch) => $"{partition}/{epoch.ToString("D20", CultureInfo.InvariantCulture)}.json";
}
