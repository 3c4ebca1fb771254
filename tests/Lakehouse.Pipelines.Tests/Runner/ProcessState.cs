namespace Lakehouse.Pipelines.Tests.Runner;

/// <summary>Whether a process is still there, from /proc.</summary>
public static class ProcessState
{
    /// <summary>True when the process has ended (no /proc entry, or a zombie waiting for its parent).</summary>
    public static async Task<bool> GoneAsync(int pid)
    {
        for (var i = 0; i < 100; i++)
        {
            try
            {
                var stat = await File.ReadAllTextAsync($"/proc/{pid}/stat");
                if (stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z')) return true;
            }
            catch (IOException)
            {
                return true;
            }
            await Task.Delay(50);
        }
        return false;
    }
}
