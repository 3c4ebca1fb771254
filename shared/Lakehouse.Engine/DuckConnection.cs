using System.Data;
using System.Runtime.CompilerServices;
using Apache.Arrow;
using DuckDB.NET.Data;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Engine;

/// <summary>
/// One DuckDB connection. Use it from one thread at a time. A new statement closes a result still open on it (reading that
/// result then throws). Every call that runs SQL takes a
/// cancellation token: cancelling it interrupts the running statement, which then ends with <see cref="OperationCanceledException"/>.
/// DuckDB's errors become <see cref="Core.LakehouseException"/> with reason Engine; the statement's text is never put
/// into the message (DuckDB's own error is kept whole in the inner exception).
/// </summary>
public sealed class DuckConnection : IDisposable
{
    private readonly DuckDBConnection _connection;
    private readonly ILogger _logger;
    private DuckResult? _active;
    private long _interrupts;
    private bool _disposed;

    internal DuckConnection(DuckEngine engine, DuckDBConnection connection, ILogger logger)
    {
        Engine = engine;
        _connection = connection;
        _logger = logger;
    }

    /// <summary>The engine (database) this connection belongs to.</summary>
    internal DuckEngine Engine { get; }

    internal ILogger Logger => _logger;

    /// <summary>How many times <see cref="Interrupt"/> has been called: a statement compares it with its value at its start.</summary>
    internal long Interrupts => Interlocked.Read(ref _interrupts);

    /// <summary>True when the connection must not go back to a pool.</summary>
    internal bool IsBroken => _disposed;

    /// <summary>Closes a result still open on the connection (its reader then throws rather than reading another statement's rows).</summary>
    internal void CloseOpenResult() => _active?.Supersede();

    /// <summary>Runs a statement (or several, separated by ';') and discards the results; returns the number of rows changed.</summary>
    public long Execute(string sql, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ThrowIfUnusable();
        cancellationToken.ThrowIfCancellationRequested();
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        var interruptsBefore = Interrupts;
        using var interrupt = CancellationInterrupt.Create(this, cancellationToken);
        try
        {
            return Math.Max(0, command.ExecuteNonQuery());
        }
        catch (Exception e) when (e is DuckDBException or OperationCanceledException)
        {
            throw DuckError.Translate(e, "DuckDB statement failed", _logger, Interrupts != interruptsBefore, cancellationToken);
        }
    }

    /// <summary>Runs a query and returns a streaming reader over its rows; dispose it before the next query on this connection.</summary>
    public DuckResult Query(string sql, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ThrowIfUnusable();
        cancellationToken.ThrowIfCancellationRequested();
        var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.UseStreamingMode = true;
        var interruptsBefore = Interrupts;
        var interrupt = CancellationInterrupt.Create(this, cancellationToken);
        try
        {
            var reader = command.ExecuteReader();
            _active = new DuckResult(this, command, reader, interrupt, interruptsBefore, cancellationToken);
            return _active;
        }
        catch (Exception e) when (e is DuckDBException or OperationCanceledException)
        {
            interrupt?.Dispose();
            command.Dispose();
            throw DuckError.Translate(e, "DuckDB query failed", _logger, Interrupts != interruptsBefore, cancellationToken);
        }
    }

    /// <summary>Runs a query and returns the first column of the first row, or null when there is no row or it is NULL.</summary>
    public object? Scalar(string sql, CancellationToken cancellationToken = default)
    {
        using var result = Query(sql, cancellationToken);
        return result.Read() ? result.GetValue(0) : null;
    }

    /// <summary>
    /// Runs a query and streams its result as Arrow record batches (DuckDB.NET hands DuckDB's vectors over without
    /// converting values one by one), for .NET callers that process large results column-wise.
    /// </summary>
    public async IAsyncEnumerable<RecordBatch> QueryArrowAsync(string sql, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ThrowIfUnusable();
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        var interruptsBefore = Interrupts;
        using var interrupt = CancellationInterrupt.Create(this, cancellationToken);
        var batches = command.ExecuteArrowBatchesAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
        try
        {
            while (true)
            {
                RecordBatch batch;
                try
                {
                    if (!await batches.MoveNextAsync().ConfigureAwait(false)) yield break;
                    batch = batches.Current;
                }
                catch (Exception e) when (e is DuckDBException or OperationCanceledException)
                {
                    throw DuckError.Translate(e, "DuckDB query failed", _logger, Interrupts != interruptsBefore, cancellationToken);
                }
                yield return batch;
            }
        }
        finally
        {
            await batches.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Creates an appender for fast bulk inserts into an existing table.</summary>
    public DuckAppender CreateAppender(string table, string? schema = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(table);
        ThrowIfUnusable();
        try
        {
            return new DuckAppender(schema is null ? _connection.CreateAppender(table) : _connection.CreateAppender(schema, table), table);
        }
        catch (DuckDBException e)
        {
            throw DuckError.Create($"Creating an appender for table '{table}' failed", e);
        }
    }

    /// <summary>Asks DuckDB to stop the statement running on this connection (it ends with <see cref="OperationCanceledException"/>).</summary>
    public void Interrupt()
    {
        if (_disposed || _connection.State != ConnectionState.Open) return;
        Interlocked.Increment(ref _interrupts);
        _connection.NativeConnection.Interrupt();
    }

    internal void Release(DuckResult result)
    {
        if (ReferenceEquals(_active, result)) _active = null;
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        CloseOpenResult();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_disposed) return;
        _active?.Dispose();
        _disposed = true;
        _connection.Dispose();
    }
}
