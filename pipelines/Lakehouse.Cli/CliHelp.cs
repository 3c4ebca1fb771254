using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace Lakehouse.Cli;

/// <summary>A command whose <c>--help</c> adds details (rules, caveats) and examples after the usage System.CommandLine writes.</summary>
internal sealed class CliCommand(string name, string description) : Command(name, description)
{
    /// <summary>Paragraphs printed after the options: rules the options alone do not say.</summary>
    internal string? Details { get; init; }

    /// <summary>Example command lines, one per entry, each optionally followed by "  # what it does".</summary>
    internal IReadOnlyList<string> Examples { get; init; } = [];

    /// <summary>
    /// The command's own wording of a required option left out, given the parse and the option (e.g. the table typed where the
    /// files go); null, or a null answer, keeps the plain "needs --option &lt;value&gt;".
    /// </summary>
    internal Func<ParseResult, Option, string?>? MissingOption { get; set; }
}

/// <summary>Help with details and examples, typo suggestions for unknown commands and options, and the names of commands as users type them.</summary>
internal static class CliHelp
{
    internal const string ProgramName = "lakehouse";

    /// <summary>The help action of the root's <c>--help</c> (recursive): System.CommandLine's help, then the command's details and examples.</summary>
    internal sealed class Action(int maxWidth, string? rootDetails, IReadOnlyList<string> rootExamples) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            var output = parseResult.InvocationConfiguration.Output;
            var command = parseResult.CommandResult.Command;
            var help = new HelpAction { MaxWidth = maxWidth };
            var code = help.Invoke(parseResult);
            var (details, examples) = command switch
            {
                CliCommand c => (c.Details, c.Examples),
                RootCommand => (rootDetails, rootExamples),
                _ => (null, []),
            };
            if (details is not null) output.WriteLine(details.TrimEnd() + Environment.NewLine);
            if (examples.Count > 0)
            {
                output.WriteLine("Examples:");
                foreach (var e in examples) output.WriteLine("  " + e);
                output.WriteLine();
            }
            return code;
        }
    }

    /// <summary>The command as typed: <c>lakehouse table read</c>.</summary>
    internal static string PathOf(Command command)
    {
        var names = new List<string>();
        for (Command? c = command; c is not null; c = c.Parents.OfType<Command>().FirstOrDefault())
            names.Add(c is RootCommand ? ProgramName : c.Name);
        names.Reverse();
        return string.Join(' ', names);
    }

    internal static string Article(Argument argument) => $"the <{argument.Name}> argument";

    /// <summary>"unknown option '--versoin' (did you mean '--version'?)", from the options <paramref name="command"/> accepts, its ancestors' recursive ones included.</summary>
    internal static string UnknownOption(Command command, string token)
    {
        var name = token.Split('=', 2)[0];
        var candidates = OptionsOf(command).Where(o => !o.Hidden).SelectMany(o => o.Aliases.Prepend(o.Name)).Where(a => a.StartsWith("--", StringComparison.Ordinal));
        return $"unknown option '{name}' for '{PathOf(command)}'{Suggest(name, candidates)}";
    }

    /// <summary>"unknown command 'tabel' (did you mean 'table'?)".</summary>
    internal static string UnknownCommand(Command command, string token) =>
        $"unknown command '{token}' for '{PathOf(command)}'{Suggest(token, command.Subcommands.Where(s => !s.Hidden).Select(s => s.Name))}" +
        $" (commands: {string.Join(", ", command.Subcommands.Where(s => !s.Hidden).Select(s => s.Name))})";

    private static IEnumerable<Option> OptionsOf(Command command)
    {
        foreach (var o in command.Options) yield return o;
        for (var parent = command.Parents.OfType<Command>().FirstOrDefault(); parent is not null; parent = parent.Parents.OfType<Command>().FirstOrDefault())
            foreach (var o in parent.Options.Where(o => o.Recursive)) yield return o;
    }

    /// <summary>" (did you mean 'x'?)" for the closest candidates by edit distance (adjacent swaps count once), or a candidate the word begins; "" when none is close.</summary>
    internal static string Suggest(string word, IEnumerable<string> candidates)
    {
        var scored = candidates.Distinct(StringComparer.Ordinal)
            .Select(c => (Candidate: c, Distance: c.StartsWith(word, StringComparison.Ordinal) && word.TrimStart('-').Length >= 3 ? 1 : Distance(word, c)))
            .Where(s => s.Distance <= Math.Max(1, s.Candidate.TrimStart('-').Length / 3))
            .ToList();
        if (scored.Count == 0) return "";
        var best = scored.Min(s => s.Distance);
        var names = scored.Where(s => s.Distance == best).Select(s => $"'{s.Candidate}'").ToList();
        return $" (did you mean {string.Join(" or ", names)}?)";
    }

    /// <summary>Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours.</summary>
    private static int Distance(string a, string b)
    {
        var d = new int[a.Length + 1, b.Length + 1];
        for (var i = 0; i <= a.Length; i++) d[i, 0] = i;
        for (var j = 0; j <= b.Length; j++) d[0, j] = j;
        for (var i = 1; i <= a.Length; i++)
        {
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                d[i, j] = Math.Min(Math.Min(d[i - 1, j] + 1, d[i, j - 1] + 1), d[i - 1, j - 1] + cost);
                if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) d[i, j] = Math.Min(d[i, j], d[i - 2, j - 2] + 1);
            }
        }
        return d[a.Length, b.Length];
    }
}
