using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Engine;

/// <summary>Settings for the process's DuckDB database. Every property is validated when it is set.</summary>
public sealed partial class DuckEngineOptions
{
    private int _threads;
    private string? _memoryLimit;
    private string? _tempDirectory;
    private IReadOnlyList<string>? _allowedDirectories;

    /// <summary>Worker threads for DuckDB; 0 (the default) lets DuckDB use every core.</summary>
    public int Threads
    {
        get => _threads;
        set => _threads = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "Threads must be 0 (all cores) or positive.");
    }

    /// <summary>
    /// DuckDB's memory limit: a number and its unit as DuckDB reads them ("8GB", "512MiB", "1.5 GB"; B, KB, MB, GB, TB or K, M, G,
    /// T for powers of 1000, KiB, MiB, GiB, TiB for powers of 1024, or the words), or "none"; null (the default) keeps DuckDB's
    /// 80 % of RAM. Anything else is refused here: DuckDB's own refusal came only when the engine opened, as "Error setting
    /// 'memory_limit' to '1000000000'" (a number without its unit).
    /// </summary>
    public string? MemoryLimit
    {
        get => _memoryLimit;
        set => _memoryLimit = value is null || (value.Length < 32 && MemorySize().IsMatch(value))
            ? value
            : throw new ArgumentException("The memory limit is a size with its unit, such as '8GB', '512MiB' or '1.5 GB'.", nameof(value));
    }

    [GeneratedRegex(@"^ *(none|[0-9]+(\.[0-9]+)? *(b|bytes?|k|kb|kilobytes?|m|mb|megabytes?|g|gb|gigabytes?|t|tb|terabytes?|kib|mib|gib|tib)) *\z",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex MemorySize();

    /// <summary>
    /// Folder for spilled intermediates, scratch files and DuckDB's private extension directory; null (the default) for a
    /// folder of this process under the system temp path, removed when the engine is disposed.
    /// </summary>
    public string? TempDirectory
    {
        get => _tempDirectory;
        set => _tempDirectory = value is null || value.Trim().Length > 0 ? value : throw new ArgumentException("The temp directory may not be blank.", nameof(value));
    }

    /// <summary>
    /// When set, the database is sandboxed: SQL may read and write files only in these folders (and the engine's own temp
    /// folder), cannot install or load extensions or attach other databases outside them, and cannot change any setting
    /// (<c>enable_external_access = false</c>, <c>allowed_directories</c>, <c>lock_configuration = true</c>).
    /// Null (the default) leaves file access open, for the process's own trusted SQL. Folders must be absolute.
    /// </summary>
    public IReadOnlyList<string>? AllowedDirectories
    {
        get => _allowedDirectories;
        set
        {
            if (value is not null && value.Any(d => string.IsNullOrWhiteSpace(d) || !Path.IsPathFullyQualified(d)))
                throw new ArgumentException("Allowed directories must be absolute paths.", nameof(value));
            _allowedDirectories = value;
        }
    }

    /// <summary>
    /// Whether <see cref="DuckEngine.Dispose"/> closes the database (the default). False is for a process that ends right after:
    /// Dispose then closes the connections and removes the temp folder, and leaves the in-memory database to the process's exit,
    /// which frees its memory at once. Closing it frees DuckDB's buffers one by one, about 18 ms after a 1M-row read.
    /// </summary>
    public bool CloseDatabaseOnDispose { get; set; } = true;

    /// <summary>Where the engine logs (engine opened, queries interrupted); null for none.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }
}
