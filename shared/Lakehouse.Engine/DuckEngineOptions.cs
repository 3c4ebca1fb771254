namespace Lakehouse.Engine;

/// <summary>Settings for the process's DuckDB database.</summary>
public sealed class DuckEngineOptions
{
    private int _threads;

    /// <summary>Worker threads for DuckDB; 0 (the default) lets DuckDB use every core.</summary>
    public int Threads
    {
        get => _threads;
        set => _threads = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Threads must be 0 (all cores) or positive.");
    }

    /// <summary>DuckDB's memory limit, e.g. "8GB"; null (the default) keeps DuckDB's 80 % of RAM.</summary>
    public string? MemoryLimit { get; set; }

    /// <summary>Folder for spilled intermediates and DuckDB's private extension directory; default: a folder under the system temp path.</summary>
    public string? TempDirectory { get; set; }
}
