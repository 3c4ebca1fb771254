namespace Lakehouse.Gold;

/// <summary>What a gold run does. Validated when the run starts.</summary>
public sealed class GoldRunOptions
{
    /// <summary>
    /// Rebuild the event dates from <see cref="From"/> to <see cref="To"/> (inclusive) of every gold table of the dataset from the
    /// silver version gold has consumed (after catching up incrementally), instead of only the dates new silver data touched. Both or neither.
    /// </summary>
    public DateOnly? From { get; set; }

    /// <inheritdoc cref="From"/>
    public DateOnly? To { get; set; }

    /// <summary>How far the watermark trails the newest event time (default 10 s; 0 to 1 day). A window is final once the watermark passes its end.</summary>
    public TimeSpan WatermarkDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The run's id in <c>gold/_runs</c> (default: a new one from the UTC time and a random suffix).</summary>
    public string? RunId { get; set; }

    internal bool IsRerun => From is not null;

    internal void Validate()
    {
        if ((From is null) != (To is null)) throw new ArgumentException("A rerun needs both From and To.");
        if (From > To) throw new ArgumentException($"From ({From:yyyy-MM-dd}) is after To ({To:yyyy-MM-dd}).");
        if (WatermarkDelay < TimeSpan.Zero || WatermarkDelay > TimeSpan.FromDays(1))
            throw new ArgumentException($"The watermark delay must be between 0 and 1 day, not {WatermarkDelay}.");
    }
}
