using Lakehouse.Delta;
using Lakehouse.Engine;
using Lakehouse.Storage;

namespace Lakehouse.Cli;

/// <summary>The lake a command works on (--lake, LAKEHOUSE_LAKE, or ./lake) and the process's DuckDB engine.</summary>
internal sealed class LakeContext : IDisposable
{
    private readonly Lazy<DuckEngine> _engine = new(() => DuckEngine.Open());

    internal LakeContext(string lakeLocation) => LakeLocation = lakeLocation;

    internal string LakeLocation { get; }

    internal DuckEngine Engine => _engine.Value;

    internal static LakeContext From(CommandLine line) => new(Location(line));

    /// <summary>The lake: --lake, else $LAKEHOUSE_LAKE, else ./lake.</summary>
    internal static string Location(CommandLine line)
    {
        var lake = line.Option("lake");
        if (string.IsNullOrEmpty(lake)) lake = Environment.GetEnvironmentVariable("LAKEHOUSE_LAKE");
        return string.IsNullOrEmpty(lake) ? "./lake" : lake;
    }

    /// <summary>
    /// A table by name in the lake (<c>silver.weblogs</c> or <c>gold/alerts</c> resolve to <c>&lt;lake&gt;/silver/weblogs</c> and
    /// <c>&lt;lake&gt;/gold/alerts</c>, unless a folder of that name exists here) or else by path: a folder, absolute or
    /// relative to the working directory, or an abfss:// URI.
    /// </summary>
    internal DeltaTable Table(string pathOrName) => DeltaTable.Open(TableStorage(pathOrName), Engine);

    internal ILakeStorage TableStorage(string pathOrName)
    {
        if (string.IsNullOrWhiteSpace(pathOrName)) throw CommandLine.Usage("the table is blank: give a folder, an abfss:// URI, or a lake name such as silver.weblogs");
        var parts = pathOrName.Split('.', '/');
        var isLakeName = parts.Length == 2 && parts[0] is "bronze" or "silver" or "gold" && parts[1].Length > 0
            && !pathOrName.Contains("://", StringComparison.Ordinal) && !Directory.Exists(pathOrName);
        return isLakeName
            ? LakeStorage.Open(LakeLocation).Scope(parts[0] + "/" + parts[1])
            : LakeStorage.Open(pathOrName);
    }

    public void Dispose()
    {
        if (_engine.IsValueCreated) _engine.Value.Dispose();
    }
}
