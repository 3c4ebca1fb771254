using System.CommandLine;
using System.CommandLine.Parsing;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary>The command line itself: help, global options, unknown commands and options, exit codes, --verbose.</summary>
public sealed class CommandLineTests : IDisposable
{
    private readonly TempDirectory _temp = new("cli-line");

    public void Dispose() => _temp.Dispose();

    private static List<Command> Commands(Command command) => [command, .. command.Subcommands.SelectMany(Commands)];

    private static string[] PathArgs(Command command) => CliHelp.PathOf(command).Split(' ')[1..];

    /// <summary>A lake with one table, bronze.events, for commands that need one.</summary>
    private async Task<string> LakeAsync()
    {
        var lake = _temp.Combine("lake");
        var file = _temp.Combine("events.ndjson");
        await File.WriteAllTextAsync(file, "{\"id\": 1}\n{\"id\": 2}\n");
        var r = await CliRunner.RunAsync("table", "import", file, "--to", "bronze.events", "--lake", lake);
        Assert.True(r.ExitCode == 0, r.Stderr);
        return lake;
    }

    [Fact]
    public async Task Help_EveryCommand_DescriptionUsageAndExamplesThatParse()
    {
        using var session = new CliSession(TextWriter.Null, TextWriter.Null);
        var root = CliApp.Build(session);
        var commands = Commands(root);
        Assert.Equal(42, commands.Count); // lakehouse, table + 10 sub-commands, bronze + ingest, silver + run and replay, gold + run, status, produce, dataset + 3 sub-commands, serve, stream, sql, synapse + script and deploy, adf + validate, export-arm and deploy, pipeline + run and runs, watch, demo, bench, version
        foreach (var command in commands)
        {
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var code = await CliApp.RunAsync([.. PathArgs(command), "--help"], stdout, stderr);
            var help = stdout.ToString();
            Assert.True(code == 0, $"{CliHelp.PathOf(command)} --help: {code} {stderr}");
            Assert.Equal("", stderr.ToString());
            Assert.False(string.IsNullOrWhiteSpace(command.Description), CliHelp.PathOf(command));
            Assert.Contains("Usage:", help, StringComparison.Ordinal);
            Assert.All(command.Options, o => Assert.False(string.IsNullOrWhiteSpace(o.Description), $"{CliHelp.PathOf(command)} {o.Name}"));
            Assert.All(command.Arguments, a => Assert.False(string.IsNullOrWhiteSpace(a.Description), $"{CliHelp.PathOf(command)} <{a.Name}>"));

            // Examples: each runs this command (possibly at the end of a pipe from another lakehouse command), and every
            // lakehouse command in it parses without an error (shell redirections and comments aside).
            var examples = help[(help.IndexOf("Examples:\n", StringComparison.Ordinal) + 10)..].Split('\n')
                .Where(l => l.StartsWith("  lakehouse", StringComparison.Ordinal))
                .Select(l => l.Split(" # ")[0].Split(" | ").Select(s => s.Split(" > ")[0].Trim()).Where(s => s.StartsWith("lakehouse ", StringComparison.Ordinal)).ToList())
                .ToList();
            Assert.True(examples.Count > 0, CliHelp.PathOf(command) + " has no examples");
            foreach (var pipeline in examples)
            {
                Assert.Contains(pipeline, c => c == CliHelp.PathOf(command) || c.StartsWith(CliHelp.PathOf(command) + " ", StringComparison.Ordinal));
                foreach (var example in pipeline)
                {
                    var parse = root.Parse([.. CommandLineParser.SplitCommandLine(example).Skip(1)]);
                    Assert.True(parse.Errors.Count == 0, $"'{example}': {string.Join("; ", parse.Errors.Select(e => e.Message))}");
                }
            }
        }
    }

    [Fact]
    public void Build_FirstWordNamesACommand_OnlyThatCommandElseTheWholeTree()
    {
        using var session = new CliSession(TextWriter.Null, TextWriter.Null);
        var all = CliApp.Build(session).Subcommands.Select(c => c.Name).ToList();
        // The names the builder matches are the names the commands give themselves.
        Assert.Equal(CliApp.TopLevel.Select(c => c.Name), all);
        Assert.Equal(17, all.Count);
        foreach (var name in all) Assert.Equal([name], CliApp.Build(session, name).Subcommands.Select(c => c.Name));
        foreach (var first in new[] { "--lake", "tabel", "Table", "--help", "" })
            Assert.Equal(all, CliApp.Build(session, first).Subcommands.Select(c => c.Name));
    }

    [Fact]
    public async Task Build_OneCommandTree_TypoBelowItStillSuggestsAndHelpListsItsSubcommands()
    {
        var typo = await CliRunner.RunAsync("table", "raed", "x");
        Assert.Equal(2, typo.ExitCode);
        Assert.Contains("'raed'", typo.Stderr, StringComparison.Ordinal);
        Assert.Contains("read", typo.Stderr, StringComparison.Ordinal);
        var help = await CliRunner.RunAsync("table", "--help");
        Assert.Equal(0, help.ExitCode);
        foreach (var sub in new[] { "read", "info", "import", "vacuum" }) Assert.Contains("  " + sub, help.Stdout, StringComparison.Ordinal);
        var root = await CliRunner.RunAsync("tabel", "read", "x");
        Assert.Equal(2, root.ExitCode);
        Assert.Contains("table", root.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_TableVacuum_SaysInFlightWritesAreProtectedOnlyByTheRetentionHenceForce()
    {
        var r = await CliRunner.RunAsync("table", "vacuum", "--help");
        Assert.Equal(0, r.ExitCode);
        var help = string.Join(' ', r.Stdout.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Files that a write still in flight has written but not yet committed", help, StringComparison.Ordinal);
        Assert.Contains("are protected only by the retention window", help, StringComparison.Ordinal);
        Assert.Contains("A retention shorter than the table's (delta.deletedFileRetentionDuration, 7 days by default) is therefore refused unless --force is given", help, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_ShortAndLongFormsAndAfterOtherOptions_SameText()
    {
        var longForm = await CliRunner.RunAsync("table", "import", "--help");
        Assert.Equal(0, longForm.ExitCode);
        var words = string.Join(' ', longForm.Stdout.Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Usage: lakehouse table import <files>... [options]", words, StringComparison.Ordinal);
        Assert.Contains("--to <table> (REQUIRED)", words, StringComparison.Ordinal);
        Assert.Contains("the name is 1 to 128 letters, digits, '_' and '-'", words, StringComparison.Ordinal);
        Assert.Equal(longForm.Stdout, (await CliRunner.RunAsync("table", "import", "-h")).Stdout);
        Assert.Equal(longForm.Stdout, (await CliRunner.RunAsync("table", "import", "x.json", "--mode", "upsert", "--help")).Stdout);
    }

    [Fact]
    public async Task NoCommand_UsageErrorNamingTheCommands()
    {
        var none = await CliRunner.RunAsync();
        Assert.Equal((2, "error: 'lakehouse' needs a command: table, bronze, silver, gold, status, produce, dataset, serve, stream, sql, synapse, adf, pipeline, watch, demo, bench, version (see lakehouse --help)\n"), (none.ExitCode, none.Stderr));
        var table = await CliRunner.RunAsync("table");
        Assert.Equal((2, "error: 'lakehouse table' needs a command: list, read, info, history, import, vacuum, optimize, restore, set-properties, check (see lakehouse table --help)\n"),
            (table.ExitCode, table.Stderr));
    }

    [Fact]
    public async Task GlobalOptions_AnywhereOnTheLine_SameResult()
    {
        var lake = await LakeAsync();
        string[][] lines =
        [
            ["--lake", lake, "table", "list", "--json"],
            ["table", "--lake", lake, "list", "--json"],
            ["table", "list", "--json", "--lake", lake],
            ["table", "list", "--lake=" + lake, "--json"],
        ];
        var outputs = new List<string>();
        foreach (var line in lines)
        {
            var r = await CliRunner.RunAsync(line);
            Assert.True(r.ExitCode == 0, string.Join(' ', line) + ": " + r.Stderr);
            Assert.Equal("", r.Stderr);
            outputs.Add(r.Stdout);
        }
        Assert.Single(outputs.Distinct());
        Assert.Contains("\"name\": \"bronze.events\"", outputs[0], StringComparison.Ordinal);

        foreach (var verbose in new[] { new[] { "-v", "table", "list" }, ["table", "--verbose", "list"], ["table", "list", "-v"] })
        {
            var r = await CliRunner.RunAsync([.. verbose, "--lake", lake, "--json"]);
            Assert.Equal(0, r.ExitCode);
            Assert.Equal(outputs[0], r.Stdout);
            Assert.Contains("debug [9001 Lakehouse.Cli] Running 'lakehouse table list'", r.Stderr, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("table read ./t --versoin 3", "unknown option '--versoin' for 'lakehouse table read' (did you mean '--version'?)")]
    [InlineData("table list --jsn", "unknown option '--jsn' for 'lakehouse table list' (did you mean '--json'?)")]
    [InlineData("--lak ./lake table list", "unknown option '--lak' for 'lakehouse table list' (did you mean '--lake'?)")]
    [InlineData("table import a.json --to ./t --partition id", "unknown option '--partition' for 'lakehouse table import' (did you mean '--partition-by'?)")]
    [InlineData("table read ./t --frobnicate", "unknown option '--frobnicate' for 'lakehouse table read'")]
    [InlineData("tabel list", "unknown command 'tabel' for 'lakehouse' (did you mean 'table'?) (commands: table, bronze, silver, gold, status, produce, dataset, serve, stream, sql, synapse, adf, pipeline, watch, demo, bench, version)")]
    [InlineData("table lsit", "unknown command 'lsit' for 'lakehouse table' (did you mean 'list'?) (commands: list, read, info, history, import, vacuum, optimize, restore, set-properties, check)")]
    [InlineData("table read ./t ./u", "unexpected argument './u' for 'lakehouse table read' (see lakehouse table read --help)")]
    [InlineData("table read --limt 3 ./t", "unknown option '--limt' for 'lakehouse table read' (did you mean '--limit'?)")]
    [InlineData("table read", "'lakehouse table read' needs the <table> argument (see lakehouse table read --help)")]
    [InlineData("table import a.json", "'lakehouse table import' needs --to <table> (see lakehouse table import --help)")]
    [InlineData("table read ./t --limit -1", "--limit must be 0 or more, not -1")]
    [InlineData("table read ./t --version x", "--version must be a whole number, not 'x'")]
    [InlineData("table read ./t --format xml", "--format must be csv or jsonl, not 'xml'")]
    [InlineData("table import a.json --to ./t --mode upsert", "--mode must be append or overwrite, not 'upsert'")]
    [InlineData("table vacuum ./t --retention-hours -2", "--retention-hours must be a number from 0 to 999999 (about 114 years), not '-2'")]
    [InlineData("status --lake --json", "--lake needs a folder or URI; '--json' is an option (a folder of that name is ./--json)")]
    [InlineData("table vacuum ./t --retention-hours 9999999", "--retention-hours must be a number from 0 to 999999 (about 114 years), not '9999999'")]
    [InlineData("stream --dataset weblogs --from kafka://127.0.0.1:1/t --on-data-loss ignore", "--on-data-loss must be fail or skip, not 'ignore'")]
    [InlineData("stream --dataset weblogs --from http --on-data-loss skip", "--on-data-loss is for a kafka:// or eventhubs:// source")]
    [InlineData("stream --dataset weblogs --from kafka://127.0.0.1:99999/t --port 0", "'99999' in 'kafka://127.0.0.1:99999/t' is not a port (1–65535).")]
    [InlineData("stream --dataset weblogs --from kafka://127.0.0.1:9092 --port 0", "'kafka://127.0.0.1:9092' names no topic: kafka://host:port[,host:port]/topic.")]
    [InlineData("stream --dataset weblogs --from eventhubs://ns.servicebus.windows.net/a/b --port 0", "'eventhubs://ns.servicebus.windows.net/a/b' must name exactly one event hub after the namespace, e.g. eventhubs://mynamespace.servicebus.windows.net/myhub.")]
    [InlineData("bronze ingest --dataset weblogs --from kafka://127.0.0.1:9092/bad%20topic", "'bad topic' is not a Kafka topic name (letters, digits, '.', '_' and '-', at most 249).")]
    [InlineData("produce --dataset weblogs --events 1 --to kafka://127.0.0.1:9092/", "'kafka://127.0.0.1:9092/' names no topic: kafka://host:port[,host:port]/topic.")]
    [InlineData("bronze ingest --dataset weblogs --from eventhubs://", "'eventhubs://' is not an Event Hubs address: expected eventhubs://<namespace host>/<event hub>, e.g. eventhubs://mynamespace.servicebus.windows.net/myhub.")]
    public async Task CommandLine_CannotRunAsWritten_UsageErrorExit2WithTheReason(string line, string message)
    {
        var r = await CliRunner.ShellAsync($"cd '{_temp.Path}' && $LAKEHOUSE {line}");
        Assert.Equal((2, "error: " + message + "\n", ""), (r.ExitCode, r.Stderr, r.Stdout));
        Assert.Empty(Directory.GetFileSystemEntries(_temp.Path)); // nothing was created
    }

    [Fact]
    public async Task Stream_KafkaSettingBadInTheEnvironment_Exit1BeforeAnythingIsServed()
    {
        var r = await CliRunner.RunAsync(new Dictionary<string, string> { ["LAKEHOUSE_KAFKA_SECURITY_PROTOCOL"] = "bogus" },
            "stream", "--lake", _temp.Combine("lake"), "--dataset", "weblogs", "--from", "kafka://127.0.0.1:9092/weblogs", "--port", "0", "--layers", "bronze");

        Assert.Equal((1, "error: LAKEHOUSE_KAFKA_SECURITY_PROTOCOL must be plaintext, ssl, sasl_plaintext or sasl_ssl, not 'bogus'.\n", ""), (r.ExitCode, r.Stderr, r.Stdout));
    }

    /// <summary>
    /// An internal error of the lakehouse's own family (a pipeline run ended by an exception the runner does not anticipate)
    /// exits 1 like any runtime error, its message as written, and counts as unanticipated (logged so), unlike an input error.
    /// </summary>
    [Fact]
    public void ExitCodeOf_InternalError_Exit1AndUnanticipated()
    {
        var e = new Core.LakehouseException(Core.LakehouseErrorReason.Internal, "activity A: internal error (IOException): disk full", new IOException("disk full"));
        var stderr = new StringWriter();

        CliErrors.Write(stderr, e, verbose: false);

        Assert.Equal((1, false, "error: activity A: internal error (IOException): disk full\n"), (CliErrors.ExitCodeOf(e), CliErrors.IsExpected(e), stderr.ToString()));
        Assert.True(CliErrors.IsExpected(new Core.LakehouseException(Core.LakehouseErrorReason.InvalidInput, "bad")));
    }

    [Fact]
    public async Task DataAndRuntimeErrors_Exit1()
    {
        var lake = await LakeAsync();
        var missing = await CliRunner.RunAsync("table", "read", _temp.Combine("missing"));
        Assert.Equal(1, missing.ExitCode);
        Assert.StartsWith("error: ", missing.Stderr, StringComparison.Ordinal);
        var sql = await CliRunner.RunAsync("sql", "SELECT * FROM no_such_table", "--lake", lake);
        Assert.Equal(1, sql.ExitCode);
        var version = await CliRunner.RunAsync("table", "read", "bronze.events", "--version", "7", "--lake", lake);
        Assert.Equal(1, version.ExitCode);
        Assert.Single(version.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Error_VerboseAddsTheCausesAndTheStack_OtherwiseOneLine()
    {
        var environment = new Dictionary<string, string> { ["AZURE_STORAGE_KEY"] = "not-base64!!" };
        string[] line = ["table", "read", "abfss://c@devstoreaccount1.dfs.core.windows.net/t"];
        var plain = await CliRunner.RunAsync(environment, line);
        Assert.Equal((1, "error: The environment variable AZURE_STORAGE_KEY is not valid base64.\n"), (plain.ExitCode, plain.Stderr));
        var verbose = await CliRunner.RunAsync(environment, [.. line, "--verbose"]);
        Assert.Equal(1, verbose.ExitCode);
        Assert.Contains(plain.Stderr, verbose.Stderr, StringComparison.Ordinal);
        Assert.Contains("details: Lakehouse.Core.LakehouseException: The environment variable AZURE_STORAGE_KEY is not valid base64.", verbose.Stderr, StringComparison.Ordinal);
        Assert.Contains("   at Lakehouse.", verbose.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("not-base64!!", verbose.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logging_DefaultQuiet_VerboseShowsDebugEventsWithIds()
    {
        var lake = await LakeAsync();
        var quiet = await CliRunner.RunAsync("table", "info", "bronze.events", "--lake", lake);
        Assert.Equal((0, ""), (quiet.ExitCode, quiet.Stderr));
        var verbose = await CliRunner.RunAsync("table", "info", "bronze.events", "--lake", lake, "-v");
        Assert.Equal(quiet.Stdout, verbose.Stdout);
        var lines = verbose.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains($"debug [9001 Lakehouse.Cli] Running 'lakehouse table info' on lake '{lake}'", lines);
        Assert.Contains($"debug [9004 Lakehouse.Cli.LakeContext] Table 'bronze.events' is '{Path.Combine(lake, "bronze", "events")}'", lines);
        Assert.Contains(lines, l => l.StartsWith("debug [9002 Lakehouse.Cli] 'lakehouse table info' ended with exit code 0 after ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Version_CommandAndOption_PrintTheVersions()
    {
        var command = await CliRunner.RunAsync("version");
        var option = await CliRunner.RunAsync("--version");
        Assert.Equal((0, 0), (command.ExitCode, option.ExitCode));
        Assert.Matches(@"^lakehouse \d+\.\d+\.\d+\.\d+ \(DuckDB v1\.\d+\.\d+\)\n$", command.Stdout);
        Assert.Equal(command.Stdout, option.Stdout);
    }
}
