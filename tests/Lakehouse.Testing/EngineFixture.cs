using Lakehouse.Engine;

namespace Lakehouse.Testing;

/// <summary>One DuckDB engine shared by a test class (the process has one database, as in production).</summary>
public sealed class EngineFixture : IDisposable
{
    /// <summary>The engine.</summary>
    public DuckEngine Engine { get; } = DuckEngine.Open(new DuckEngineOptions { Threads = 2 });

    /// <summary>Closes the engine.</summary>
    public void Dispose() => Engine.Dispose();
}
