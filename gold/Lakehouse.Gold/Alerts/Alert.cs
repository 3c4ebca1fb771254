namespace Lakehouse.Gold.Alerts;

/// <summary>One row of <c>gold/alerts</c>: a rule that fired for a key (sensor id or page URL) in a window.</summary>
/// <param name="AlertId">
/// The alert's stable id: lower-case hex SHA-256 of <c>rule|key|window_start</c>, the start written
/// <c>yyyy-MM-ddTHH:mm:ss.ffffffZ</c>. The same condition always gets the same id, so reruns and receivers can dedupe on it.
/// </param>
/// <param name="Rule">The rule's name, e.g. <c>temperature_high</c> (see <see cref="AlertRules"/>).</param>
/// <param name="Key">The sensor id or the page URL.</param>
/// <param name="WindowStart">Where the condition starts (UTC).</param>
/// <param name="WindowEnd">Where it ends (UTC).</param>
/// <param name="Value">The measured value (see each rule).</param>
/// <param name="Threshold">The limit it crossed.</param>
/// <param name="Message">A sentence for an operator.</param>
/// <param name="EventDate">The UTC date of <paramref name="WindowStart"/>.</param>
/// <param name="DetectedAt">When gold first found it.</param>
public sealed record Alert(
    string AlertId,
    string Rule,
    string Key,
    DateTimeOffset WindowStart,
    DateTimeOffset WindowEnd,
    double Value,
    double Threshold,
    string Message,
    DateOnly EventDate,
    DateTimeOffset DetectedAt);
