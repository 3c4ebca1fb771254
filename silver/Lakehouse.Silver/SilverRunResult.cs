namespace Lakehouse.Silver;

/// <summary>How often one rule was checked and broken in a run.</summary>
/// <param name="Rule">The rule: an expectation's name or one of <see cref="SilverRules"/>.</param>
/// <param name="Action">warn, drop or fail.</param>
/// <param name="Checked">Rows it was checked on.</param>
/// <param name="Failed">Rows that broke it.</param>
public sealed record RuleCount(string Rule, string Action, long Checked, long Failed)
{
    /// <summary>Rows that kept it.</summary>
    public long Passed => Checked - Failed;
}

/// <summary>What a silver run of one dataset did.</summary>
public sealed record SilverRunResult
{
    /// <summary>The dataset.</summary>
    public required string Dataset { get; init; }

    /// <summary>The run's id (in quarantine rows and quality metrics).</summary>
    public required string RunId { get; init; }

    /// <summary><c>incremental</c> or <c>rerun</c>.</summary>
    public required string Mode { get; init; }

    /// <summary>The last bronze version consumed before the run (-1: none).</summary>
    public long BronzeFromVersion { get; init; }

    /// <summary>The last bronze version consumed after the run.</summary>
    public long BronzeToVersion { get; init; }

    /// <summary>The event dates a rerun rebuilt; null for incremental runs.</summary>
    public DateOnly? From { get; init; }

    /// <inheritdoc cref="From"/>
    public DateOnly? To { get; init; }

    /// <summary>Bronze rows read (for a rerun: those whose event date is in the range).</summary>
    public long RowsIn { get; init; }

    /// <summary>Rows added to silver.</summary>
    public long RowsOut { get; init; }

    /// <summary>Rows moved to quarantine.</summary>
    public long Quarantined { get; init; }

    /// <summary>Clean rows not added because silver already holds their id (or an earlier copy in the same run).</summary>
    public long Duplicates { get; init; }

    /// <summary>Rows kept that broke a warn rule.</summary>
    public long Warned { get; init; }

    /// <summary>Silver commits made.</summary>
    public int Commits { get; init; }

    /// <summary>Per rule: checked and broken.</summary>
    public IReadOnlyList<RuleCount> Rules { get; init; } = [];

    /// <summary>How long the run took.</summary>
    public TimeSpan Elapsed { get; init; }

    /// <summary>
    /// What the counts alone do not say, also in <c>silver._quality</c>'s <c>message</c>: for an incremental run that read bronze
    /// versions again because its quarantine table was behind silver, which versions and how they are counted; null otherwise.
    /// </summary>
    public string? Message { get; init; }

    /// <summary>True when bronze had nothing the silver table had not consumed.</summary>
    public bool NothingNew => Mode == "incremental" && BronzeFromVersion == BronzeToVersion;
}
