using System.Collections.Concurrent;
using System.Globalization;
using DuckDB.NET.Data;
using Lakehouse.Core;
using Lakehouse.Engine.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Engine;

/// <summary>
/// The process's one in-memory DuckDB database (through DuckDB.NET). Connections are leased one per concurrent user
/// (<see cref="Lease"/>) and go back to a pool, so each is used by one thread at a time. Extension auto-install and
/// auto-load are off: parquet, json and icu are built in, and nothing is downloaded. Every connection works in UTC.
/// </summary>
public sealed class DuckEngine : IDisposable
{
    private const string TempRootName = "lakehouse-duckdb";

    /// <summary>Databases left open at dispose (<see cref="DuckEngineOptions.CloseDatabaseOnDispose"/>), kept reachable so that no finalizer closes one while the process exits.</summary>
    private static readonly ConcurrentBag<DuckDBConnection> LeftOpen = [];

    private readonly ConcurrentBag<DuckConnection> _pool = [];
    private readonly Task<DuckDBConnection> _root;
    private readonly string _tempDirectory;
    private readonly bool _ownsTempDirectory;
    private readonly ILogger _logger;
    private int _disposed;

    private DuckEngine(Task<DuckDBConnection> root, string tempDirectory, bool ownsTempDirectory, ILogger logger)
    {
        _root = root;
        _tempDirectory = tempDirectory;
        _ownsTempDirectory = ownsTempDirectory;
        _logger = logger;
    }

    private static readonly Lazy<string> Version = new(() =>
    {
        using var connection = new DuckDBConnection(DuckDBConnectionStringBuilder.InMemoryConnectionString);
        connection.Open();
        return connection.ServerVersion;
    });

    /// <summary>DuckDB's library version, e.g. "v1.5.6".</summary>
    public static string LibraryVersion => Version.Value;

    /// <summary>
    /// Starts loading DuckDB's native library (70 MB) on a thread of its own and returns at once, for a process that will open a
    /// database soon: the load (about 8 ms) then overlaps the work before the open instead of delaying it. A failed load is left
    /// for the open to report.
    /// </summary>
    public static void PreloadLibrary() => new Thread(() =>
    {
        try
        {
            DuckDB.NET.Native.NativeMethods.Startup.DuckDBLibraryVersion();
        }
        catch (Exception)
        {
            // Whatever it is, the open meets it again and reports it with its own message; escaping this thread would end the process.
        }
    })
    { IsBackground = true, Name = "DuckDB library load" }.Start();

    /// <summary>True when the database was opened with <see cref="DuckEngineOptions.AllowedDirectories"/>.</summary>
    public bool IsSandboxed { get; private init; }

    private bool ClosesDatabaseOnDispose { get; init; } = true;

    /// <summary>Opens an in-memory database with the project's settings.</summary>
    /// <exception cref="LakehouseException">DuckDB could not be opened or configured (reason Engine).</exception>
    public static DuckEngine Open(DuckEngineOptions? options = null)
    {
        var engine = OpenInBackground(options);
        try
        {
            _ = engine.Root;
        }
        catch
        {
            engine.Dispose();
            throw;
        }
        return engine;
    }

    /// <summary>
    /// Starts opening the database on a thread of its own and returns at once: work that needs no connection (reading a
    /// table's log, say) goes on meanwhile, and the first connection waits for the open. Loading DuckDB's library and opening
    /// the database take about 25 ms, a fifth of a short command's life. If the open fails, the first connection throws
    /// what <see cref="Open"/> would.
    /// </summary>
    public static DuckEngine OpenInBackground(DuckEngineOptions? options = null)
    {
        options ??= new DuckEngineOptions();
        var owns = options.TempDirectory is null;
        var temp = options.TempDirectory is { } given ? Path.GetFullPath(given) : NewProcessTempDirectory();
        Directory.CreateDirectory(temp);
        var logger = (ILogger?)options.LoggerFactory?.CreateLogger<DuckEngine>() ?? NullLogger.Instance;
        // A thread of its own: the open blocks for its whole length, and the thread pool's few threads are what the work going on
        // meanwhile runs on.
        // The settings as they are now: the caller may change its options object while the open runs.
        var settings = new DuckEngineOptions { Threads = options.Threads, MemoryLimit = options.MemoryLimit, AllowedDirectories = options.AllowedDirectories?.ToList() };
        var root = Task.Factory.StartNew(() => OpenRoot(settings, temp, logger), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        return new DuckEngine(root, temp, owns, logger) { IsSandboxed = options.AllowedDirectories is not null, ClosesDatabaseOnDispose = options.CloseDatabaseOnDispose };
    }

    private static DuckDBConnection OpenRoot(DuckEngineOptions options, string temp, ILogger logger)
    {
        var builder = new DuckDBConnectionStringBuilder
        {
            DataSource = DuckDBConnectionStringBuilder.InMemoryDataSource,
            AutoinstallKnownExtensions = false,
            AutoloadKnownExtensions = false,
            ExtensionDirectory = Path.Combine(temp, "extensions"),
            TempDirectory = Path.Combine(temp, "spill"),
        };
        if (options.Threads > 0) builder.Threads = options.Threads;
        if (options.MemoryLimit is { } limit) builder.MemoryLimit = limit;

        var root = new DuckDBConnection(builder.ConnectionString);
        try
        {
            root.Open();
            using (var command = root.CreateCommand())
            {
                // TimeZone belongs to the built-in icu extension: set globally, every connection duplicated from the root inherits it.
                command.CommandText = "SET GLOBAL TimeZone = 'UTC'";
                command.ExecuteNonQuery();
                // Delta data files never change once written: a scan's type check, DESCRIBE and read share one footer read.
                command.CommandText = "SET GLOBAL parquet_metadata_cache = true";
                command.ExecuteNonQuery();
                if (options.AllowedDirectories is { } allowed)
                {
                    var folders = allowed.Append(temp).Select(d => Path.TrimEndingDirectorySeparator(Path.GetFullPath(d)) + "/").Distinct(StringComparer.Ordinal);
                    command.CommandText = $"SET allowed_directories = {SqlText.LiteralList(folders)}";
                    command.ExecuteNonQuery();
                    command.CommandText = "SET enable_external_access = false";
                    command.ExecuteNonQuery();
                    command.CommandText = "SET lock_configuration = true";
                    command.ExecuteNonQuery();
                }
            }
        }
        catch (DuckDBException e)
        {
            root.Dispose();
            throw DuckError.Create("Opening DuckDB failed", e);
        }
        Log.EngineOpened(logger, root.ServerVersion, options.Threads, options.MemoryLimit ?? "default", options.AllowedDirectories is not null);
        return root;
    }

    /// <summary>The open root connection, once the open has finished; what the open threw, if it failed.</summary>
    private DuckDBConnection Root => _root.GetAwaiter().GetResult();

    /// <summary>Opens a new connection that the caller owns and disposes.</summary>
    public DuckConnection Connect()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        DuckDBConnection connection;
        lock (_functions) connection = Root.Duplicate();
        try
        {
            connection.Open();
        }
        catch (DuckDBException e)
        {
            connection.Dispose();
            throw DuckError.Create("Connecting to DuckDB failed", e);
        }
        return new DuckConnection(this, connection, _logger);
    }

    /// <summary>The scalar functions of C# registered so far (<see cref="RegisterStructFunction"/>); also the lock around the root connection.</summary>
    private readonly HashSet<string> _functions = new(StringComparer.Ordinal);

    /// <summary>
    /// Makes the SQL function <paramref name="name"/>(BLOB) → STRUCT(<paramref name="fields"/>), computed row by row by
    /// <paramref name="body"/>, callable on every connection of this engine. The body reads the BLOB where DuckDB holds it and writes
    /// the fields straight into DuckDB's vectors (through DuckDB's C API: no stream, array or .NET string per row); a field it does not
    /// set is NULL, and a body that returns false gives a NULL struct. A NULL argument gives NULL without a call. A name already
    /// registered keeps its first body. DuckDB calls it on its own threads, a chunk of rows at a time, so <paramref name="body"/> must
    /// be thread-safe; an exception it throws fails the query with its message (<see cref="LakehouseException"/> for the caller).
    /// </summary>
    /// <exception cref="LakehouseException">DuckDB refused the function (reason Engine).</exception>
    public void RegisterStructFunction(string name, IReadOnlyList<DuckField> fields, DuckStructRowFunction body)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(fields);
        ArgumentNullException.ThrowIfNull(body);
        if (fields.Count == 0) throw new ArgumentException("A struct needs at least one field.", nameof(fields));
        if (fields.Any(f => string.IsNullOrEmpty(f.Name) || !Enum.IsDefined(f.Type)))
            throw new ArgumentException("Every field needs a name and a known type.", nameof(fields));
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        lock (_functions)
        {
            if (_functions.Contains(name)) return;
            if (!StructFunction.Register(Root.NativeConnection, name, fields, body))
                throw new LakehouseException(LakehouseErrorReason.Engine, $"Registering the function '{name}' failed: DuckDB refused it (a field name given twice, say).");
            _functions.Add(name);
        }
    }

    /// <summary>Leases a pooled connection for one unit of work; dispose the lease (once or more) to give it back.</summary>
    public ConnectionLease Lease()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        return new ConnectionLease(this, _pool.TryTake(out var c) ? c : Connect());
    }

    internal void Return(DuckConnection connection)
    {
        if (Volatile.Read(ref _disposed) != 0 || connection.IsBroken)
        {
            connection.Dispose();
            return;
        }
        connection.CloseOpenResult();
        _pool.Add(connection);
    }

    /// <summary>A folder private to this engine for scratch files (staging, spooled inputs); removed with the engine.</summary>
    public string ScratchDirectory(string name)
    {
        var path = Path.Combine(_tempDirectory, "scratch", name);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        while (_pool.TryTake(out var c)) c.Dispose();
        try
        {
            _root.Wait(); // an open still under way
        }
        catch (AggregateException)
        {
            // The open failed: there is nothing to close, and whoever used the engine was told.
        }
        if (_root.IsCompletedSuccessfully)
        {
            if (ClosesDatabaseOnDispose) _root.Result.Dispose();
            else LeftOpen.Add(_root.Result);
        }
        if (_ownsTempDirectory) DeleteQuietly(_tempDirectory);
    }

    /// <summary>
    /// A new folder for this process, that only this user may enter: another user's process must neither read the spilled rows
    /// nor plant files where this one writes (a folder shared by every user, made by whoever came first, let the first user
    /// control the others' and failed theirs). It is <c>lakehouse-duckdb-&lt;user&gt;/&lt;pid&gt;-&lt;random&gt;</c> in the temp path when
    /// that user folder is this user's own (made 0700 here, not a link), else a folder made as mkdtemp makes it. Folders left by
    /// processes that no longer run (killed before they could clean up) are removed on the way, from the user folder only: the
    /// temp path itself may hold thousands of entries, too many to look through at every start.
    /// </summary>
    private static string NewProcessTempDirectory()
    {
        var own = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..8]}");
        if (!OperatingSystem.IsWindows())
        {
            const UnixFileMode userOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
            var user = Path.Combine(Path.GetTempPath(), $"{TempRootName}-{UserFolderName()}");
            try
            {
                var info = Directory.CreateDirectory(user, userOnly);
                if (info.LinkTarget is null && File.GetUnixFileMode(user) == userOnly)
                {
                    foreach (var folder in Directory.EnumerateDirectories(user))
                    {
                        var name = Path.GetFileName(folder);
                        var dash = name.IndexOf('-', StringComparison.Ordinal);
                        if (dash > 0 && int.TryParse(name[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && !IsRunning(pid))
                            DeleteQuietly(folder);
                    }
                    return Directory.CreateDirectory(Path.Combine(user, own), userOnly).FullName;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another user's folder of that name (or no right to make it): a folder of this process's own below.
            }
        }
        return Directory.CreateTempSubdirectory($"{TempRootName}-{own}-").FullName;
    }

    /// <summary>The user's name as a folder name: letters, digits, '-', '_' and '.', others as '_'.</summary>
    private static string UserFolderName() =>
        string.Concat(Environment.UserName.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')) is { Length: > 0 } n && n.Trim('.').Length > 0 ? n : "user";

    private static bool IsRunning(int pid)
    {
        if (pid == Environment.ProcessId) return true;
        if (OperatingSystem.IsLinux()) return Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture));
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void DeleteQuietly(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Another process may still be using it (or it was just removed); the next start tries again.
        }
    }

    /// <summary>An exclusive hold on one pooled connection; disposing it more than once returns the connection once.</summary>
    public sealed class ConnectionLease : IDisposable
    {
        private readonly DuckEngine _engine;
        private DuckConnection? _connection;

        internal ConnectionLease(DuckEngine engine, DuckConnection connection)
        {
            _engine = engine;
            _connection = connection;
        }

        /// <summary>The leased connection.</summary>
        public DuckConnection Connection => _connection ?? throw new ObjectDisposedException(nameof(ConnectionLease));

        /// <inheritdoc />
        public void Dispose()
        {
            if (Interlocked.Exchange(ref _connection, null) is { } connection) _engine.Return(connection);
        }
    }
}
