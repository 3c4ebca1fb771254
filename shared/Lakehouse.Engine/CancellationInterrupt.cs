namespace Lakehouse.Engine;

/// <summary>
/// Stops the statement running on a connection when a token is cancelled: it interrupts the connection then, and again every
/// 100 ms until disposed, because an interrupt that lands just before DuckDB starts the statement is not remembered by it.
/// </summary>
internal sealed class CancellationInterrupt : IDisposable
{
    private static readonly TimeSpan Repeat = TimeSpan.FromMilliseconds(100);

    private readonly DuckConnection _connection;
    private readonly Lock _gate = new();
    private readonly CancellationTokenRegistration _registration;
    private Timer? _timer;
    private bool _disposed;

    private CancellationInterrupt(DuckConnection connection, CancellationToken cancellationToken)
    {
        _connection = connection;
        _registration = cancellationToken.Register(Start);
    }

    /// <summary>An interrupt tied to <paramref name="cancellationToken"/>, or null when the token can never be cancelled.</summary>
    internal static CancellationInterrupt? Create(DuckConnection connection, CancellationToken cancellationToken) =>
        cancellationToken.CanBeCanceled ? new CancellationInterrupt(connection, cancellationToken) : null;

    private void Start()
    {
        lock (_gate)
        {
            if (!_disposed) _timer = new Timer(_ => Interrupt(), null, TimeSpan.Zero, Repeat);
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
