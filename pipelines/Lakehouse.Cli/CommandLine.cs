using Lakehouse.Core;

namespace Lakehouse.Cli;

/// <summary>Parsed arguments: positionals in order, and <c>--name value</c> / <c>--flag</c> options.</summary>
internal sealed class CommandLine
{
    private readonly Dictionary<string, string?> _options = new(StringComparer.Ordinal);
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    private CommandLine(List<string> positionals) => Positionals = positionals;

    internal List<string> Positionals { get; }

    /// <summary>Parses <paramref name="args"/>; <paramref name="flags"/> are options that take no value.</summary>
    internal static CommandLine Parse(IReadOnlyList<string> args, IReadOnlySet<string> flags)
    {
        var result = new CommandLine([]);
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (a == "--")
            {
                result.Positionals.AddRange(args.Skip(i + 1));
                break;
            }
            if (a.StartsWith("--", StringComparison.Ordinal) && a.Length > 2)
            {
                var name = a[2..];
                string? value = null;
                var eq = name.IndexOf('=', StringComparison.Ordinal);
                if (eq >= 0)
                {
                    value = name[(eq + 1)..];
                    name = name[..eq];
                }
                else if (!flags.Contains(name))
                {
                    if (i + 1 >= args.Count) throw Usage($"option --{name} needs a value");
                    value = args[++i];
                }
                result._options[name] = value;
            }
            else
            {
                result.Positionals.Add(a);
            }
        }
        return result;
    }

    internal string? Option(string name)
    {
        _read.Add(name);
        return _options.TryGetValue(name, out var v) ? v : null;
    }

    internal bool Flag(string name)
    {
        _read.Add(name);
        return _options.ContainsKey(name);
    }

    internal long? LongOption(string name)
    {
        var v = Option(name);
        if (v is null) return null;
        return long.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var n)
            ? n
            : throw Usage($"--{name} must be a whole number, not '{v}'");
    }

    internal string Positional(int index, string what) =>
        index < Positionals.Count ? Positionals[index] : throw Usage($"missing {what}");

    /// <summary>Refuses options the command did not ask about: a typo must not be silently ignored.</summary>
    internal void RejectUnknownOptions()
    {
        var unknown = _options.Keys.Where(k => !_read.Contains(k)).ToList();
        if (unknown.Count > 0) throw Usage($"unknown option{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(u => "--" + u))}");
    }

    internal static UsageException Usage(string message) => new(message);
}

/// <summary>A command line the CLI cannot run as written (exit code 2); data and runtime errors are <see cref="LakehouseException"/> (exit code 1).</summary>
internal sealed class UsageException : Exception
{
    internal UsageException(string message) : base(message) { }

    public UsageException() { }

    public UsageException(string message, Exception innerException) : base(message, innerException) { }
}
