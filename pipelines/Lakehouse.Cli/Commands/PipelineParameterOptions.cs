using System.CommandLine;

namespace Lakehouse.Cli.Commands;

/// <summary>
/// The pipeline parameters of <c>pipeline run</c> and <c>watch</c>, bound one way: <c>--param name=value</c>, and
/// <c>--param-env name=VARIABLE</c>, whose value is read from the environment variable VARIABLE. A value given with
/// <c>--param</c> is on the process's command line, which every user of the machine can read (<c>ps -ef</c>,
/// <c>/proc/&lt;pid&gt;/cmdline</c>); one given with <c>--param-env</c> is in its environment, which only its own user can: the
/// way to give a SecureString parameter (the watch gives its runs their SecureString values the same way).
/// </summary>
internal sealed class PipelineParameterOptions
{
    private PipelineParameterOptions(Option<string[]> values, Option<string[]> variables) => (Values, Variables) = (values, variables);

    /// <summary><c>--param name=value</c>, repeatable.</summary>
    internal Option<string[]> Values { get; }

    /// <summary><c>--param-env name=VARIABLE</c>, repeatable.</summary>
    internal Option<string[]> Variables { get; }

    /// <summary>The two options, <c>--param</c> described by <paramref name="description"/>.</summary>
    internal static PipelineParameterOptions Create(string description) => new(
        new Option<string[]>("--param") { Description = description, HelpName = "name=value" },
        new Option<string[]>("--param-env")
        {
            Description = "A parameter value read from an environment variable, name=VARIABLE (repeatable): how to give a SecureString (a secret) without "
                + "putting it on a command line, which every user of the machine can see (ps). A variable that is not set is an error; one set to '' gives ''.",
            HelpName = "name=VARIABLE",
        });

    /// <summary>Adds both options to <paramref name="command"/>.</summary>
    internal void AddTo(Command command)
    {
        command.Add(Values);
        command.Add(Variables);
    }

    /// <summary>The parameters of a parse, read from this process's environment (see <see cref="Bind(IReadOnlyList{string}, IReadOnlyList{string}, Func{string, string?})"/>).</summary>
    internal List<KeyValuePair<string, string>> Bind(ParseResult parse) =>
        Bind(parse.GetValue(Values) ?? [], parse.GetValue(Variables) ?? [], Environment.GetEnvironmentVariable);

    /// <summary>
    /// The parameters given, those of <c>--param</c> first, then those of <c>--param-env</c>, each in the order given; a usage error
    /// (exit 2) for a value that is not <c>name=…</c>, a name given twice (in any casing, as the runner matches names), or a
    /// variable that is not set, named (never its value).
    /// </summary>
    internal static List<KeyValuePair<string, string>> Bind(IReadOnlyList<string> values, IReadOnlyList<string> variables, Func<string, string?> environment)
    {
        var parameters = new List<KeyValuePair<string, string>>();
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        void Add(string option, string name, string value)
        {
            if (!names.Add(name)) throw CommandLine.Usage($"{option} {name} is given twice");
            parameters.Add(KeyValuePair.Create(name, value));
        }

        foreach (var text in values)
        {
            var eq = text.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw CommandLine.Usage($"--param must be name=value, not '{text}'");
            Add("--param", text[..eq], text[(eq + 1)..]);
        }

        foreach (var text in variables)
        {
            var eq = text.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || eq == text.Length - 1 || text.IndexOf('=', eq + 1) >= 0 || text.Contains('\0', StringComparison.Ordinal))
                throw CommandLine.Usage($"--param-env must be name=VARIABLE (an environment variable's name), not '{text}'");
            var (name, variable) = (text[..eq], text[(eq + 1)..]);
            var value = environment(variable) ?? throw CommandLine.Usage($"--param-env {name}={variable}: the environment variable {variable} is not set");
            Add("--param-env", name, value);
        }

        return parameters;
    }
}
