namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse demo</c>: the end-to-end run on the embedded default.</summary>
internal static class DemoCommand
{
    internal static Task<int> RunAsync(string[] args, TextWriter stdout, CancellationToken cancellationToken) =>
        throw CommandLine.Usage("demo arrives with the writer");
}
