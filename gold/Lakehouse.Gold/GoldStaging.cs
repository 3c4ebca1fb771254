using System.Diagnostics;
using Lakehouse.Engine;

namespace Lakehouse.Gold;

/// <summary>
/// Where a gold query stages what more than one output reads, or what C# computes: tables on the run's connection, each name staged
/// once per group of dates and slice of keys (see <see cref="GoldInputs.Shared"/>).
/// </summary>
internal interface IGoldStaging
{
    /// <summary>The result of <paramref name="sql"/>, staged once under <paramref name="name"/>; returns a relation that reads it.</summary>
    string Table(string name, string sql);

    /// <summary>
    /// A table that <paramref name="write"/> creates under the name it is given (on the connection it is given, honouring the
    /// cancellation token it is given), staged once under <paramref name="name"/>; returns a relation that reads it.
    /// <paramref name="emptySql"/> is an empty relation of its columns, for a staging that computes nothing (a query read only for
    /// its columns).
    /// </summary>
    string Computed(string name, string emptySql, Action<DuckConnection, string, CancellationToken> write);
}

/// <summary>
/// A staging of one group of dates on the stage's connection: each name is staged once (the windowed table and its corrections table
/// read the same aggregate), under a prefix and a slice's suffix (<see cref="Named"/>), and every table is dropped with the group
/// (<see cref="DropAll"/>).
/// </summary>
internal sealed class GroupStaging : IGoldStaging
{
    private readonly GoldStage _stage;
    private readonly Action<string, long> _staged;
    private readonly Dictionary<string, string> _tables;
    private readonly Dictionary<string, (string Relation, long Rows)> _counted = new(StringComparer.Ordinal);
    private readonly string _prefix;
    private readonly string _suffix;
    private readonly CancellationToken _cancellationToken;

    /// <param name="stage">The stage whose connection holds the tables.</param>
    /// <param name="staged">Told each table's name and the milliseconds it took to stage (for the debug log).</param>
    /// <param name="cancellationToken">Cancels the staging.</param>
    internal GroupStaging(GoldStage stage, Action<string, long> staged, CancellationToken cancellationToken)
        : this(stage, staged, new Dictionary<string, string>(StringComparer.Ordinal), "", "", cancellationToken)
    {
    }

    private GroupStaging(GoldStage stage, Action<string, long> staged, Dictionary<string, string> tables, string prefix, string suffix, CancellationToken cancellationToken)
    {
        _stage = stage;
        _staged = staged;
        _tables = tables;
        _prefix = prefix;
        _suffix = suffix;
        _cancellationToken = cancellationToken;
    }

    /// <summary>The same staging with names taken as <paramref name="prefix"/> + name + <paramref name="suffix"/>.</summary>
    internal GroupStaging Named(string prefix, string suffix) => new(_stage, _staged, _tables, _prefix + prefix, _suffix + suffix, _cancellationToken);

    public string Table(string name, string sql) => Once(name, full => _stage.Materialize(full, sql, _cancellationToken));

    public string Computed(string name, string emptySql, Action<DuckConnection, string, CancellationToken> write) =>
        Once(name, full => _stage.Write(full, write, _cancellationToken));

    private string Once(string name, Func<string, string> stage)
    {
        var full = _prefix + name + _suffix;
        if (_tables.TryGetValue(full, out var table)) return table;
        var clock = Stopwatch.StartNew();
        _tables[full] = table = stage(full);
        _staged(full, clock.ElapsedMilliseconds);
        return table;
    }

    /// <summary>
    /// A relation and its number of rows, found by <paramref name="find"/> once per group under <paramref name="name"/> (the rows keyed
    /// outputs need, which may be a view read again rather than a table: counting it twice would read the files twice).
    /// </summary>
    internal (string Relation, long Rows) Counted(string name, Func<(string Relation, long Rows)> find)
    {
        if (!_counted.TryGetValue(name, out var found)) _counted[name] = found = find();
        return found;
    }

    /// <summary>Drops every table staged through this staging or one <see cref="Named"/> from it.</summary>
    internal void DropAll()
    {
        foreach (var table in _tables.Values) _stage.Drop(table);
        _tables.Clear();
        _counted.Clear();
    }
}

/// <summary>
/// A staging that stages nothing: a table is its query, as a subquery. A computed table is empty for <see cref="Columns"/>, for a
/// query read only for its columns (or with no row wanted), and refused for <see cref="Rows"/>, whose rows are read.
/// </summary>
internal sealed class Unstaged : IGoldStaging
{
    private readonly bool _columnsOnly;

    private Unstaged(bool columnsOnly) => _columnsOnly = columnsOnly;

    /// <summary>For a query whose rows are read, and that computes nothing in C#.</summary>
    internal static Unstaged Rows { get; } = new(false);

    /// <summary>For a query read only for its columns, or with no row wanted.</summary>
    internal static Unstaged Columns { get; } = new(true);

    public string Table(string name, string sql) => $"({sql})";

    public string Computed(string name, string emptySql, Action<DuckConnection, string, CancellationToken> write) =>
        _columnsOnly ? $"({emptySql})" : throw new InvalidOperationException($"'{name}' is computed in C# and needs a staging on a connection.");
}
