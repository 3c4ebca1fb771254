using Lakehouse.Core;

namespace Lakehouse.Cli;

/// <summary>How an error reaches the user: <c>error: &lt;message&gt;</c> on standard error, and with --verbose the causes and the stack.</summary>
internal static class CliErrors
{
    /// <summary>
    /// Writes the error. The message is the exception's own (messages name the problem and never carry generated SQL); the inner
    /// exceptions (which may hold DuckDB's text with the SQL) and the stack are written only with <paramref name="verbose"/>.
    /// <paramref name="about"/> goes before the message (what failed, when a command reports several errors).
    /// </summary>
    internal static void Write(TextWriter stderr, Exception error, bool verbose, string about = "")
    {
        // Messages echo what the user gave (file and dataset names, settings): a control character in them is shown escaped,
        // never sent to the terminal (an ESC sequence would repaint it); line breaks between a message's own lines stay.
        // One write: a debug log line (--verbose) written from another thread cannot come between the error and its details.
        var text = "error: " + about + Printable(MessageOf(error), keepLineBreaks: true);
        if (verbose && error is not UsageException) text += Environment.NewLine + "details: " + error;
        stderr.WriteLine(text);
        stderr.Flush();
    }

    /// <summary>The message without the "(Parameter 'x')" suffix ArgumentException adds.</summary>
    internal static string MessageOf(Exception error)
    {
        var message = error.Message;
        if (error is ArgumentException { ParamName: { } name })
        {
            var suffix = $" (Parameter '{name}')";
            if (message.EndsWith(suffix, StringComparison.Ordinal)) message = message[..^suffix.Length];
        }
        return message.Length > 0 ? message : error.GetType().Name;
    }

    /// <summary>
    /// <paramref name="text"/> with each control character as <c>\uXXXX</c> (line feeds and tabs kept when
    /// <paramref name="keepLineBreaks"/>): for echoing a value given by the user.
    /// </summary>
    internal static string Printable(string text, bool keepLineBreaks = false)
    {
        if (!text.Any(char.IsControl)) return text;
        var sb = new System.Text.StringBuilder(text.Length + 16);
        foreach (var c in text)
        {
            if (!char.IsControl(c) || (keepLineBreaks && c is '\n' or '\t')) sb.Append(c);
            else sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
        }
        return sb.ToString();
    }

    /// <summary>The exit code for an error: 2 for a command line that cannot run as written, 1 for every data, configuration and runtime error.</summary>
    internal static int ExitCodeOf(Exception error) => error is UsageException ? CliApp.ExitUsage : CliApp.ExitFailed;

    /// <summary>
    /// True for errors the lakehouse anticipates (its own family, usage); anything else, and an internal error of its own family
    /// (reason Internal: an exception it does not anticipate, wrapped with its context), reached the last-resort handler.
    /// </summary>
    internal static bool IsExpected(Exception error) => error is LakehouseException { Reason: not LakehouseErrorReason.Internal } or UsageException;
}
