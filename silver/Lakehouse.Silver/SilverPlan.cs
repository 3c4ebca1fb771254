using Lakehouse.Datasets;
using Lakehouse.Engine;

namespace Lakehouse.Silver;

/// <summary>What silver makes of one dataset's definition: its columns and the SQL of its checks.</summary>
internal sealed class SilverPlan
{
    internal const string ViolationType = "STRUCT(rule VARCHAR, action VARCHAR, message VARCHAR)[]";

    internal SilverPlan(DatasetDefinition definition, IReadOnlyCollection<string> enableRules)
    {
        Definition = definition;
        var enabled = definition.Expectations.Where(e => e.Enabled || enableRules.Contains(e.Name)).ToList();
        Expectations = [.. enabled, .. definition.NotNullableRules(enabled)];
        var missingId = ExpectationSql.MissingId(definition, Expectations).ToList();
        ChecksMissingId = missingId.Count > 0;
        var checks = Expectations.Select(e => ExpectationSql.Violation(definition, e)).Concat(missingId).ToList();
        ExpectationViolations = checks.Count == 0
            ? $"CAST([] AS {ViolationType})"
            : $"CASE WHEN {string.Join(" OR ", checks.Select(c => $"({c}) IS NOT NULL"))} THEN list_filter([{string.Join(", ", checks)}], __x -> __x IS NOT NULL) ELSE CAST([] AS {ViolationType}) END";
        Columns =
        [
            .. definition.Columns.Select(c => new SilverColumn(c.Name, SilverColumns.DuckType(c.Type))),
            .. Preprocessor.AddedColumns(definition),
            new SilverColumn(SilverColumns.EventDate, "DATE"),
            new SilverColumn(SilverColumns.EventHour, "INTEGER"),
            new SilverColumn(SilverColumns.IngestTime, "TIMESTAMPTZ"),
            new SilverColumn(SilverColumns.BronzePosition, "VARCHAR"),
        ];
    }

    internal DatasetDefinition Definition { get; }

    /// <summary>
    /// The expectations this run checks (enabled ones and the opt-ins it asked for), then the not_null rules silver adds for non-nullable
    /// columns they leave unchecked (<see cref="DatasetDefinition.NotNullableRules"/>).
    /// </summary>
    internal IReadOnlyList<DatasetExpectation> Expectations { get; }

    /// <summary>True when an id column has no drop/fail not_null expectation, so silver checks <see cref="SilverRules.MissingId"/> itself.</summary>
    internal bool ChecksMissingId { get; }

    /// <summary>A list expression of the row's broken expectations ({rule, action, message}); empty when it keeps them all.</summary>
    internal string ExpectationViolations { get; }

    /// <summary>The silver table's columns, in order.</summary>
    internal IReadOnlyList<SilverColumn> Columns { get; }

    /// <summary>The event time column, quoted.</summary>
    internal string EventTime => SqlText.Identifier(Definition.EventTime);
}
