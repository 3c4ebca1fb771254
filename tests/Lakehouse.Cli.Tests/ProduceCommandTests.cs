using System.Globalization;
using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Cli.Tests;

/// <summary><c>lakehouse produce</c> and <c>lakehouse dataset</c> through the real binary, and bronze ingest refusing a dataset the lake does not define.</summary>
public sealed class ProduceCommandTests : IDisposable
{
    private const string Clicks = """
        {
          "name": "clicks",
          "payload": "json",
          "columns": [ { "name": "click_id", "type": "string" }, { "name": "at", "type": "timestamp" } ],
          "event_time": "at",
          "id": ["click_id"]
        }
        """;

    private readonly TempDirectory _temp = new("cli-produce");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task Produce_SameSeedTwice_ByteIdenticalFilesAndAnotherSeedDiffers()
    {
        string[] args = ["produce", "--dataset", "weblogs", "--events", "25000", "--duplicates", "2%", "--malformed", "0.01", "--late", "0.01", "--file-events", "10000"];
        var a = await CliRunner.RunAsync([.. args, "--to", _temp.Combine("a")]);
        var b = await CliRunner.RunAsync([.. args, "--to", _temp.Combine("b")]);
        var c = await CliRunner.RunAsync([.. args, "--to", _temp.Combine("c"), "--seed", "43"]);
        Assert.True(a.ExitCode == 0, a.Stderr);
        Assert.True(b.ExitCode == 0, b.Stderr);
        Assert.True(c.ExitCode == 0, c.Stderr);
        Assert.Equal("", a.Stderr);
        Assert.Matches(@"^produced 25,000 weblogs events \([0-9,]+ duplicates, [0-9,]+ malformed, [0-9,]+ late\) to .*/a: 3 files, [0-9,]+ bytes, [0-9.]+ s, [0-9,]+ events/s; run weblogs-s42-[0-9a-f]{8}\n$", a.Stdout);

        var filesA = Directory.GetFiles(_temp.Combine("a")).Order(StringComparer.Ordinal).ToArray();
        var filesB = Directory.GetFiles(_temp.Combine("b")).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(filesA.Select(Path.GetFileName), filesB.Select(Path.GetFileName));
        Assert.Equal([10_000, 10_000, 5_000], filesA.Select(f => File.ReadAllLines(f).Length));
        for (var i = 0; i < filesA.Length; i++) Assert.Equal(File.ReadAllBytes(filesA[i]), File.ReadAllBytes(filesB[i]));
        var filesC = Directory.GetFiles(_temp.Combine("c")).Order(StringComparer.Ordinal).ToArray();
        Assert.Matches("^weblogs-s43-[0-9a-f]{8}-00001.ndjson$", Path.GetFileName(filesC[0]));
        Assert.NotEqual(File.ReadAllBytes(filesA[0]), File.ReadAllBytes(filesC[0]));
    }

    [Fact]
    public async Task Produce_Json_SummaryCountsMatchTheFile()
    {
        var r = await CliRunner.RunAsync("produce", "--dataset", "accesslogs", "--events", "5000", "--duplicates", "0.1", "--to", _temp.Combine("logs"), "--json");
        Assert.True(r.ExitCode == 0, r.Stderr);
        using var summary = JsonDocument.Parse(r.Stdout);
        var root = summary.RootElement;
        Assert.Equal(("accesslogs", 5000, 42, false), (root.GetProperty("dataset").GetString(), root.GetProperty("events").GetInt32(), root.GetProperty("seed").GetInt32(), root.GetProperty("stopped").GetBoolean()));
        Assert.InRange(root.GetProperty("duplicates").GetInt32(), 400, 600);
        Assert.Equal(0, root.GetProperty("malformed").GetInt32());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("requests").ValueKind);
        var file = Assert.Single(root.GetProperty("files").EnumerateArray()).GetString()!;
        Assert.EndsWith(".log", file, StringComparison.Ordinal);
        Assert.Equal(5000, File.ReadAllLines(file).Length);
        Assert.Equal(root.GetProperty("bytes").GetInt64() + 5000, new FileInfo(file).Length);
    }

    [Fact]
    public async Task Produce_SameRunIntoTheSameFolder_RefusedAndTheFilesKept()
    {
        var folder = _temp.Combine("landing");
        Assert.Equal(0, (await CliRunner.RunAsync("produce", "--dataset", "sensors", "--events", "100", "--to", folder)).ExitCode);
        var before = File.ReadAllBytes(Directory.GetFiles(folder).Single());
        var again = await CliRunner.RunAsync("produce", "--dataset", "sensors", "--events", "100", "--to", folder);
        Assert.Equal(1, again.ExitCode);
        Assert.Matches(@"^error: '.*/landing' already has files of this run \(sensors-s42-[0-9a-f]{8}-00001\.ndjson, …\): the same options make the same events", again.Stderr);
        Assert.Equal(before, File.ReadAllBytes(Directory.GetFiles(folder).Single()));
        Assert.Equal(0, (await CliRunner.RunAsync("produce", "--dataset", "sensors", "--events", "101", "--to", folder)).ExitCode);
        Assert.Equal(2, Directory.GetFiles(folder).Length);
    }

    [Theory]
    [InlineData("--dataset weblog --to x", "error: --dataset must be accesslogs, sensors or weblogs, not 'weblog'\n")]
    [InlineData("--dataset weblogs", "error: 'lakehouse produce' needs --to <destination> (see lakehouse produce --help)\n")]
    [InlineData("--dataset weblogs --to x --late 120%", "error: --late must be between 0 and 1 (0% and 100%), not '120%'\n")]
    [InlineData("--dataset weblogs --to x --duplicates half", "error: --duplicates must be a fraction such as 0.05 or 5%, not 'half'\n")]
    [InlineData("--dataset weblogs --to x --duplicates NaN", "error: --duplicates must be between 0 and 1 (0% and 100%), not 'NaN'\n")]
    [InlineData("--dataset weblogs --to x --start 9999-12-31", "error: --start must be from 1000-01-01 to 8999-12-31 (the event times the lake takes), not '9999-12-31'\n")]
    [InlineData("--dataset weblogs --to x --start 8998-12-01 --days 3650",
        "error: --start 8998-12-01 with --days 3650 makes event times up to 9008-11-29T00:00:00Z, but the lake takes event times from 1000-01-01T00:00:00Z up to, not including, 9000-01-01T00:00:00Z: from that start --days is at most 396\n")]
    [InlineData("--dataset weblogs --to x --start 8999-12-29T00:00:01Z --days 3",
        "error: --start 8999-12-29T00:00:01Z with --days 3 makes event times up to 9000-01-01T00:00:01Z, but the lake takes event times from 1000-01-01T00:00:00Z up to, not including, 9000-01-01T00:00:00Z: from that start --days is at most 2.999\n")]
    [InlineData("--dataset accesslogs --to x --start 8999-12-31",
        "error: --start 8999-12-31 with accesslogs' default span makes event times up to 9000-01-03T00:00:00Z, but the lake takes event times from 1000-01-01T00:00:00Z up to, not including, 9000-01-01T00:00:00Z: from that start --days is at most 1\n")]
    [InlineData("--dataset sensors --to x --start 8998-12-01 --days 3650",
        "error: --start 8998-12-01 with --days 3650 makes event times up to 9011-05-31T12:00:00Z (sensors' readings run up to a quarter of --days and a day past it), but the lake takes event times from 1000-01-01T00:00:00Z up to, not including, 9000-01-01T00:00:00Z: from that start --days is at most 316\n")]
    [InlineData("--dataset weblogs --to x --duplicates 0.6 --malformed 0.5", "error: --duplicates and --malformed together are at most 1 (all of the events)\n")]
    [InlineData("--dataset weblogs --to x --rate 0", "error: --rate must be a number more than 0, not '0'\n")]
    [InlineData("--dataset weblogs --to x --rate 0.0000001", "error: --rate must be between 0.001 and 1000000000, not '0.0000001'\n")]
    [InlineData("--dataset weblogs --to x --days 4000", "error: --days must be at most 3650\n")]
    [InlineData("--dataset weblogs --to x --start yesterday", "error: --start must be a date or time such as 2024-05-01 or 2024-05-01T12:00:00Z, or now; not 'yesterday'\n")]
    [InlineData("--dataset weblogs --to x --events -1", "error: --events must be between 0 and 10000000000\n")]
    public async Task Produce_BadOptions_UsageErrorsAndNothingWritten(string args, string expected)
    {
        var r = await CliRunner.ShellAsync($"cd {_temp.Path} && $LAKEHOUSE produce {args}");
        Assert.Equal((2, expected), (r.ExitCode, r.Stderr));
        Assert.False(Directory.Exists(_temp.Combine("x")));
    }

    /// <summary>
    /// The events fall in --start plus --days; a start and span that end exactly where the lake's event times end
    /// (9000-01-01T00:00:00Z) are taken, and every event is before it.
    /// </summary>
    [Theory]
    [InlineData("2000", "2025-03-01T06:00:00Z", "0.25", "2025-03-01T06:00:00Z", "2025-03-01T06:01:00Z", "2025-03-01T11:59:00Z", "2025-03-01T12:00:00Z")]
    [InlineData("500", "8999-12-29", "3", "8999-12-29T00:00:00Z", "8999-12-29T00:10:00Z", "8999-12-31T23:00:00Z", "8999-12-31T23:59:59.999Z")]
    public async Task Produce_StartAndDays_EventTimesInThatWindow(string events, string start, string days, string firstFrom, string firstTo, string lastFrom, string lastTo)
    {
        var r = await CliRunner.RunAsync("produce", "--dataset", "weblogs", "--events", events, "--start", start, "--days", days, "--to", _temp.Combine("w"));
        Assert.True(r.ExitCode == 0, r.Stderr);
        var times = File.ReadAllLines(Directory.GetFiles(_temp.Combine("w")).Single())
            .Select(l => JsonDocument.Parse(l).RootElement.GetProperty("timestamp").GetDateTimeOffset()).ToList();
        Assert.InRange(times.Min(), DateTimeOffset.Parse(firstFrom, CultureInfo.InvariantCulture), DateTimeOffset.Parse(firstTo, CultureInfo.InvariantCulture));
        Assert.InRange(times.Max(), DateTimeOffset.Parse(lastFrom, CultureInfo.InvariantCulture), DateTimeOffset.Parse(lastTo, CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Produce_SigInt_Exit130WithWhatWasSentInAPublishedFile()
    {
        var folder = _temp.Combine("live");
        using var produce = CliRunner.Start(["produce", "--dataset", "weblogs", "--events", "1000000", "--rate", "2000", "--to", folder]);
        Assert.True(await produce.WaitUntilAsync(() => Directory.Exists(folder) && Directory.GetFiles(folder, ".*.inprogress").Length == 1 &&
            new FileInfo(Directory.GetFiles(folder, ".*.inprogress")[0]).Length > 100_000));
        await produce.SignalAsync("INT");
        var r = await produce.WaitAsync();

        Assert.Equal(130, r.ExitCode);
        Assert.EndsWith("cancelled\n", r.Stderr, StringComparison.Ordinal);
        var m = System.Text.RegularExpressions.Regex.Match(r.Stdout, @"^stopped after ([0-9,]+) weblogs events \(");
        Assert.True(m.Success, r.Stdout);
        var file = Assert.Single(Directory.GetFiles(folder));
        Assert.Equal(long.Parse(m.Groups[1].Value.Replace(",", "", StringComparison.Ordinal), System.Globalization.CultureInfo.InvariantCulture), File.ReadAllLines(file).Length);
        Assert.EndsWith("-00001.ndjson", file, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BronzeIngest_UnknownDataset_RefusedListingTheKnownOnesAndHowToAddOne()
    {
        var lake = _temp.Combine("lake");
        var r = await CliRunner.RunAsync("bronze", "ingest", "--dataset", "weblog", "--from", "kafka://127.0.0.1:9/weblogs", "--once", "--lake", lake);
        Assert.Equal(1, r.ExitCode);
        Assert.Equal(
            "error: Unknown dataset 'weblog' (did you mean 'weblogs'?). The datasets are accesslogs, sensors and weblogs. To add one, write its definition " +
            $"as {Path.Combine(lake, "_lakehouse", "datasets", "weblog.json")} (the format is in the README under \"Datasets\"; `lakehouse dataset show weblogs` prints an example).\n",
            r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(lake, "bronze")));
    }

    [Fact]
    public async Task BronzeIngest_DatasetDefinedInTheLake_PassesTheDatasetCheck()
    {
        var lake = _temp.Combine("lake");
        Directory.CreateDirectory(Path.Combine(lake, "_lakehouse", "datasets"));
        File.WriteAllText(Path.Combine(lake, "_lakehouse", "datasets", "clicks.json"), Clicks);
        var r = await CliRunner.RunAsync("bronze", "ingest", "--dataset", "clicks", "--from", _temp.Combine("no-such-landing"), "--once", "--lake", lake);
        Assert.DoesNotContain("dataset", r.Stderr, StringComparison.OrdinalIgnoreCase);

        File.WriteAllText(Path.Combine(lake, "_lakehouse", "datasets", "clicks.json"), Clicks.Replace("\"timestamp\"", "\"time\"", StringComparison.Ordinal));
        var broken = await CliRunner.RunAsync("bronze", "ingest", "--dataset", "weblogs", "--from", _temp.Combine("no-such-landing"), "--once", "--lake", lake);
        Assert.Equal(
            $"error: Dataset definition '{Path.Combine(lake, "_lakehouse", "datasets", "clicks.json")}', field 'columns[1].type': 'time' is not a column type; " +
            "use string, integer, number, boolean, timestamp, object or string[].\n", broken.Stderr);
        Assert.Equal(1, broken.ExitCode);
    }

    [Fact]
    public async Task Dataset_ListShowCheck_BuiltInsAndTheLakesOwn()
    {
        var lake = _temp.Combine("lake");
        Directory.CreateDirectory(Path.Combine(lake, "_lakehouse", "datasets"));
        File.WriteAllText(Path.Combine(lake, "_lakehouse", "datasets", "clicks.json"), Clicks);

        var list = await CliRunner.RunAsync("dataset", "list", "--lake", lake, "--json");
        Assert.True(list.ExitCode == 0, list.Stderr);
        var rows = JsonDocument.Parse(list.Stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(["accesslogs", "clicks", "sensors", "weblogs"], rows.Select(r => r.GetProperty("name").GetString()));
        Assert.Equal(("text (access_log)", "source position"), (rows[0].GetProperty("payload").GetString(), rows[0].GetProperty("id").GetString()));
        Assert.Equal(Path.Combine(lake, "_lakehouse", "datasets", "clicks.json"), rows[1].GetProperty("source").GetString());
        Assert.Equal("sensor_id + timestamp", rows[2].GetProperty("id").GetString());

        var text = await CliRunner.RunAsync("dataset", "list", "--lake", lake);
        Assert.Contains("weblogs     json               10       event_id               timestamp   11            built-in", text.Stdout, StringComparison.Ordinal);

        var show = await CliRunner.RunAsync("dataset", "show", "sensors", "--lake", lake);
        Assert.True(show.ExitCode == 0, show.Stderr);
        Assert.Equal("sensors", JsonDocument.Parse(show.Stdout).RootElement.GetProperty("name").GetString());
        var copy = _temp.Combine("sensors_eu.json");
        File.WriteAllText(copy, show.Stdout.Replace("\"sensors\"", "\"sensors_eu\"", StringComparison.Ordinal));
        var check = await CliRunner.RunAsync("dataset", "check", copy);
        Assert.Equal((0, "ok: sensors_eu: json, 7 columns, id sensor_id + timestamp, event time timestamp\n", ""), (check.ExitCode, check.Stdout, check.Stderr));

        var builtIn = _temp.Combine("weblogs.json");
        File.WriteAllText(builtIn, (await CliRunner.RunAsync("dataset", "show", "weblogs")).Stdout);
        var clash = await CliRunner.RunAsync("dataset", "check", builtIn);
        Assert.Equal((1, $"error: Dataset definition '{builtIn}', field 'name': 'weblogs' is a built-in dataset and cannot be redefined; give this definition another name (and file name).\n"),
            (clash.ExitCode, clash.Stderr));

        var unknown = await CliRunner.RunAsync("dataset", "show", "click", "--lake", lake);
        Assert.Equal(1, unknown.ExitCode);
        Assert.StartsWith("error: Unknown dataset 'click' (did you mean 'clicks'?). The datasets are accesslogs, clicks, sensors and weblogs.", unknown.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SilverRun_ColumnsNamedXAndVAndAStringList_ParsedLikeAnyOtherAndOnlyStringsInTheList()
    {
        // Silver's SQL used x and v as lambda and list names: columns so named failed the run with DuckDB binder errors. A string[]
        // column took [1, true] as ["1", "true"].
        var lake = _temp.Combine("lake");
        Directory.CreateDirectory(Path.Combine(lake, "_lakehouse", "datasets"));
        await File.WriteAllTextAsync(Path.Combine(lake, "_lakehouse", "datasets", "xv.json"),
            """{"name": "xv", "payload": "json", "columns": [{"name": "id", "type": "string"}, {"name": "at", "type": "timestamp"}, {"name": "x", "type": "integer"}, {"name": "v", "type": "string"}, {"name": "tags", "type": "string[]"}], "event_time": "at", "id": ["id"], "expectations": [{"name": "x_small", "column": "x", "check": "between", "max": 10, "action": "drop"}]}""");
        var landing = _temp.Combine("landing");
        Directory.CreateDirectory(landing);
        var file = Path.Combine(landing, "a.ndjson");
        await File.WriteAllTextAsync(file, """
            {"id": "a", "at": "2024-05-01T10:00:00Z", "x": 1, "v": "one", "tags": ["p", null, "q"]}
            {"id": "b", "at": "2024-05-01T10:00:01Z", "x": 20, "v": "two"}
            {"id": "a", "at": "2024-05-01T10:00:00Z", "x": 1, "v": "one", "tags": ["p", null, "q"]}
            {"id": "c", "at": "2024-05-01T10:00:02Z", "x": 2, "v": "three", "tags": [1, true, "s"]}

            """);
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddMinutes(-1));

        var ingest = await CliRunner.RunAsync("bronze", "ingest", "--lake", lake, "--dataset", "xv", "--from", landing);
        var silver = await CliRunner.RunAsync("silver", "run", "--lake", lake, "--dataset", "xv");
        var rows = await CliRunner.RunAsync("sql", "--lake", lake, "--format", "csv", "SELECT id, x, v, tags FROM silver.xv ORDER BY id");
        var quarantined = await CliRunner.RunAsync("sql", "--lake", lake, "--format", "csv", "SELECT rule, message FROM silver.xv_quarantine ORDER BY source_line");

        Assert.True(ingest.ExitCode == 0, ingest.Stderr);
        Assert.True(silver.ExitCode == 0, silver.Stderr);
        Assert.Equal("id,x,v,tags\na,1,one,\"[p, NULL, q]\"\n", rows.Stdout);
        Assert.Equal("rule,message\nx_small,x = 20 is not at most 10\nwrong_type,\"tags: expected an array of strings, got one holding other values ([1,true,\"\"s\"\"])\"\n", quarantined.Stdout);
    }

    [Fact]
    public async Task SilverRun_DefinitionGainsAColumnThenRetypesOne_ColumnAddedThenRefusedBeforeAnyCommit()
    {
        var lake = _temp.Combine("lake");
        var definitions = Path.Combine(lake, "_lakehouse", "datasets");
        Directory.CreateDirectory(definitions);
        string Definition(string extra) =>
            $$"""{"name": "ev", "payload": "json", "columns": [{"name": "id", "type": "string"}, {"name": "at", "type": "timestamp"}, {"name": "n", "type": "integer"}{{extra}}], "event_time": "at", "id": ["id"]}""";
        var landing = _temp.Combine("landing");
        Directory.CreateDirectory(landing);
        async Task<CliRunner.Result> LandAndRunAsync(string file, string lines)
        {
            var path = Path.Combine(landing, file);
            await File.WriteAllTextAsync(path, lines);
            File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-1));
            var ingest = await CliRunner.RunAsync("bronze", "ingest", "--lake", lake, "--dataset", "ev", "--from", landing);
            Assert.True(ingest.ExitCode == 0, ingest.Stderr);
            return await CliRunner.RunAsync("silver", "run", "--lake", lake, "--dataset", "ev");
        }
        await File.WriteAllTextAsync(Path.Combine(definitions, "ev.json"), Definition(""));
        var first = await LandAndRunAsync("a.ndjson", "{\"id\": \"a\", \"at\": \"2024-05-01T10:00:00Z\", \"n\": 1, \"w\": \"old\"}\n");
        Assert.True(first.ExitCode == 0, first.Stderr);

        // The definition gains w: silver gets the column (null for a, read for b), no error about a query to edit.
        await File.WriteAllTextAsync(Path.Combine(definitions, "ev.json"), Definition(", {\"name\": \"w\", \"type\": \"string\"}"));
        var gained = await LandAndRunAsync("b.ndjson", "{\"id\": \"b\", \"at\": \"2024-05-01T10:00:01Z\", \"n\": 2, \"w\": \"new\"}\n");
        Assert.True(gained.ExitCode == 0, gained.Stderr);
        var rows = await CliRunner.RunAsync("sql", "--lake", lake, "--format", "csv", "SELECT id, n, w FROM silver.ev ORDER BY id");
        Assert.Equal("id,n,w\na,1,\nb,2,new\n", rows.Stdout);

        // n retyped to string: refused before anything is committed, naming the column, both types and the ways out.
        await File.WriteAllTextAsync(Path.Combine(definitions, "ev.json"),
            Definition(", {\"name\": \"w\", \"type\": \"string\"}").Replace("\"n\", \"type\": \"integer\"", "\"n\", \"type\": \"string\"", StringComparison.Ordinal));
        var versions = await CliRunner.RunAsync("table", "list", "--lake", lake, "--json");
        var retyped = await LandAndRunAsync("c.ndjson", "{\"id\": \"c\", \"at\": \"2024-05-01T10:00:02Z\", \"n\": \"3\"}\n");
        Assert.Equal(1, retyped.ExitCode);
        Assert.StartsWith("error: silver.ev holds column 'n' as BIGINT, but dataset ev's definition now makes it VARCHAR: silver cannot change a column's type in place, and nothing was run.",
            retyped.Stderr, StringComparison.Ordinal);
        Assert.Equal(SilverVersions(versions.Stdout), SilverVersions((await CliRunner.RunAsync("table", "list", "--lake", lake, "--json")).Stdout));
    }

    /// <summary>The versions of silver.ev and its quarantine in a <c>table list --json</c>.</summary>
    private static string SilverVersions(string tableList) =>
        string.Join(",", JsonDocument.Parse(tableList).RootElement.GetProperty("tables").EnumerateArray()
            .Where(t => t.GetProperty("name").GetString() is "silver.ev" or "silver.ev_quarantine")
            .Select(t => $"{t.GetProperty("name").GetString()}@{t.GetProperty("version").GetInt64()}"));

    /// <summary>
    /// <c>dataset check</c> refuses what silver or gold would refuse or get wrong, naming the field: a column silver adds itself
    /// (its values were replaced, and event_date became the partition), an expectation named like a silver rule (its counts merged
    /// with the rule's), a pattern RE2 cannot run, a gold output without its columns. Each passed the check before.
    /// </summary>
    [Theory]
    [InlineData("\"columns\": [{\"name\": \"id\", \"type\": \"string\"}, {\"name\": \"at\", \"type\": \"timestamp\"}, {\"name\": \"ingest_time\", \"type\": \"integer\"}]",
        "Dataset d1, field 'columns[2].name': silver adds a column 'ingest_time' of its own")]
    [InlineData("\"columns\": [{\"name\": \"id\", \"type\": \"string\"}, {\"name\": \"at\", \"type\": \"timestamp\"}], \"expectations\": [{\"name\": \"wrong_type\", \"column\": \"id\", \"check\": \"not_null\", \"action\": \"drop\"}]",
        "Dataset d1, field 'expectations[0].name': 'wrong_type' is the name of a rule silver applies itself")]
    [InlineData("\"columns\": [{\"name\": \"id\", \"type\": \"string\"}, {\"name\": \"at\", \"type\": \"timestamp\"}], \"expectations\": [{\"name\": \"p\", \"column\": \"id\", \"check\": \"matches\", \"pattern\": \"(?<=a)b\", \"action\": \"drop\"}]",
        "Dataset d1, field 'expectations[0].pattern': DuckDB's regular expressions (RE2) cannot run '(?<=a)b': ")]
    [InlineData("\"columns\": [{\"name\": \"id\", \"type\": \"string\"}, {\"name\": \"at\", \"type\": \"timestamp\"}], \"gold_outputs\": [\"page_metrics_1m\"]",
        "Dataset d1 lists gold output 'page_metrics_1m', which needs the column(s) page_url, session_id, tti_ms, ttar_ms, status that the dataset does not have.")]
    [InlineData("\"columns\": [{\"name\": \"id\", \"type\": \"string\"}, {\"name\": \"at\", \"type\": \"timestamp\"}, {\"name\": \"rowid\", \"type\": \"integer\"}]",
        "Dataset d1, field 'columns[2].name': silver uses the name 'rowid' itself while it parses and checks events (its staging columns payload, txt, source_kind, source, ")]
    [InlineData("\"columns\": [{\"name\": \"id\", \"type\": \"string\"}, {\"name\": \"at\", \"type\": \"timestamp\"}, {\"name\": \"source\", \"type\": \"string\"}]",
        "Dataset d1, field 'columns[2].name': silver uses the name 'source' itself")]
    [InlineData("\"columns\": [{\"name\": \"id\", \"type\": \"string\"}, {\"name\": \"at\", \"type\": \"timestamp\"}, {\"name\": \"__drop\", \"type\": \"boolean\"}]",
        "Dataset d1, field 'columns[2].name': silver uses the name '__drop' itself")]
    [InlineData("\"columns\": [{\"name\": \"id\", \"type\": \"string\"}, {\"name\": \"at\", \"type\": \"timestamp\"}, {\"name\": \"payload\", \"type\": \"object\"}]",
        "Dataset d1, field 'columns[2].name': silver uses the name 'payload' itself")]
    [InlineData("\"columns\": [{\"name\": \"id\", \"type\": \"string\"}, {\"name\": \"at\", \"type\": \"timestamp\"}, {\"name\": \"page_url\", \"type\": \"string\"}, " +
        "{\"name\": \"session_id\", \"type\": \"string\"}, {\"name\": \"tti_ms\", \"type\": \"string\"}, {\"name\": \"ttar_ms\", \"type\": \"integer\"}, {\"name\": \"status\", \"type\": \"integer\"}], " +
        "\"gold_outputs\": [\"page_performance_daily\"]",
        "Dataset d1 lists gold output 'page_performance_daily', which reads column 'tti_ms' as number or integer, but the dataset has it as string.")]
    public async Task DatasetCheck_WhatSilverOrGoldWouldRefuse_Exit1NamingTheField(string body, string expected)
    {
        var file = _temp.Combine("d1.json");
        await File.WriteAllTextAsync(file, $$"""{"name": "d1", "payload": "json", {{body}}, "event_time": "at", "id": ["id"]}""");

        var check = await CliRunner.RunAsync("dataset", "check", file);

        Assert.Equal((1, ""), (check.ExitCode, check.Stdout));
        Assert.StartsWith("error: " + expected, check.Stderr, StringComparison.Ordinal);
    }
}
