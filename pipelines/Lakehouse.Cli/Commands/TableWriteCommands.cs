namespace Lakehouse.Cli.Commands;

internal static partial class TableCommands
{
    private static partial Task<int> WriteCommandAsync(string command, LakeContext lake, CommandLine line, TextWriter stdout, CancellationToken cancellationToken) =>
        throw CommandLine.Usage($"unknown table sub-command '{command}' (read, info, history)");
}
