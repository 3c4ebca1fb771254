using Lakehouse.Datasets;

namespace Lakehouse.Silver;

/// <summary>Which quarantined rows <see cref="SilverJob.ReplayAsync"/> replays, and how. Validated when set.</summary>
public sealed class SilverReplayOptions
{
    private string? _rule;

    /// <summary>Only rows that broke this rule (one of the names in their <c>rule</c> column); null: every rule.</summary>
    public string? Rule
    {
        get => _rule;
        set => _rule = value is not null && (value.Length is 0 or > 128 || value.Any(c => !(char.IsAsciiLetterOrDigit(c) || c == '_')))
            ? throw new ArgumentException($"'{value}' is not a rule name (letters, digits and '_').", nameof(Rule))
            : value;
    }

    /// <summary>Only rows of the quarantine's event dates from <see cref="From"/> to <see cref="To"/> (UTC, inclusive). Both or neither.</summary>
    public DateOnly? From { get; set; }

    /// <inheritdoc cref="From"/>
    public DateOnly? To { get; set; }

    /// <summary>Say what a replay would do and commit nothing.</summary>
    public bool DryRun { get; set; }

    /// <summary>Opt-in expectations (defined with <c>"enabled": false</c>) the replay checks too, by name.</summary>
    public IReadOnlyCollection<string> EnableRules { get; set; } = [];

    /// <summary>The replay's run id (default: a new one from the UTC time and a random suffix).</summary>
    public string? RunId { get; set; }

    /// <summary>
    /// For tests: called before each of the replay's commits with the table it commits to next (<c>silver</c>, then <c>quarantine</c>);
    /// another replay may commit then.
    /// </summary>
    internal Func<string, Task>? BeforeCommit { get; set; }

    internal void Validate()
    {
        if ((From is null) != (To is null)) throw new ArgumentException("A replay of a date range needs both From and To.");
        if (From > To) throw new ArgumentException($"From ({From:yyyy-MM-dd}) is after To ({To:yyyy-MM-dd}).");
    }

    internal static bool IsKnownRule(DatasetDefinition definition, string rule) => RuleNames(definition).Contains(rule);

    /// <summary>
    /// Every rule a row of <paramref name="definition"/> can be quarantined by: silver's own, the expectations, and the not_null rules
    /// silver adds for non-nullable columns (<see cref="DatasetDefinition.NotNullableRules"/>).
    /// </summary>
    internal static IEnumerable<string> RuleNames(DatasetDefinition definition) =>
        SilverRules.For(definition).Concat(definition.Expectations.Select(e => e.Name))
            .Concat(definition.NotNullableRules(definition.Expectations.Where(e => e.Enabled)).Select(e => e.Name));
}

/// <summary>What a replay of one dataset's quarantine did (or, for a dry run, would do). Counts are quarantine rows.</summary>
public sealed record SilverReplayResult
{
    /// <summary>The dataset.</summary>
    public required string Dataset { get; init; }

    /// <summary>The replay's run id (in the quarantine rows it changed and in <c>silver._quality</c>).</summary>
    public required string RunId { get; init; }

    /// <summary>True when nothing was committed on purpose.</summary>
    public bool DryRun { get; init; }

    /// <summary>Quarantined rows the replay looked at (still quarantined, and matching the rule and dates asked for).</summary>
    public long Rows { get; init; }

    /// <summary>Rows that pass today and are now in silver.</summary>
    public long MovedToSilver { get; init; }

    /// <summary>Rows that pass today but whose event silver already held (no second row).</summary>
    public long Duplicates { get; init; }

    /// <summary>Rows that still fail.</summary>
    public long StillQuarantined { get; init; }

    /// <summary>Of <see cref="StillQuarantined"/>, rows whose rule or message changed (or that no replay had looked at before).</summary>
    public long ReasonUpdated { get; init; }

    /// <summary>The silver version committed by this replay; null when it added no row.</summary>
    public long? SilverVersion { get; init; }

    /// <summary>The quarantine version committed by this replay; null when no row changed.</summary>
    public long? QuarantineVersion { get; init; }

    /// <summary>Per rule, how many of the replayed rows it was checked on and how many broke it today.</summary>
    public IReadOnlyList<RuleCount> Rules { get; init; } = [];

    /// <summary>How long the replay took.</summary>
    public TimeSpan Elapsed { get; init; }
}
