using System.Globalization;
using Lakehouse.Core;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Pipelines.State;

/// <summary>
/// The pipeline state in a SQLite file, by default <c>&lt;lake&gt;/_lakehouse/state.db</c>. WAL journal, a busy timeout and
/// one short transaction per call let several processes share the file. Versions are integers kept in a column; an update
/// matches on the version it read (<c>UPDATE … WHERE version = @read</c>), so a stale writer changes nothing and is told.
/// </summary>
public sealed class SqlitePipelineStateStore : IPipelineStateStore
{
    private readonly string _connectionString;
    private readonly ILogger _logger;
    private readonly string _path;

    /// <summary>Opens (not yet creating) the store at <paramref name="databasePath"/>.</summary>
    public SqlitePipelineStateStore(string databasePath, ILogger<SqlitePipelineStateStore>? logger = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        _path = Path.GetFullPath(databasePath);
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = _path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
    }

    /// <summary>The store's file under a lake root: <c>&lt;lake&gt;/_lakehouse/state.db</c>.</summary>
    public static string PathUnderLake(string lakeRoot) => Path.Combine(lakeRoot, "_lakehouse", "state.db");

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        await QueryAsync(async connection =>
        {
            await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, """
                CREATE TABLE IF NOT EXISTS pipeline_runs (
                    run_id TEXT NOT NULL PRIMARY KEY,
                    pipeline TEXT NOT NULL,
                    parameters TEXT NOT NULL,
                    status TEXT NOT NULL,
                    started_at INTEGER NOT NULL,
                    ended_at INTEGER NULL,
                    error TEXT NULL,
                    version INTEGER NOT NULL);
                CREATE INDEX IF NOT EXISTS pipeline_runs_started ON pipeline_runs (started_at DESC);
                CREATE TABLE IF NOT EXISTS activity_runs (
                    run_id TEXT NOT NULL,
                    activity TEXT NOT NULL,
                    attempt INTEGER NOT NULL,
                    status TEXT NOT NULL,
                    output TEXT NULL,
                    started_at INTEGER NOT NULL,
                    ended_at INTEGER NULL,
                    error TEXT NULL,
                    version INTEGER NOT NULL,
                    PRIMARY KEY (run_id, activity));
                CREATE TABLE IF NOT EXISTS landed_files (
                    path TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    modified_at INTEGER NOT NULL,
                    source_etag TEXT NOT NULL,
                    run_id TEXT NOT NULL,
                    claimed_at INTEGER NOT NULL,
                    PRIMARY KEY (path, size, modified_at, source_etag));
                """, cancellationToken).ConfigureAwait(false);
            // A damaged file (cut short, overwritten) fails only the query that reaches its damage, later and with SQLite's words alone.
            await using (var check = connection.CreateCommand())
            {
                check.CommandText = "PRAGMA quick_check(1);";
                if (await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is string result && result != "ok")
                    throw Damaged(result);
            }
            return true;
        }, cancellationToken).ConfigureAwait(false);
        StateLog.Opened(_logger, "sqlite", _path);
    }

    /// <inheritdoc />
    public async Task<PipelineRunRecord> CreateRunAsync(PipelineRunRecord run, CancellationToken cancellationToken = default)
    {
        StateKeys.ValidateRun(run);
        return await QueryAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO pipeline_runs (run_id, pipeline, parameters, status, started_at, ended_at, error, version)
                VALUES (@id, @pipeline, @parameters, @status, @started, @ended, @error, 1) ON CONFLICT (run_id) DO NOTHING;
                """;
            AddRunParameters(command, run);
            if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 0)
                throw new PipelineStateConflictException($"Pipeline run '{StateKeys.Display(run.RunId)}' exists already.");
            return run with { ETag = "1" };
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<PipelineRunRecord?> TryGetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        StateKeys.Validate(runId, "run id");
        return await QueryAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"{SelectRun} WHERE run_id = @id;";
            command.Parameters.AddWithValue("@id", runId);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadRun(reader) : null;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<PipelineRunRecord> UpdateRunAsync(PipelineRunRecord run, CancellationToken cancellationToken = default)
    {
        StateKeys.ValidateRun(run);
        var read = ParseVersion(run.ETag);
        return await QueryAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = """
                UPDATE pipeline_runs SET pipeline = @pipeline, parameters = @parameters, status = @status, started_at = @started,
                    ended_at = @ended, error = @error, version = version + 1
                WHERE run_id = @id AND version = @read;
                """;
            AddRunParameters(command, run);
            command.Parameters.AddWithValue("@read", read);
            if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1)
                return run with { ETag = (read + 1).ToString(CultureInfo.InvariantCulture) };
            if (await TryGetRunAsync(run.RunId, cancellationToken).ConfigureAwait(false) is null)
                throw new PipelineStateNotFoundException($"Pipeline run '{StateKeys.Display(run.RunId)}' does not exist in the state store.");
            StateLog.Conflict(_logger, "pipeline run", run.RunId);
            throw new PipelineStateConflictException(
                $"Pipeline run '{StateKeys.Display(run.RunId)}' changed since it was read (ETag {run.ETag} is stale); read it again.");
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PipelineRunRecord>> ListRunsAsync(string? pipeline = null, int limit = 50, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return await QueryAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"{SelectRun} WHERE (@pipeline IS NULL OR pipeline = @pipeline) ORDER BY started_at DESC, run_id LIMIT @limit;";
            command.Parameters.AddWithValue("@pipeline", (object?)pipeline ?? DBNull.Value);
            command.Parameters.AddWithValue("@limit", limit);
            var runs = new List<PipelineRunRecord>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) runs.Add(ReadRun(reader));
            return runs;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<ActivityRunRecord> SaveActivityAsync(ActivityRunRecord activity, CancellationToken cancellationToken = default)
    {
        StateKeys.ValidateActivity(activity);
        return await QueryAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            long next;
            if (activity.ETag is null)
            {
                command.CommandText = """
                    INSERT INTO activity_runs (run_id, activity, attempt, status, output, started_at, ended_at, error, version)
                    VALUES (@run, @activity, @attempt, @status, @output, @started, @ended, @error, 1)
                    ON CONFLICT (run_id, activity) DO NOTHING;
                    """;
                next = 1;
            }
            else
            {
                var read = ParseVersion(activity.ETag);
                command.CommandText = """
                    UPDATE activity_runs SET attempt = @attempt, status = @status, output = @output, started_at = @started,
                        ended_at = @ended, error = @error, version = version + 1
                    WHERE run_id = @run AND activity = @activity AND version = @read;
                    """;
                command.Parameters.AddWithValue("@read", read);
                next = read + 1;
            }
            command.Parameters.AddWithValue("@run", activity.RunId);
            command.Parameters.AddWithValue("@activity", activity.ActivityName);
            command.Parameters.AddWithValue("@attempt", activity.Attempt);
            command.Parameters.AddWithValue("@status", activity.Status.ToString());
            command.Parameters.AddWithValue("@output", (object?)activity.OutputJson ?? DBNull.Value);
            command.Parameters.AddWithValue("@started", Ticks(activity.StartedAt));
            command.Parameters.AddWithValue("@ended", activity.EndedAt is { } ended ? Ticks(ended) : DBNull.Value);
            command.Parameters.AddWithValue("@error", (object?)activity.Error ?? DBNull.Value);
            if (await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) == 1)
                return activity with { ETag = next.ToString(CultureInfo.InvariantCulture) };

            var key = $"{StateKeys.Display(activity.RunId)}/{StateKeys.Display(activity.ActivityName)}";
            if (activity.ETag is null)
                throw new PipelineStateConflictException($"Activity run '{key}' exists already; update it with the ETag it was read at.");
            if (await TryGetActivityAsync(activity.RunId, activity.ActivityName, cancellationToken).ConfigureAwait(false) is null)
                throw new PipelineStateNotFoundException($"Activity run '{key}' does not exist in the state store.");
            StateLog.Conflict(_logger, "activity run", key);
            throw new PipelineStateConflictException($"Activity run '{key}' changed since it was read (ETag {activity.ETag} is stale); read it again.");
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<ActivityRunRecord?> TryGetActivityAsync(string runId, string activityName, CancellationToken cancellationToken = default)
    {
        StateKeys.Validate(runId, "run id");
        StateKeys.Validate(activityName, "activity name");
        return await QueryAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"{SelectActivity} WHERE run_id = @run AND activity = @activity;";
            command.Parameters.AddWithValue("@run", runId);
            command.Parameters.AddWithValue("@activity", activityName);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? ReadActivity(reader) : null;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ActivityRunRecord>> ListActivitiesAsync(string runId, CancellationToken cancellationToken = default)
    {
        StateKeys.Validate(runId, "run id");
        return await QueryAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"{SelectActivity} WHERE run_id = @run ORDER BY started_at, activity;";
            command.Parameters.AddWithValue("@run", runId);
            var activities = new List<ActivityRunRecord>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false)) activities.Add(ReadActivity(reader));
            return activities;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<LandedFileClaim> ClaimFileAsync(LandedFile file, string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        StateKeys.Validate(file.Path, "file path");
        StateKeys.Validate(runId, "run id");
        ArgumentOutOfRangeException.ThrowIfNegative(file.Size);
        var now = DateTimeOffset.UtcNow;
        return await QueryAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            // One statement: the insert and the read of the winner see the same snapshot (SQLite serialises writers).
            command.CommandText = """
                INSERT INTO landed_files (path, size, modified_at, source_etag, run_id, claimed_at)
                VALUES (@path, @size, @modified, @etag, @run, @now) ON CONFLICT DO NOTHING;
                SELECT run_id, claimed_at FROM landed_files WHERE path = @path AND size = @size AND modified_at = @modified AND source_etag = @etag;
                """;
            command.Parameters.AddWithValue("@path", file.Path);
            command.Parameters.AddWithValue("@size", file.Size);
            command.Parameters.AddWithValue("@modified", Ticks(file.ModifiedAt));
            command.Parameters.AddWithValue("@etag", file.SourceETag ?? "");
            command.Parameters.AddWithValue("@run", runId);
            command.Parameters.AddWithValue("@now", Ticks(now));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            var inserted = reader.RecordsAffected == 1;
            if (!await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
                throw new InvalidOperationException($"The claim of '{StateKeys.Display(file.Path)}' was neither stored nor found.");
            var claim = new LandedFileClaim(inserted, reader.GetString(0), FromTicks(reader.GetInt64(1)));
            if (claim.Claimed) StateLog.FileClaimed(_logger, file.Path, runId);
            else StateLog.FileSeenBefore(_logger, file.Path, claim.RunId);
            return claim;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<LandedFileClaim?> TryGetClaimAsync(LandedFile file, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        StateKeys.Validate(file.Path, "file path");
        return await QueryAsync(async connection =>
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT run_id, claimed_at FROM landed_files WHERE path = @path AND size = @size AND modified_at = @modified AND source_etag = @etag";
            command.Parameters.AddWithValue("@path", file.Path);
            command.Parameters.AddWithValue("@size", file.Size);
            command.Parameters.AddWithValue("@modified", Ticks(file.ModifiedAt));
            command.Parameters.AddWithValue("@etag", file.SourceETag ?? "");
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            return await reader.ReadAsync(cancellationToken).ConfigureAwait(false) ? new LandedFileClaim(false, reader.GetString(0), FromTicks(reader.GetInt64(1))) : null;
        }, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Nothing to release: connections are opened per call (and pooled).</summary>
    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        return ValueTask.CompletedTask;
    }

    private const string SelectRun = "SELECT run_id, pipeline, parameters, status, started_at, ended_at, error, version FROM pipeline_runs";
    private const string SelectActivity = "SELECT run_id, activity, attempt, status, output, started_at, ended_at, error, version FROM activity_runs";

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            await ExecuteAsync(connection, "PRAGMA busy_timeout=30000; PRAGMA synchronous=NORMAL;", cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch (SqliteException e) when (IsDamage(e))
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw Damaged(e.Message, e);
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>
    /// Runs <paramref name="query"/> on a connection of its own; a file found damaged by the query (after the store opened, by a
    /// page <see cref="InitializeAsync"/>'s quick check did not read, or damaged since) is refused as <see cref="InitializeAsync"/>
    /// refuses it, naming the file and the way out, not with SQLite's words alone.
    /// </summary>
    private async Task<T> QueryAsync<T>(Func<SqliteConnection, Task<T>> query, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await query(connection).ConfigureAwait(false);
        }
        catch (SqliteException e) when (IsDamage(e))
        {
            throw Damaged(e.Message, e);
        }
    }

    /// <summary>SQLite's errors for a file that is not a database (26, SQLITE_NOTADB) or a damaged one (11, SQLITE_CORRUPT).</summary>
    private static bool IsDamage(SqliteException e) => e.SqliteErrorCode is 11 or 26;

    /// <summary>The store's file is not a SQLite database, or a damaged one (<see cref="IsDamage"/>, or what quick_check found).</summary>
    private LakehouseException Damaged(string what, Exception? inner = null) =>
        new(LakehouseErrorReason.CorruptLog,
            $"The pipeline state store {_path} is damaged ({what.TrimEnd('.')}): it holds the pipeline runs, their activity checkpoints and the landed-file " +
            "ledger of lakehouse watch. Move it away and run again to start an empty one: the runs' history is lost, runs cannot be resumed, " +
            "and watch starts a run for files it had taken before (bronze still lands each file once).", inner);

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The version an ETag names; an ETag this store never issued names none (-1), so the update matches nothing.</summary>
    private static long ParseVersion(string? etag) =>
        long.TryParse(etag, NumberStyles.None, CultureInfo.InvariantCulture, out var version) ? version : -1;

    private static void AddRunParameters(SqliteCommand command, PipelineRunRecord run)
    {
        command.Parameters.AddWithValue("@id", run.RunId);
        command.Parameters.AddWithValue("@pipeline", run.Pipeline);
        command.Parameters.AddWithValue("@parameters", run.ParametersJson);
        command.Parameters.AddWithValue("@status", run.Status.ToString());
        command.Parameters.AddWithValue("@started", Ticks(run.StartedAt));
        command.Parameters.AddWithValue("@ended", run.EndedAt is { } ended ? Ticks(ended) : DBNull.Value);
        command.Parameters.AddWithValue("@error", (object?)run.Error ?? DBNull.Value);
    }

    private static PipelineRunRecord ReadRun(SqliteDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetString(2), Enum.Parse<RunStatus>(reader.GetString(3)),
        FromTicks(reader.GetInt64(4)), reader.IsDBNull(5) ? null : FromTicks(reader.GetInt64(5)),
        reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetInt64(7).ToString(CultureInfo.InvariantCulture));

    private static ActivityRunRecord ReadActivity(SqliteDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetInt32(2), Enum.Parse<RunStatus>(reader.GetString(3)),
        reader.IsDBNull(4) ? null : reader.GetString(4), FromTicks(reader.GetInt64(5)),
        reader.IsDBNull(6) ? null : FromTicks(reader.GetInt64(6)), reader.IsDBNull(7) ? null : reader.GetString(7),
        reader.GetInt64(8).ToString(CultureInfo.InvariantCulture));

    private static long Ticks(DateTimeOffset value) => value.UtcTicks;

    private static DateTimeOffset FromTicks(long ticks) => new(ticks, TimeSpan.Zero);
}
