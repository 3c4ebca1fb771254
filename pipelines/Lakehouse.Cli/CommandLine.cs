using System.CommandLine;
using System.CommandLine.Parsing;
using System.Globalization;
using Lakehouse.Core;

namespace Lakehouse.Cli;

/// <summary>
/// The building blocks of the command line (System.CommandLine): commands with details and examples for <c>--help</c>, and
/// options whose bad values are refused with a message that names the option and the value (a usage error, exit code 2).
/// </summary>
internal static class CommandLine
{
    /// <summary>A command line that cannot run as written, found after parsing (exit code 2).</summary>
    internal static UsageException Usage(string message) => new(message);

    /// <summary>A kafka:// or eventhubs:// address that is malformed as written (no topic, a bad port…) is a usage error, refused before anything starts.</summary>
    internal static void CheckStreamAddress(string address)
    {
        try
        {
            Bronze.BronzeSources.CheckStreamAddress(address);
        }
        catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.InvalidInput)
        {
            throw Usage(e.Message);
        }
    }

    /// <summary>An option taking a whole number in [<paramref name="min"/>, <paramref name="max"/>]; null when not given.</summary>
    internal static Option<long?> WholeNumber(string name, string description, long min = long.MinValue, long max = long.MaxValue, string helpName = "N")
    {
        var option = new Option<long?>(name) { Description = description, HelpName = helpName };
        option.CustomParser = result =>
        {
            var text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : "";
            if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n))
            {
                result.AddError($"{name} must be a whole number, not '{text}'");
                return null;
            }
            if (n < min || n > max)
            {
                result.AddError(max == long.MaxValue ? $"{name} must be {min} or more, not {n}" : $"{name} must be between {min} and {max}");
                return null;
            }
            return n;
        };
        return option;
    }

    /// <summary>An option taking one of <paramref name="values"/>, <paramref name="defaultValue"/> when not given; shown as <c>&lt;a|b|c&gt;</c> in help.</summary>
    internal static Option<string> Choice(string name, string description, string defaultValue, params string[] values)
    {
        var option = new Option<string>(name) { Description = description, HelpName = string.Join('|', values), DefaultValueFactory = _ => defaultValue };
        option.Validators.Add(OneOf(name, values));
        return option;
    }

    /// <summary>A validator: the option's value is one of <paramref name="values"/> (or of <paramref name="alsoAccepted"/>, which help does not show).</summary>
    internal static Action<OptionResult> OneOf(string name, IReadOnlyList<string> values, IReadOnlyList<string>? alsoAccepted = null) => result =>
    {
        var value = result.GetValueOrDefault<string>();
        if (!values.Contains(value, StringComparer.Ordinal) && alsoAccepted?.Contains(value, StringComparer.Ordinal) != true)
            result.AddError($"{name} must be {Alternatives(values)}, not '{value}'");
    };

    /// <summary>An option taking a text value; null when not given.</summary>
    internal static Option<string?> Text(string name, string description, string helpName) =>
        new(name) { Description = description, HelpName = helpName };

    /// <summary>The rerun range of <c>--from</c>/<c>--to</c> (dates as YYYY-MM-DD, both or neither, in order); (null, null) when neither.</summary>
    internal static (DateOnly? From, DateOnly? To) DateRange(string? from, string? to)
    {
        if ((from is null) != (to is null)) throw Usage("--from and --to go together (a rerun rebuilds a range of event dates)");
        if (from is null) return (null, null);
        var (f, t) = (Date("--from", from), Date("--to", to!));
        if (f > t) throw Usage($"--from {from} is after --to {to}");
        return (f, t);
    }

    private static DateOnly Date(string option, string text)
    {
        if (!DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
            throw Usage($"{option} must be a date as YYYY-MM-DD, not '{text}'");
        var (first, last) = (Datasets.EventTimes.First, Datasets.EventTimes.Last);
        return d >= first && d <= last ? d
            : throw Usage($"{option} {text} is outside {first:yyyy-MM-dd}..{last:yyyy-MM-dd}, the event dates the lake takes");
    }

    /// <summary><c>--on-data-loss fail|skip</c> of the commands that read a stream into bronze.</summary>
    internal static Option<string?> DataLossOption()
    {
        var option = Text("--on-data-loss", "Streams: when events bronze is to read next are gone from the broker (retention), fail (the default: stop, say how many " +
            "and commit nothing past them) or skip (log the loss, warning 5103/5209, and read on from the earliest event left).", "fail|skip");
        option.Validators.Add(OneOf("--on-data-loss", ["fail", "skip"]));
        return option;
    }

    /// <summary>The policy an <c>--on-data-loss</c> value names (absent: fail).</summary>
    internal static Lakehouse.Bronze.DataLossPolicy DataLoss(string? value) =>
        value == "skip" ? Lakehouse.Bronze.DataLossPolicy.Skip : Lakehouse.Bronze.DataLossPolicy.Fail;

    internal static Option<bool> Flag(string name, string description) => new(name) { Description = description, Arity = ArgumentArity.Zero };

    /// <summary>
    /// An argument of one or more files. A value that looks like an option is refused as an unknown option here, because a
    /// list argument would otherwise swallow a mistyped option (<c>--partition</c> for <c>--partition-by</c>) as a file name.
    /// </summary>
    internal static Argument<string[]> Files(Command command, string name, string description)
    {
        var argument = new Argument<string[]>(name) { Description = description, Arity = ArgumentArity.OneOrMore };
        argument.Validators.Add(result =>
        {
            foreach (var token in result.Tokens)
            {
                if (token.Value.Length > 1 && token.Value[0] == '-')
                {
                    var message = CliHelp.UnknownOption(command, token.Value);
                    result.AddError(message.EndsWith("?)", StringComparison.Ordinal) ? message : message + $" (a file whose name starts with '-' is written ./{token.Value})");
                    return;
                }
            }
        });
        return argument;
    }

    /// <summary><paramref name="word"/> as a POSIX shell reads it back: as it is when it holds nothing the shell treats specially, else in single quotes.</summary>
    internal static string ShellWord(string word) =>
        word.Length > 0 && word.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '-' or '_' or '+' or '=' or ':' or ',' or '@')
            ? word
            : "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>"a, b or c".</summary>
    internal static string Alternatives(IReadOnlyList<string> values) =>
        values.Count == 1 ? values[0] : string.Join(", ", values.Take(values.Count - 1)) + " or " + values[^1];

    /// <summary>The first value of <paramref name="command"/>'s arguments that looks like an option (<c>-x</c>, <c>--x</c>; <c>-</c> alone is standard input).</summary>
    private static string? OptionTakenAsArgument(ParseResult parse, Command command)
    {
        foreach (var argument in command.Arguments)
        {
            if (parse.GetResult(argument) is not { } result) continue;
            foreach (var token in result.Tokens)
                if (token.Value.Length > 1 && token.Value[0] == '-') return token.Value;
        }
        return null;
    }

    /// <summary>The first error of a parse that cannot run, worded for a user: unknown tokens with a suggestion, missing arguments, bad values.</summary>
    internal static string Describe(ParseResult parse)
    {
        var command = parse.CommandResult.Command;
        if (parse.UnmatchedTokens.Count > 0)
        {
            // A mistyped option before an argument is taken as the argument's value, and what follows is left over
            // (table read --limt 3 x: '--limt' is the table, '3' unmatched): the option is the mistake to name.
            var token = OptionTakenAsArgument(parse, command) ?? parse.UnmatchedTokens[0];
            if (token.Length > 1 && token[0] == '-') return CliHelp.UnknownOption(command, token);
            if (command.Subcommands.Count > 0 && command.Arguments.Count == 0) return CliHelp.UnknownCommand(command, token);
            return $"unexpected argument '{token}' for '{CliHelp.PathOf(command)}' (see {CliHelp.PathOf(command)} --help)";
        }
        if (command.Options.FirstOrDefault(o => o.Required && parse.GetResult(o) is not { IdentifierTokenCount: > 0 }) is { } missing)
            return (command as CliCommand)?.MissingOption?.Invoke(parse, missing)
                ?? $"'{CliHelp.PathOf(command)}' needs {missing.Name} <{missing.HelpName ?? "value"}> (see {CliHelp.PathOf(command)} --help)";
        foreach (var error in parse.Errors)
        {
            switch (error.SymbolResult)
            {
                case CommandResult c when c.Command.Subcommands.Count > 0 && c.Command.Action is null:
                    return $"'{CliHelp.PathOf(c.Command)}' needs a command: {string.Join(", ", c.Command.Subcommands.Where(s => !s.Hidden).Select(s => s.Name))} (see {CliHelp.PathOf(c.Command)} --help)";
                case ArgumentResult a when a.Tokens.Count == 0:
                    return $"'{CliHelp.PathOf(command)}' needs {CliHelp.Article(a.Argument)} (see {CliHelp.PathOf(command)} --help)";
                default:
                    break;
            }
        }
        return parse.Errors.Count > 0 ? parse.Errors[0].Message : "the command line cannot run as written";
    }
}

/// <summary>A command line the CLI cannot run as written (exit code 2); data and runtime errors are <see cref="LakehouseException"/> (exit code 1).</summary>
internal sealed class UsageException : Exception
{
    internal UsageException(string message) : base(message) { }

    public UsageException() { }

    public UsageException(string message, Exception innerException) : base(message, innerException) { }
}
