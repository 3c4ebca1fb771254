using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary>
/// Input that used to crash the process (exit 134 and a stack trace) ends with exit code 1 and one <c>error:</c> line, whatever the
/// layer below throws: bad Azure settings in the environment, a folder where a commit file should be.
/// </summary>
public sealed class ConfigurationErrorTests : IDisposable
{
    private const string DevelopmentKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    private const string AzureTable = "abfss://lake@devstoreaccount1.dfs.core.windows.net/silver/weblogs";
    private const string AzureLake = "abfss://lake@devstoreaccount1.dfs.core.windows.net/";

    private readonly TempDirectory _temp = new("cli-config");

    public void Dispose() => _temp.Dispose();

    public static TheoryData<string, string, string> BadSettings => new()
    {
        { "AZURE_STORAGE_KEY", "not-base64!!", "The environment variable AZURE_STORAGE_KEY is not valid base64." },
        { "AZURE_STORAGE_CONNECTION_STRING", $"AccountName=devstoreaccount1;AccountKey={DevelopmentKey};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;Garbage", "The environment variable AZURE_STORAGE_CONNECTION_STRING has a part (number 4) that is not 'Name=value'." },
        { "LAKEHOUSE_BLOB_ENDPOINT", "http://127.0.0.1:10000/devstoreaccount1?sv=2024-01-01&sig=s3cr3t", "The environment variable LAKEHOUSE_BLOB_ENDPOINT has a query string" },
        { "AZURE_STORAGE_CONNECTION_STRING", $"AccountName=devstoreaccount1;AccountKey={DevelopmentKey};BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1?sig=s3cr3t", "The environment variable AZURE_STORAGE_CONNECTION_STRING has a BlobEndpoint that has a query string" },
    };

    [Fact]
    public async Task MemoryLimit_FromTheEnvironment_TakenOrRefusedByName()
    {
        var lake = _temp.Combine("lake");
        var taken = await CliRunner.RunAsync(new Dictionary<string, string> { ["LAKEHOUSE_MEMORY_LIMIT"] = "300MB" },
            "sql", "SELECT current_setting('memory_limit') AS m", "--format", "csv", "--lake", lake);
        Assert.True(taken.ExitCode == 0, taken.Stderr);
        Assert.Equal("m\n286.1 MiB\n", taken.Stdout); // DuckDB shows 300 MB in MiB
        var refused = await CliRunner.RunAsync(new Dictionary<string, string> { ["LAKEHOUSE_MEMORY_LIMIT"] = "1GB'; SET threads=1; --" },
            "sql", "SELECT 1", "--lake", lake);
        Assert.Equal(1, refused.ExitCode);
        Assert.StartsWith("error: LAKEHOUSE_MEMORY_LIMIT is '1GB'; SET threads=1; --': The memory limit is a size with its unit, such as '8GB', '512MiB' or '1.5 GB'.", refused.Stderr, StringComparison.Ordinal);
        // A number without its unit, or with one DuckDB does not know: refused by name too, not as "Opening DuckDB failed".
        foreach (var size in new[] { "1000000000", "5x", "1e9" })
        {
            var bare = await CliRunner.RunAsync(new Dictionary<string, string> { ["LAKEHOUSE_MEMORY_LIMIT"] = size }, "sql", "SELECT 1", "--lake", lake);
            Assert.Equal(1, bare.ExitCode);
            Assert.StartsWith($"error: LAKEHOUSE_MEMORY_LIMIT is '{size}': The memory limit is a size with its unit", bare.Stderr, StringComparison.Ordinal);
        }
        var spelled = await CliRunner.RunAsync(new Dictionary<string, string> { ["LAKEHOUSE_MEMORY_LIMIT"] = "1.5 gigabytes" },
            "sql", "SELECT current_setting('memory_limit') AS m", "--format", "csv", "--lake", lake);
        Assert.True(spelled.ExitCode == 0, spelled.Stderr);
        Assert.Equal("m\n1.3 GiB\n", spelled.Stdout);
    }

    /// <summary>
    /// A --lake that is a file is refused by every command that opens the lake; one that does not exist by every command that only
    /// reads a lake (before: "bronze.weblogs does not exist yet", or "No dataset has a bronze table … yet" with exit 0, or .NET's
    /// "Could not find a part of the path" from bronze ingest), each naming the path. Nothing is created.
    /// </summary>
    [Fact]
    public async Task LakeLocation_AFileOrMissing_Exit1NamingThePath()
    {
        var file = _temp.Combine("lake.txt");
        await File.WriteAllTextAsync(file, "not a lake");
        var missing = _temp.Combine("nowhere");
        var landing = _temp.Combine("landing");
        Directory.CreateDirectory(landing);
        string[][] readers =
        [
            ["status"], ["table", "list"], ["silver", "run", "--dataset", "weblogs"], ["silver", "replay", "--dataset", "weblogs"],
            ["gold", "run", "--dataset", "weblogs"], ["pipeline", "runs"],
        ];
        string[][] writers = [["bronze", "ingest", "--dataset", "weblogs", "--from", landing], ["dataset", "list"]];
        foreach (var args in readers.Concat(writers))
        {
            var r = await CliRunner.RunAsync([.. args, "--lake", file]);
            Assert.Equal((1, $"error: The lake '{file}' is a file, not a folder (give --lake or set LAKEHOUSE_LAKE).\n"), (r.ExitCode, r.Stderr));
        }
        foreach (var args in readers)
        {
            var r = await CliRunner.RunAsync([.. args, "--lake", missing]);
            Assert.Equal((1, $"error: There is no lake at '{missing}': the folder does not exist (give --lake or set LAKEHOUSE_LAKE).\n"), (r.ExitCode, r.Stderr));
        }
        Assert.Equal("not a lake", await File.ReadAllTextAsync(file));
        Assert.False(Directory.Exists(missing));
    }

    /// <summary>
    /// The files a command line names (a query, a dataset definition, a pipeline, a trigger) are read up to a limit and refused by what is
    /// wrong: before, /dev/zero took gigabytes and ended with .NET's "Array dimensions exceeded supported range." (dataset check)
    /// or "Arithmetic operation resulted in an overflow." (pipeline run), and a folder was "Access to the path … is denied".
    /// </summary>
    [Fact]
    public async Task NamedFiles_EndlessAFolderOrMissing_Exit1SayingWhich()
    {
        var missing = _temp.Combine("missing.json");
        // Each reads up to its limit.
        (string[] Args, string Subject, string Refusal)[] cases =
        [
            (["sql", "--lake", _temp.Path, "--file"], "the query file", "it holds more than 16,777,216 bytes, the most a query may have"),
            (["dataset", "check"], "the definition file", "it holds more than 1,048,576 bytes, the most a dataset definition may have"),
            (["pipeline", "run", "--lake", _temp.Path], "the pipeline file", "it holds more than 4,194,304 bytes, the most an ADF resource may have"),
            (["watch", _temp.Path, "--once", "--lake", _temp.Path, "--trigger"], "the trigger file", "it holds more than 4,194,304 bytes, the most an ADF resource may have"),
            (["watch", _temp.Path, "--once", "--lake", _temp.Path, "--pipeline"], "the pipeline file", "it holds more than 4,194,304 bytes, the most an ADF resource may have"),
        ];
        foreach (var (args, subject, refusal) in cases)
        {
            var endless = await CliRunner.RunAsync([.. args, "/dev/zero"]);
            Assert.Equal((1, $"error: Cannot read {subject} '/dev/zero': {refusal}.\n"), (endless.ExitCode, endless.Stderr));
            var folder = await CliRunner.RunAsync([.. args, _temp.Path]);
            Assert.Equal((1, $"error: Cannot read {subject} '{_temp.Path}': it is a folder.\n"), (folder.ExitCode, folder.Stderr));
            var none = await CliRunner.RunAsync([.. args, missing]);
            Assert.Equal((1, $"error: Cannot read {subject} '{missing}': it does not exist.\n"), (none.ExitCode, none.Stderr));
        }
    }

    [Theory]
    [MemberData(nameof(BadSettings))]
    public async Task AzureTable_BadSettingInTheEnvironment_Exit1WithOneErrorLine(string variable, string value, string reason)
    {
        var environment = new Dictionary<string, string> { [variable] = value };
        foreach (var args in new[]
        {
            new[] { "table", "read", AzureTable },
            ["table", "list", "--lake", AzureLake],
            ["sql", "SELECT 1", "--lake", AzureLake],
            ["table", "import", _temp.Combine("none.json"), "--to", AzureTable],
        })
        {
            var r = await CliRunner.RunAsync(environment, args);
            Assert.True(r.ExitCode == 1, $"{string.Join(' ', args)}: exit {r.ExitCode}: {r.Stderr}");
            Assert.StartsWith("error: ", r.Stderr, StringComparison.Ordinal);
            Assert.Contains(reason, r.Stderr, StringComparison.Ordinal);
            Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.DoesNotContain("s3cr3t", r.Stderr, StringComparison.Ordinal);
            Assert.DoesNotContain(DevelopmentKey, r.Stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task AzureLocation_WithASignatureInIt_Exit1WithoutTheSignature()
    {
        var r = await CliRunner.RunAsync("table", "read", "http://127.0.0.1:10000/devstoreaccount1/lake/t?sv=2024-01-01&sig=s3cr3t");
        Assert.Equal(1, r.ExitCode);
        Assert.StartsWith("error: ", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", r.Stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// A folder named like the next commit file: the write that tries to commit there fails with a message (today the
    /// operating system's, through the CLI's last-resort handler), never a crash; reading is not made worse by it.
    /// </summary>
    [Fact]
    public async Task FolderNamedLikeACommitFile_ImportAndRead_NeverACrash()
    {
        var table = _temp.Combine("t");
        var file = _temp.Combine("a.ndjson");
        await File.WriteAllTextAsync(file, "{\"id\": 1}\n");
        Assert.Equal(0, (await CliRunner.RunAsync("table", "import", file, "--to", table)).ExitCode);
        Directory.CreateDirectory(Path.Combine(table, "_delta_log", "00000000000000000001.json"));

        var import = await CliRunner.RunAsync("table", "import", file, "--to", table);
        Assert.Equal(1, import.ExitCode);
        Assert.StartsWith("error: ", import.Stderr, StringComparison.Ordinal);
        Assert.Contains("00000000000000000001.json", import.Stderr, StringComparison.Ordinal);
        Assert.Single(import.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.DoesNotContain("Unhandled exception", import.Stderr, StringComparison.Ordinal);

        var read = await CliRunner.RunAsync("table", "read", table);
        Assert.True(read.ExitCode is 0 or 1, $"exit {read.ExitCode}: {read.Stderr}");
        Assert.DoesNotContain("Unhandled exception", read.Stderr, StringComparison.Ordinal);
        var verbose = await CliRunner.RunAsync("table", "import", file, "--to", table, "--verbose");
        Assert.Equal(1, verbose.ExitCode);
        Assert.Contains("   at ", verbose.Stderr, StringComparison.Ordinal);
    }
}
