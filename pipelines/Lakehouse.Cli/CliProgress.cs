using Spectre.Console;

namespace Lakehouse.Cli;

/// <summary>
/// Progress of long operations (import, optimize, vacuum, bench) on the terminal: a spinner, what is being done, and the
/// elapsed time, drawn on standard error by Spectre.Console and cleared when the operation ends. When standard error is not a
/// terminal (redirected to a file or a pipe, as in scripts and tests) it draws nothing at all.
/// </summary>
internal class CliProgress
{
    private protected CliProgress()
    {
    }

    /// <summary>Draws nothing.</summary>
    internal static CliProgress None { get; } = new();

    /// <summary>Progress on <paramref name="stderr"/> when it is the process's standard error and that is a terminal; else <see cref="None"/>.</summary>
    /// <remarks>Spectre.Console is only loaded when there is a terminal to draw on (a short command's start-up matters).</remarks>
    internal static CliProgress For(TextWriter stderr) =>
        ReferenceEquals(stderr, Console.Error) && !Console.IsErrorRedirected ? SpectreProgress.Create(stderr) : None;

    internal virtual bool Enabled => false;

    /// <summary>Runs <paramref name="work"/> while the terminal shows <paramref name="description"/>; <paramref name="work"/> may change the text and write lines above it.</summary>
    internal virtual Task<T> RunAsync<T>(string description, Func<IProgressLine, Task<T>> work) => work(NoProgressLine.Instance);

    private sealed class NoProgressLine : IProgressLine
    {
        internal static NoProgressLine Instance { get; } = new();

        public void Update(string text)
        {
        }

        public void WriteLine(string text)
        {
        }
    }
}

/// <summary>The terminal's progress display.</summary>
internal sealed class SpectreProgress : CliProgress
{
    private readonly IAnsiConsole _console;

    private SpectreProgress(IAnsiConsole console) => _console = console;

    internal static SpectreProgress Create(TextWriter stderr) => new(AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(stderr),
        Ansi = AnsiSupport.Detect,
        ColorSystem = ColorSystemSupport.Detect,
        Interactive = InteractionSupport.Yes,
    }));

    internal override bool Enabled => true;

    internal override async Task<T> RunAsync<T>(string description, Func<IProgressLine, Task<T>> work) =>
        await _console.Progress()
            .AutoClear(true)
            .HideCompleted(true)
            .Columns(new SpinnerColumn(), new TaskDescriptionColumn { Alignment = Justify.Left }, new ElapsedTimeColumn())
            .StartAsync(async context =>
            {
                var task = context.AddTask(Markup.Escape(description));
                task.IsIndeterminate = true;
                // Drawn at once: the display otherwise waits for its next tick, and work quicker than that would show nothing.
                context.Refresh();
                try
                {
                    return await work(new Line(_console, task)).ConfigureAwait(false);
                }
                finally
                {
                    task.StopTask();
                }
            }).ConfigureAwait(false);

    private sealed class Line(IAnsiConsole console, ProgressTask task) : IProgressLine
    {
        public void Update(string text) => task.Description = Markup.Escape(text);

        public void WriteLine(string text) => console.WriteLine(text);
    }
}

/// <summary>The line a running operation shows on the terminal.</summary>
internal interface IProgressLine
{
    /// <summary>Replaces the text shown beside the spinner.</summary>
    void Update(string text);

    /// <summary>Writes a line above the progress display (nothing when there is no terminal).</summary>
    void WriteLine(string text);
}
