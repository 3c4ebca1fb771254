using System.CommandLine;
using System.CommandLine.Invocation;
using Lakehouse.Engine;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse version</c> and <c>lakehouse --version</c>: the CLI's and DuckDB's versions.</summary>
internal static class VersionCommand
{
    internal static Command Create(CliSession session)
    {
        var command = new CliCommand("version", "Print the versions of lakehouse and of DuckDB.") { Examples = ["lakehouse version"] };
        command.SetAction(async (parse, cancellationToken) =>
        {
            await session.Out.WriteLineAsync(Text()).ConfigureAwait(false);
            return CliApp.ExitOk;
        });
        return command;
    }

    internal static string Text() => $"lakehouse {typeof(VersionCommand).Assembly.GetName().Version} (DuckDB {DuckEngine.LibraryVersion})";

    /// <summary>The root's <c>--version</c>.</summary>
    internal sealed class Action : SynchronousCommandLineAction
    {
        public override int Invoke(ParseResult parseResult)
        {
            parseResult.InvocationConfiguration.Output.WriteLine(Text());
            return CliApp.ExitOk;
        }
    }
}
