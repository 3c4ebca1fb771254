using Lakehouse.Engine;

namespace Lakehouse.Cli;

/// <summary>
/// Stops DuckDB on a connection when a token is cancelled (Ctrl+C): it interrupts the connection then, and again every 100 ms
/// until disposed, because an interrupt that lands just before a query starts is not remembered by the query. Dispose it
/// before the connection goes back to its pool.
/// </summary>
internal sealed class QueryInterrupt : IDisposable
{
    private readonly DuckConnection _connection;
    private readonly Lock _gate = new();
    private readonly CancellationTokenRegistration _registration;
    private Timer? _timer;
    private bool _disposed;

    internal QueryInterrupt(DuckConnection connection, CancellationToken cancellationToken)
    {
        _connection = connection;
        _registration = cancellationToken.Register(Start);
    }

    private void Start()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _timer = new Timer(_ => Interrupt(), null, TimeSpan.Zero, TimeSpan.FromMilliseconds(100));
        }
    }

    private void Interrupt()
    {
        lock (_gate)
        {
            if (!_disposed) _connection.Interrupt();
        }
    }

    public void Dispose()
    {
        _registration.Dispose();
        lock (_gate)
        {
            _disposed = true;
            _timer?.Dispose();
        }
    }
}
