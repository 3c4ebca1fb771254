using Lakehouse.Core.Webhooks;

namespace Lakehouse.Silver;

/// <summary>What a silver run does. Validated when set.</summary>
public sealed class SilverRunOptions
{
    private int _maxRowsPerCommit = 250_000;

    /// <summary>
    /// Rebuild the event dates from <see cref="From"/> to <see cref="To"/> (inclusive) from bronze, replacing exactly those partitions
    /// of silver and quarantine, instead of the incremental run. Both or neither.
    /// </summary>
    public DateOnly? From { get; set; }

    /// <inheritdoc cref="From"/>
    public DateOnly? To { get; set; }

    /// <summary>For tests: called once per chunk after its rows are checked and before its first commit (another run may commit then).</summary>
    internal Func<Task>? BeforeCommits { get; set; }

    /// <summary>For tests: called once per chunk of an incremental run after silver's snapshot is read and before its append (a restore then conflicts).</summary>
    internal Func<Task>? BeforeSilverAppend { get; set; }

    /// <summary>Opt-in expectations (defined with <c>"enabled": false</c>) this run checks, by name.</summary>
    public IReadOnlyCollection<string> EnableRules { get; set; } = [];

    /// <summary>
    /// An incremental run commits after about this many bronze rows (whole bronze commits; at least one), so a large backlog is
    /// processed in bounded memory and a crash loses at most one chunk of work. 1,000 to 100,000,000; default 250,000: a chunk's
    /// memory grows with it (a 200,000-row chunk of ~500-byte web-log events peaked at 0.8 GB of RSS, a 2,000,000-row one at 5 GB).
    /// </summary>
    public int MaxRowsPerCommit
    {
        get => _maxRowsPerCommit;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 1000);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, 100_000_000);
            _maxRowsPerCommit = value;
        }
    }

    /// <summary>The run's id in quarantine rows and quality metrics (default: a new one from the UTC time and a random suffix).</summary>
    public string? RunId { get; set; }

    /// <summary>
    /// Where a quality gate's refusal is posted (the same webhook and variables as gold's alerts:
    /// <see cref="WebhookOptions.FromEnvironment()"/>); null: refusals are only logged and recorded in <c>silver._quality</c>.
    /// </summary>
    public WebhookOptions? Webhook { get; set; }

    internal bool IsRerun => From is not null;

    internal void Validate()
    {
        if ((From is null) != (To is null)) throw new ArgumentException("A rerun needs both From and To.");
        if (From > To) throw new ArgumentException($"From ({From:yyyy-MM-dd}) is after To ({To:yyyy-MM-dd}).");
    }
}
