using System.Diagnostics;
using Lakehouse.Core;
using Lakehouse.Storage;

namespace Lakehouse.Datasets;

/// <summary>
/// A lake's datasets as a long-running process sees them (made by <see cref="DatasetCatalog.Lookup"/>): a definition file added
/// to, changed in or removed from <c>&lt;lake&gt;/_lakehouse/datasets/</c> is seen without a restart.
/// </summary>
/// <remarks>
/// <para>
/// When it reads the lake: a dataset it knows is answered from memory for <c>maxAge</c> (default 2 s) after the last look; after
/// that, and whenever a name is not known, it lists the definition folder (one listing at a time, shared by the callers that
/// wait for it; a caller only takes a listing started after it asked) and reads the definitions again only when the listing
/// differs (a file's name, size, modification time or ETag, or a file modified in the last 2 s). The hot path (a known name) costs a dictionary look-up.
/// </para>
/// <para>
/// A lake whose definitions are not all valid: a new lookup refuses every name with the problems (as
/// <see cref="DatasetCatalog.LoadAsync"/> does), so a broken definition is noticed at once. A lookup that had a valid catalog
/// keeps answering the names of that catalog while a definition is broken (a typo in one file does not stop the others),
/// and refuses the names it does not know with the problems until the files are fixed.
/// </para>
/// </remarks>
public sealed class DatasetLookup
{
    /// <summary>The default of how long a known dataset is answered without looking at the lake again.</summary>
    public static readonly TimeSpan DefaultMaxAge = TimeSpan.FromSeconds(2);

    private static readonly TimeSpan RecentlyModified = TimeSpan.FromSeconds(2);

    private readonly ILakeStorage _lake;
    private readonly long _maxAgeTicks;
    private readonly Lock _gate = new();
    private volatile State? _state;
    private Task<State>? _listing;
    private long _listingStartedAt;
    private long _listings;
    private long _reads;

    internal DatasetLookup(ILakeStorage lake, TimeSpan maxAge)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAge, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxAge, TimeSpan.FromHours(1));
        _lake = lake;
        _maxAgeTicks = (long)(maxAge.TotalSeconds * Stopwatch.Frequency);
    }

    /// <summary>Listings of the definition folder so far.</summary>
    internal long Listings => Interlocked.Read(ref _listings);

    /// <summary>Times the definitions were read because the listing had changed.</summary>
    internal long Reads => Interlocked.Read(ref _reads);

    /// <summary>
    /// The definition of <paramref name="name"/>. An unknown name is a <see cref="LakehouseException"/> (InvalidInput) that lists
    /// the known datasets and says how to add one; a lake whose definitions are not valid (see the remarks) one that names each
    /// broken file and field.
    /// </summary>
    public async ValueTask<DatasetDefinition> GetAsync(string name, CancellationToken cancellationToken = default)
    {
        var (definition, catalog) = await FindCoreAsync(name, cancellationToken).ConfigureAwait(false);
        return definition ?? throw new LakehouseException(LakehouseErrorReason.InvalidInput, catalog.UnknownMessage(name));
    }

    /// <summary>
    /// The definition of <paramref name="name"/>, or null when the lake's definitions are valid and none is named so. A lake whose
    /// definitions are not valid is a <see cref="LakehouseException"/> (InvalidInput) for the names this lookup does not know.
    /// </summary>
    public async ValueTask<DatasetDefinition?> FindAsync(string name, CancellationToken cancellationToken = default) =>
        (await FindCoreAsync(name, cancellationToken).ConfigureAwait(false)).Definition;

    /// <summary>
    /// Every dataset now (the lake looked at again when the last look is older than the maximum age). A lake whose definitions are
    /// not valid: the catalog this lookup had before, or, when it had none, a <see cref="LakehouseException"/> (InvalidInput).
    /// </summary>
    public async ValueTask<DatasetCatalog> CatalogAsync(CancellationToken cancellationToken = default)
    {
        var state = _state;
        if (state is not { Catalog: not null } || !IsFresh(state)) state = await ListAsync(Stopwatch.GetTimestamp(), cancellationToken).ConfigureAwait(false);
        return state.Catalog ?? throw new LakehouseException(LakehouseErrorReason.InvalidInput, state.Problem!);
    }

    private async ValueTask<(DatasetDefinition? Definition, DatasetCatalog Catalog)> FindCoreAsync(string name, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(name);
        var state = _state;
        if (state is { Catalog: { } known } && IsFresh(state) && known.TryGet(name, out var hot)) return (hot, known);
        state = await ListAsync(Stopwatch.GetTimestamp(), cancellationToken).ConfigureAwait(false);
        if (state.Catalog is { } catalog && catalog.TryGet(name, out var definition)) return (definition, catalog);
        if (state.Problem is { } problem) throw new LakehouseException(LakehouseErrorReason.InvalidInput, problem);
        return (null, state.Catalog!);
    }

    private bool IsFresh(State state) => Stopwatch.GetTimestamp() - state.ListedAt < _maxAgeTicks;

    /// <summary>The state after a listing that started at or after <paramref name="notBefore"/> (joining one that is running).</summary>
    private async Task<State> ListAsync(long notBefore, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task<State> listing;
            long startedAt;
            lock (_gate)
            {
                if (_state is { } current && current.ListedAt >= notBefore) return current;
                if (_listing is null)
                {
                    _listingStartedAt = Stopwatch.GetTimestamp();
                    // Shared by every caller that waits for it: not cancelled by one of them (each stops waiting on its own token).
                    _listing = ListAndReadAsync(_listingStartedAt);
                }
                listing = _listing;
                startedAt = _listingStartedAt;
            }
            var state = await listing.WaitAsync(cancellationToken).ConfigureAwait(false);
            if (startedAt >= notBefore) return state;
        }
    }

    private async Task<State> ListAndReadAsync(long startedAt)
    {
        await Task.Yield();
        try
        {
            Interlocked.Increment(ref _listings);
            var previous = _state;
            var files = await DatasetCatalog.ListDefinitionFilesAsync(_lake, CancellationToken.None).ConfigureAwait(false);
            State next;
            // A file modified within the last seconds is read again even when it looks the same: file times are coarse (a
            // rewrite of the same size within one clock tick of the last look would otherwise go unseen).
            var settled = DateTimeOffset.UtcNow - RecentlyModified;
            if (previous is not null && SameFiles(previous.Files, files) && files.All(f => f.LastModified < settled))
            {
                next = previous with { ListedAt = startedAt };
            }
            else
            {
                Interlocked.Increment(ref _reads);
                var read = await DatasetCatalog.ReadLakeAsync(_lake, CancellationToken.None).ConfigureAwait(false);
                // The files as read (a file may have changed between the two listings; the next look sees that again).
                next = read.Problem is null
                    ? new State(read.Files, read.Catalog, null, startedAt)
                    : new State(read.Files, previous?.Catalog, read.Problem, startedAt);
            }
            _state = next;
            return next;
        }
        finally
        {
            lock (_gate) _listing = null;
        }
    }

    private static bool SameFiles(IReadOnlyList<LakeFile> a, IReadOnlyList<LakeFile> b)
    {
        if (a.Count != b.Count) return false;
        for (var i = 0; i < a.Count; i++)
        {
            if (a[i].Path != b[i].Path || a[i].Size != b[i].Size || a[i].LastModified != b[i].LastModified || a[i].ETag != b[i].ETag) return false;
        }
        return true;
    }

    /// <summary>What the last look at the lake found.</summary>
    /// <param name="Files">The definition files it listed.</param>
    /// <param name="Catalog">The valid catalog: of this listing, or the last valid one when this listing's definitions have problems.</param>
    /// <param name="Problem">Why this listing's definitions are not all valid, or null.</param>
    /// <param name="ListedAt">When the listing started (a <see cref="Stopwatch"/> timestamp).</param>
    private sealed record State(IReadOnlyList<LakeFile> Files, DatasetCatalog? Catalog, string? Problem, long ListedAt);
}
