using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;

namespace Lakehouse.Pipelines.Runner;

/// <summary>
/// Runs a Custom activity's command in a child process: a command starting with <c>lakehouse </c> runs this lakehouse
/// executable with the rest as arguments (split as a POSIX shell splits words: quotes and backslashes, no expansion); any
/// other command runs through <c>/bin/sh -c</c> (<c>cmd /c</c> on Windows), as an Azure Batch task does. Standard output and
/// error go to the activity's log file; a timeout or cancellation kills the whole process tree.
/// </summary>
internal static class CustomCommand
{
    /// <summary>The result of one run of the command.</summary>
    internal sealed record Result(int ExitCode, string StdoutTail, string StderrTail);

    /// <summary>The program and leading arguments that stand for <c>lakehouse</c> in this process.</summary>
    internal static IReadOnlyList<string> DefaultLakehouseCommand()
    {
        var process = Environment.ProcessPath;
        var entry = Assembly.GetEntryAssembly();
        var isLakehouse = string.Equals(entry?.GetName().Name, "lakehouse", StringComparison.Ordinal);
        if (process is null || !isLakehouse) return ["lakehouse"];
        return string.Equals(Path.GetFileNameWithoutExtension(process), "dotnet", StringComparison.OrdinalIgnoreCase) && entry!.Location.Length > 0
            ? [process, entry.Location]
            : [process];
    }

    /// <summary>Whether <paramref name="command"/> runs this lakehouse executable (<c>lakehouse …</c>).</summary>
    internal static bool IsLakehouse(string command)
    {
        var trimmed = command.Trim();
        return trimmed.StartsWith("lakehouse ", StringComparison.Ordinal) || trimmed == "lakehouse";
    }

    /// <summary>The start of the command's process (not started).</summary>
    internal static ProcessStartInfo StartInfo(string command, IReadOnlyList<string> lakehouse)
    {
        ProcessStartInfo start;
        var trimmed = command.TrimStart();
        if (IsLakehouse(command))
        {
            start = new ProcessStartInfo(lakehouse[0]);
            foreach (var a in lakehouse.Skip(1)) start.ArgumentList.Add(a);
            foreach (var a in Split(trimmed["lakehouse".Length..])) start.ArgumentList.Add(a);
        }
        else if (OperatingSystem.IsWindows())
        {
            start = new ProcessStartInfo("cmd.exe");
            start.ArgumentList.Add("/c");
            start.ArgumentList.Add(command);
        }
        else
        {
            start = new ProcessStartInfo("/bin/sh");
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(command);
        }
        // The SecureString values a watch gave this run are its parameters, not the command's environment: an activity gets a value
        // through its command (@pipeline().parameters.x), where it is masked in the log.
        foreach (var name in start.Environment.Keys.Where(SecureValues.IsVariable).ToList()) start.Environment.Remove(name);
        start.UseShellExecute = false;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        return start;
    }

    /// <summary>
    /// Runs <paramref name="start"/>, appending its output to <paramref name="logFile"/>. <paramref name="started"/> is called
    /// with the process id and start time once it runs (the checkpoint keeps them, so a resumed run can stop an orphan).
    /// <paramref name="redact"/> masks the SecureString values in every line written to the log and in the tails returned.
    /// </summary>
    /// <exception cref="OperationCanceledException">The token was cancelled (timeout or stop): the process tree was killed first.</exception>
    internal static async Task<Result> RunAsync(ProcessStartInfo start, string logFile, int tailBytes, Func<string, string> redact,
        Func<int, DateTimeOffset, Task> started, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(logFile)!);
        await using var log = new StreamWriter(new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite), new UTF8Encoding(false)) { AutoFlush = true };
        var gate = new object();
        var stdout = new Tail(tailBytes);
        var stderr = new Tail(2048);
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Write(e.Data, stdout, "");
        process.ErrorDataReceived += (_, e) => Write(e.Data, stderr, "[stderr] ");
        lock (gate) log.WriteLine(redact($"--- {DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture)} {start.FileName} {string.Join(' ', start.ArgumentList)}"));
        process.Start();
        DateTimeOffset processStart;
        try
        {
            processStart = new DateTimeOffset(process.StartTime.ToUniversalTime(), TimeSpan.Zero);
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            processStart = DateTimeOffset.UtcNow; // it ended already: nothing will be left to stop
        }
        process.StandardInput.Close();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await started(process.Id, processStart).ConfigureAwait(false);
            await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception)
        {
            Kill(process);
            throw;
        }
        lock (gate) log.WriteLine($"--- exit code {process.ExitCode.ToString(CultureInfo.InvariantCulture)}");
        return new Result(process.ExitCode, stdout.Text(), stderr.Text());

        void Write(string? line, Tail tail, string prefix)
        {
            if (line is null) return;
            line = redact(line);
            lock (gate)
            {
                log.WriteLine(prefix + line);
                tail.Add(line);
            }
        }
    }

    /// <summary>Kills a process and everything it started, and waits (briefly) until it is gone.</summary>
    internal static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception or AggregateException or NotSupportedException)
        {
            // It ended on its own, or a process of the tree ended while the tree was walked.
        }
    }

    /// <summary>Kills the process <paramref name="pid"/> (and its tree) if it is still the one that started at <paramref name="startedAt"/>.</summary>
    /// <returns>True when it was running and was killed.</returns>
    internal static bool KillIfSame(int pid, DateTimeOffset startedAt)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            if (Math.Abs((process.StartTime.ToUniversalTime() - startedAt.UtcDateTime).TotalSeconds) > 1) return false;
            Kill(process);
            return true;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>Whether process <paramref name="pid"/> runs and started at <paramref name="startedAt"/> (to the second).</summary>
    internal static bool IsRunning(int pid, DateTimeOffset startedAt)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited && Math.Abs((process.StartTime.ToUniversalTime() - startedAt.UtcDateTime).TotalSeconds) <= 1;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>Splits a command line into words as a POSIX shell does (single and double quotes, backslash), without expansion.</summary>
    internal static List<string> Split(string text)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord) words.Add(word.ToString());
                word.Clear();
                inWord = false;
                continue;
            }
            inWord = true;
            if (c == '\'')
            {
                var end = text.IndexOf('\'', i + 1);
                if (end < 0) throw new FormatException("the command has a ' without its closing '");
                word.Append(text, i + 1, end - i - 1);
                i = end;
            }
            else if (c == '"')
            {
                for (i++; ; i++)
                {
                    if (i >= text.Length) throw new FormatException("the command has a \" without its closing \"");
                    if (text[i] == '"') break;
                    if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is '"' or '\\' or '$' or '`') i++;
                    word.Append(text[i]);
                }
            }
            else if (c == '\\' && i + 1 < text.Length)
            {
                word.Append(text[++i]);
            }
            else
            {
                word.Append(c);
            }
        }
        if (inWord) words.Add(word.ToString());
        return words;
    }

    /// <summary>The last lines of a stream, at most about <c>max</c> characters.</summary>
    private sealed class Tail(int max)
    {
        private readonly LinkedList<string> _lines = new();
        private int _length;

        internal void Add(string line)
        {
            if (max == 0) return;
            _lines.AddLast(line);
            _length += line.Length + 1;
            while (_length > max && _lines.Count > 1)
            {
                _length -= _lines.First!.Value.Length + 1;
                _lines.RemoveFirst();
            }
        }

        internal string Text()
        {
            var text = string.Join('\n', _lines);
            return text.Length > max ? text[^max..] : text;
        }
    }
}
