using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Lakehouse.Testing;

/// <summary>What the test servers started from npm packages (Azurite, cosmosdb-server) share: ports, readiness, stopping, install locks.</summary>
public static class LocalServers
{
    /// <summary>A TCP port on 127.0.0.1 that was free a moment ago.</summary>
    public static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
        finally
        {
            listener.Stop();
        }
    }

    /// <summary>
    /// Waits until <paramref name="process"/> (or a process it started) accepts connections on <paramref name="port"/>; false when the
    /// process exits or <paramref name="timeout"/> passes first, or when another process holds the port. A port free a moment ago
    /// can be taken by another test's server before this one binds it: a check that only connected then took the other server
    /// for this one, and the test talked to it (CI saw this for the CLI's servers). The caller starts again on another port.
    /// </summary>
    public static async Task<bool> WaitUntilListeningAsync(Process process, int port, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(process);
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited) return false;
            using var client = new TcpClient();
            try
            {
                using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(1));
                await client.ConnectAsync(IPAddress.Loopback, port, attempt.Token).ConfigureAwait(false);
                return ListensOn(process.Id, port);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                await Task.Delay(100).ConfigureAwait(false);
            }
        }
        return false;
    }

    /// <summary>
    /// Whether a socket listening on TCP <paramref name="port"/> belongs to process <paramref name="pid"/> or one of its descendants,
    /// read from Linux's /proc (the listening sockets' inodes in /proc/net/tcp and tcp6, then each process's open files); true
    /// where there is no /proc to tell.
    /// </summary>
    public static bool ListensOn(int pid, int port)
    {
        if (!File.Exists("/proc/net/tcp")) return true;
        var sockets = new HashSet<string>(StringComparer.Ordinal);
        var hexPort = ":" + port.ToString("X4", CultureInfo.InvariantCulture);
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" }.Where(File.Exists))
        {
            foreach (var line in File.ReadLines(table).Skip(1))
            {
                var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (f.Length > 9 && f[1].EndsWith(hexPort, StringComparison.Ordinal) && f[3] == "0A") sockets.Add($"socket:[{f[9]}]");
            }
        }
        return sockets.Count > 0 && Descendants(pid).Any(p => OpenFiles(p).Any(sockets.Contains));
    }

    /// <summary><paramref name="pid"/> and every process below it, from the parent ids in /proc/&lt;pid&gt;/stat.</summary>
    private static List<int> Descendants(int pid)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var child)) continue;
            try
            {
                // "pid (comm) state ppid ...": the name may hold spaces and parentheses, so the fields start after the last ')'.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                var parent = int.Parse(fields[1], CultureInfo.InvariantCulture);
                if (!children.TryGetValue(parent, out var list)) children[parent] = list = [];
                list.Add(child);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or ArgumentOutOfRangeException)
            {
                // Gone meanwhile, or not ours to read.
            }
        }
        var all = new List<int> { pid };
        for (var i = 0; i < all.Count; i++)
        {
            if (children.TryGetValue(all[i], out var list)) all.AddRange(list);
        }
        return all;
    }

    /// <summary>Where the process's open files point (socket:[inode] for a socket); none when it is gone or not ours to read.</summary>
    private static List<string> OpenFiles(int pid)
    {
        var targets = new List<string>();
        try
        {
            foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
            {
                try
                {
                    if (new FileInfo(fd).LinkTarget is { } target) targets.Add(target);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    // Closed meanwhile.
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Gone meanwhile, or not ours to read.
        }
        return targets;
    }

    /// <summary>Kills <paramref name="process"/> and its children, if it still runs.</summary>
    public static void Kill(Process process)
    {
        ArgumentNullException.ThrowIfNull(process);
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <summary>An exclusive lock on a file (flock on Unix), retried until free or <paramref name="timeout"/> passes.</summary>
    public static async Task<FileStream> LockAsync(string path, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(500, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Kills <paramref name="process"/> (if any), waits up to 10 s for it to be reaped, and deletes <paramref name="workspace"/> (if any).</summary>
    public static async Task StopAsync(Process? process, string? workspace)
    {
        if (process is not null)
        {
            Kill(process);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Killed but not reaped in time; the OS reaps it.
            }
            process.Dispose();
        }
        if (workspace is not null)
        {
            try
            {
                Directory.Delete(workspace, recursive: true);
            }
            catch (IOException)
            {
                // Left for the temp cleaner.
            }
        }
    }

    /// <summary>
    /// The folder of npm package <paramref name="package"/>@<paramref name="version"/> installed in the user's cache
    /// (~/.cache/lakehouse/npm/&lt;name&gt;/&lt;version&gt;/node_modules/&lt;package&gt;), installing it with npm first when it is missing
    /// or <paramref name="entry"/> (a file inside it) is: into a staging folder under an exclusive file lock, renamed into place
    /// when complete, so concurrent test processes install it once and never see half of it.
    /// </summary>
    public static async Task<string> NpmPackageAsync(string package, string version, string entry, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var cache = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "lakehouse", "npm", package.Split('/')[^1]);
        var prefix = Path.Combine(cache, version);
        var folder = Path.Combine([prefix, "node_modules", .. package.Split('/')]);
        var marker = Path.Combine(prefix, ".complete");
        bool Installed() => File.Exists(marker) && File.Exists(Path.Combine(folder, entry));
        if (Installed()) return folder;

        Directory.CreateDirectory(cache);
        using var gate = await LockAsync(Path.Combine(cache, version + ".lock"), timeout, cancellationToken).ConfigureAwait(false);
        if (Installed()) return folder; // Another process installed it while we waited.

        // Holding the lock, no other install runs: staging folders left by crashed installs can go.
        foreach (var stale in Directory.EnumerateDirectories(cache, version + ".staging-*"))
            Directory.Delete(stale, recursive: true);
        var staging = prefix + ".staging-" + Environment.ProcessId;
        Directory.CreateDirectory(staging);
        var (exitCode, output) = await RunAsync("npm",
            ["install", "--prefix", staging, package + "@" + version, "--no-audit", "--no-fund", "--loglevel=error"],
            timeout, cancellationToken).ConfigureAwait(false);
        if (exitCode != 0)
            throw new InvalidOperationException($"npm install {package}@{version} failed with exit code {exitCode}:\n{output}");
        await File.WriteAllTextAsync(Path.Combine(staging, ".complete"), version, cancellationToken).ConfigureAwait(false);
        if (Directory.Exists(prefix)) Directory.Delete(prefix, recursive: true); // A partial install from before the marker existed.
        Directory.Move(staging, prefix);
        return folder;
    }

    /// <summary>
    /// Starts a server process whose standard output and error are appended to <paramref name="output"/> (its first 64 KiB, for
    /// failure messages; lock it to read), with <c>LAKEHOUSE_PARENT_PID</c> set for a watchdog that ends it with the test process.
    /// </summary>
    public static Process StartServer(ProcessStartInfo start, StringBuilder output)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(output);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        start.Environment["LAKEHOUSE_PARENT_PID"] = Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
        void Append(string? line)
        {
            if (line is null) return;
            lock (output)
            {
                if (output.Length < 64 * 1024) output.AppendLine(line);
            }
        }
        var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>
    /// Runs a setup program (npm, openssl) to its end and returns its exit code with standard output and error; past
    /// <paramref name="timeout"/> it is killed with its children and the wait ends with <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string file, string[] arguments, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return (process.ExitCode, (await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false)));
    }
}
