using System.Collections.Concurrent;
using Lakehouse.Engine.Native;

namespace Lakehouse.Engine;

/// <summary>
/// The process's one in-memory DuckDB database. Connections are leased one per concurrent user
/// (<see cref="Lease"/>) and go back to a pool, so each is used by one thread at a time.
/// Extension auto-install and auto-load are off: parquet, json and icu are built in, and nothing is downloaded.
/// </summary>
public sealed class DuckEngine : IDisposable
{
    private readonly ConcurrentBag<DuckConnection> _pool = [];
    private readonly string _tempDirectory;
    private IntPtr _database;

    private DuckEngine(IntPtr database, string tempDirectory)
    {
        _database = database;
        _tempDirectory = tempDirectory;
    }

    /// <summary>DuckDB's library version, e.g. "v1.5.6".</summary>
    public static string LibraryVersion => NativeMethods.Utf8(NativeMethods.LibraryVersion()) ?? "unknown";

    /// <summary>Opens an in-memory database with the project's settings.</summary>
    public static DuckEngine Open(DuckEngineOptions? options = null)
    {
        options ??= new DuckEngineOptions();
        var temp = options.TempDirectory ?? Path.Combine(Path.GetTempPath(), "lakehouse-duckdb", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Directory.CreateDirectory(temp);
        var settings = new List<(string, string)>
        {
            ("autoinstall_known_extensions", "false"),
            ("autoload_known_extensions", "false"),
            ("extension_directory", Path.Combine(temp, "extensions")),
            ("temp_directory", Path.Combine(temp, "spill")),
        };
        if (options.Threads > 0) settings.Add(("threads", options.Threads.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (options.MemoryLimit is { } limit) settings.Add(("memory_limit", limit));

        if (NativeMethods.CreateConfig(out var config) != 0) throw DuckError.Create("Creating the DuckDB configuration failed", null);
        try
        {
            foreach (var (name, value) in settings)
            {
                if (NativeMethods.SetConfig(config, name, value) != 0)
                    throw DuckError.Create($"Setting DuckDB option '{name}' failed", null);
            }
            if (NativeMethods.OpenExt(null, out var database, config, out var error) != 0)
            {
                var text = NativeMethods.Utf8(error);
                if (error != IntPtr.Zero) NativeMethods.Free(error);
                throw DuckError.Create("Opening DuckDB failed", text);
            }
            return new DuckEngine(database, temp);
        }
        finally
        {
            NativeMethods.DestroyConfig(ref config);
        }
    }

    /// <summary>Opens a new connection that the caller owns and disposes.</summary>
    public DuckConnection Connect()
    {
        ObjectDisposedException.ThrowIf(_database == IntPtr.Zero, this);
        if (NativeMethods.Connect(_database, out var connection) != 0) throw DuckError.Create("Connecting to DuckDB failed", null);
        var result = new DuckConnection(connection);
        // TimeZone belongs to the built-in icu extension, so it is set per connection, not in the config.
        result.Execute("SET TimeZone = 'UTC'");
        return result;
    }

    /// <summary>Leases a pooled connection for one unit of work; dispose the lease to give it back.</summary>
    public ConnectionLease Lease() => new(this, _pool.TryTake(out var c) ? c : Connect());

    internal void Return(DuckConnection connection) => _pool.Add(connection);

    /// <summary>A folder private to this engine for scratch files (staging, caches).</summary>
    public string ScratchDirectory(string name)
    {
        var path = Path.Combine(_tempDirectory, name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        while (_pool.TryTake(out var c)) c.Dispose();
        if (_database != IntPtr.Zero) NativeMethods.Close(ref _database);
    }

    /// <summary>An exclusive hold on one pooled connection.</summary>
    public readonly struct ConnectionLease : IDisposable, IEquatable<ConnectionLease>
    {
        private readonly DuckEngine _engine;

        internal ConnectionLease(DuckEngine engine, DuckConnection connection)
        {
            _engine = engine;
            Connection = connection;
        }

        /// <summary>The leased connection.</summary>
        public DuckConnection Connection { get; }

        /// <inheritdoc />
        public void Dispose() => _engine?.Return(Connection);

        /// <inheritdoc />
        public bool Equals(ConnectionLease other) => ReferenceEquals(Connection, other.Connection);

        /// <inheritdoc />
        public override bool Equals(object? obj) => obj is ConnectionLease other && Equals(other);

        /// <inheritdoc />
        public override int GetHashCode() => Connection?.GetHashCode() ?? 0;

        /// <summary>Compares two leases by connection.</summary>
        public static bool operator ==(ConnectionLease left, ConnectionLease right) => left.Equals(right);

        /// <summary>Compares two leases by connection.</summary>
        public static bool operator !=(ConnectionLease left, ConnectionLease right) => !left.Equals(right);
    }
}
