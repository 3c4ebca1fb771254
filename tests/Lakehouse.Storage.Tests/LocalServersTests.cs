using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Lakehouse.Testing;

namespace Lakehouse.Storage.Tests;

/// <summary>
/// The readiness check of the servers tests start (Azurite, cosmosdb-server): a server is ready when it, or a process it started,
/// listens on its port; another process on that port is not taken for it.
/// </summary>
public sealed class LocalServersTests
{
    private static Process Start(string file, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        return Process.Start(start)!;
    }

    [Fact]
    public async Task WaitUntilListeningAsync_AnotherProcessHoldsThePort_FalseAtOnce()
    {
        // This test process listens; the child never does. Connecting alone said "ready" for the child.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        using var sleeper = Start("sleep", "30");
        try
        {
            Assert.True(LocalServers.ListensOn(Environment.ProcessId, port));
            Assert.False(LocalServers.ListensOn(sleeper.Id, port));
            var watch = Stopwatch.StartNew();
            Assert.False(await LocalServers.WaitUntilListeningAsync(sleeper, port, TimeSpan.FromSeconds(20)));
            Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"took {watch.Elapsed}");
        }
        finally
        {
            LocalServers.Kill(sleeper);
        }
    }

    [Fact]
    public async Task WaitUntilListeningAsync_AGrandchildListens_True()
    {
        // Node, as the npm servers run, started by a shell that waits for it (not exec'd): the listener is the shell's child.
        var port = LocalServers.FreePort();
        using var shell = Start("bash", "-c", $"node -e \"require('net').createServer().listen({port}, '127.0.0.1')\"; true");
        using var sleeper = Start("sleep", "30");
        try
        {
            Assert.True(await LocalServers.WaitUntilListeningAsync(shell, port, TimeSpan.FromSeconds(30)), $"node never listened on {port} for the shell");
            Assert.True(LocalServers.ListensOn(shell.Id, port));
            Assert.False(LocalServers.ListensOn(sleeper.Id, port));
            Assert.False(LocalServers.ListensOn(shell.Id, LocalServers.FreePort()));
        }
        finally
        {
            LocalServers.Kill(shell);
            LocalServers.Kill(sleeper);
        }
    }
}
