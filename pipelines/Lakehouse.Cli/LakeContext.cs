using Lakehouse.Core;
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

    internal static LakeContext From(CommandLine line)
    {
        var lake = line.Option("lake");
        if (string.IsNullOrEmpty(lake)) lake = Environment.GetEnvironmentVariable("LAKEHOUSE_LAKE");
        return new LakeContext(string.IsNullOrEmpty(lake) ? "./lake" : lake);
    }

    /// <summary>
    /// A table by path (a folder or abfss:// URI) or by name in the lake: <c>silver.weblogs</c> or <c>gold/alerts</c>
    /// resolve to <c>&lt;lake&gt;/silver/weblogs</c> and <c>&lt;lake&gt;/gold/alerts</c>.
    /// </summary>
    internal DeltaTable Table(string pathOrName) => DeltaTable.Open(TableStorage(pathOrName), Engine);

    internal ILakeStorage TableStorage(string pathOrName)
    {
        if (pathOrName.Contains("://", StringComparison.Ordinal) || Directory.Exists(pathOrName) || pathOrName.StartsWith('/') || pathOrName.StartsWith('.'))
            return LakeStorage.Open(pathOrName);
        var parts = pathOrName.Split('.', '/');
        if (parts.Length == 2 && parts[0] is "bronze" or "silver" or "gold")
            return LakeStorage.Open(LakeLocation).Scope(parts[0] + "/" + parts[1]);
        if (pathOrName.Contains('/', StringComparison.Ordinal)) return LakeStorage.Open(pathOrName);
        throw new LakehouseException(LakehouseErrorReason.NotFound,
            $"No table '{pathOrName}': give a folder, an abfss:// URI, or a lake name such as silver.weblogs (lake: {LakeLocation}).");
    }

    public void Dispose()
    {
        if (_engine.IsValueCreated) _engine.Value.Dispose();
    }
}
