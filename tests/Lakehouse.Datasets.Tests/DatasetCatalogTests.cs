using Lakehouse.Core;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Datasets.Tests;

/// <summary>The built-in definitions and a lake's own definition files: loading, refusing what is not valid, and unknown names.</summary>
public sealed class DatasetCatalogTests : IDisposable
{
    private const string Clicks = """
        {
          "name": "clicks",
          "description": "Button clicks from the mobile app.",
          "payload": "json",
          "columns": [
            { "name": "click_id", "type": "string", "nullable": false },
            { "name": "at", "type": "timestamp", "nullable": false },
            { "name": "button", "type": "string" },
            { "name": "screen", "type": "string", "path": "context.screen" },
            { "name": "latency_ms", "type": "integer" }
          ],
          "event_time": "at",
          "id": ["click_id"],
          "expectations": [
            { "name": "button_known", "column": "button", "check": "in", "values": ["buy", "back"], "action": "warn" },
            { "name": "fast", "column": "latency_ms", "check": "between", "min": 0, "max": 60000, "action": "drop" }
          ],
          "gold_outputs": ["clicks_daily"]
        }
        """;

    private readonly TempDirectory _temp = new("datasets");

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void BuiltIn_Names_AreWeblogsSensorsAndAccesslogs()
    {
        var catalog = DatasetCatalog.BuiltIn;
        Assert.Equal(["accesslogs", "sensors", "weblogs"], catalog.Names);
        Assert.All(catalog.Definitions, d => Assert.True(d.IsBuiltIn));
        Assert.All(catalog.Definitions, d => Assert.Equal("built-in", d.Source));
        Assert.Null(catalog.LakeFolder);
    }

    /// <summary>
    /// The built-in definitions check every non-nullable column with a not_null drop rule of their own, so <c>dataset show</c> lists
    /// them and silver adds none. Before, weblogs' status and sensors' device_type, unit and status were declared not nullable but
    /// reached silver as null.
    /// </summary>
    [Fact]
    public void BuiltIn_EveryNonNullableColumn_HasItsOwnNotNullDropRule()
    {
        Assert.All(DatasetCatalog.BuiltIn.Definitions, d => Assert.Empty(d.NotNullableRules(d.Expectations.Where(e => e.Enabled))));
        Assert.Equal(
        [
            "accesslogs: client_ip_present, timestamp_present, status_present, forwarded_for_present",
            "sensors: sensor_id_present, device_type_present, timestamp_present, value_present, unit_present, status_present",
            "weblogs: event_id_present, timestamp_present, page_url_present, tti_present, status_present",
        ], DatasetCatalog.BuiltIn.Definitions.Select(d =>
            d.Name + ": " + string.Join(", ", d.Expectations.Where(e => e is { Check: ExpectationCheck.NotNull, Action: ExpectationAction.Drop }).Select(e => e.Name))));
        // session_id was not nullable beside a not_null rule that only warns: it is kept when missing, so it is nullable.
        Assert.True(DatasetCatalog.BuiltIn.Get("weblogs").Column("session_id")!.Nullable);
    }

    [Fact]
    public void BuiltIn_Weblogs_HasTheProducerFieldsOfTheDesign()
    {
        var d = DatasetCatalog.BuiltIn.Get("weblogs");
        Assert.Equal(DatasetPayloadKind.Json, d.Payload);
        Assert.Null(d.TextFormat);
        Assert.Equal(
            ["event_id:string", "timestamp:timestamp", "page_url:string", "tti_ms:number", "ttar_ms:number", "status:integer", "session_id:string",
             "user_agent:string", "country:string", "attrs:object"],
            d.Columns.Select(c => c.Name + ":" + c.TypeName));
        Assert.True(d.Column("ttar_ms")!.Nullable);
        Assert.False(d.Column("tti_ms")!.Nullable);
        Assert.Equal("timestamp", d.EventTime);
        Assert.Equal(["event_id"], d.Id.Columns);
        Assert.Equal(["page_performance_daily", "page_metrics_1m", "page_metrics_5m", "page_sessions", "alerts"], d.GoldOutputs);
        var tti = Assert.Single(d.Expectations, e => e.Name == "tti_in_range");
        Assert.Equal((ExpectationCheck.Between, ExpectationAction.Drop, 0m, 600_000m, false, true), (tti.Check, tti.Action, tti.Min, tti.Max, tti.MinExclusive, tti.MaxExclusive));
        var window = Assert.Single(d.Expectations, e => e.Check == ExpectationCheck.WithinIngestWindow);
        Assert.False(window.Enabled);
        Assert.Equal((TimeSpan.FromDays(30), TimeSpan.FromMinutes(5)), (window.MaxAge, window.MaxFuture));
        Assert.Contains("\"name\": \"weblogs\"", d.Json, StringComparison.Ordinal);
    }

    [Fact]
    public void BuiltIn_Sensors_IdIsSensorAndTimestamp()
    {
        var d = DatasetCatalog.BuiltIn.Get("sensors");
        Assert.Equal(["sensor_id", "device_type", "timestamp", "value", "unit", "location", "status"], d.Columns.Select(c => c.Name));
        Assert.Equal(["sensor_id", "timestamp"], d.Id.Columns);
        Assert.Equal("sensor_id + timestamp", d.Id.ToString());
        Assert.Equal(["normal", "warning", "error", "critical"], Assert.Single(d.Expectations, e => e.Name == "status_known").Values);
        Assert.Equal(["sensor_metrics_1m", "sensor_metrics_5m", "sensor_sessions", "alerts"], d.GoldOutputs);
    }

    [Fact]
    public void BuiltIn_Accesslogs_TextParsedAsAccessLogIdBySourcePosition()
    {
        var d = DatasetCatalog.BuiltIn.Get("accesslogs");
        Assert.Equal(DatasetPayloadKind.Text, d.Payload);
        Assert.Equal(DatasetTextFormatKind.AccessLog, d.TextFormat!.Format);
        Assert.Equal(AccessLogColumns.Names, d.Columns.Select(c => c.Name));
        Assert.Equal(DatasetColumnType.StringList, d.Column("forwarded_for")!.Type);
        Assert.Equal(DatasetColumnType.Integer, d.Column("bytes")!.Type);
        Assert.True(d.Id.IsSourcePosition);
        Assert.Equal("accesslogs: text (access_log), 15 columns, id source position, event time timestamp", d.ToString());
    }

    [Fact]
    public async Task LoadAsync_NoDefinitionsFolder_BuiltInsOnly()
    {
        var catalog = await DatasetCatalog.LoadAsync(LakeStorage.Open(_temp.Combine("lake")));
        Assert.Equal(["accesslogs", "sensors", "weblogs"], catalog.Names);
        Assert.Equal(_temp.Combine("lake", "_lakehouse", "datasets"), catalog.LakeFolder);
    }

    [Fact]
    public async Task LoadAsync_LakeDefinition_AddedBesideTheBuiltIns()
    {
        var file = WriteDefinition("clicks.json", Clicks);
        File.WriteAllText(_temp.Combine("lake", "_lakehouse", "datasets", "README.md"), "not a definition");
        Directory.CreateDirectory(_temp.Combine("lake", "_lakehouse", "datasets", "old"));
        File.WriteAllText(_temp.Combine("lake", "_lakehouse", "datasets", "old", "broken.json"), "{");

        var catalog = await DatasetCatalog.LoadAsync(LakeStorage.Open(_temp.Combine("lake")));

        Assert.Equal(["accesslogs", "clicks", "sensors", "weblogs"], catalog.Names);
        Assert.True(catalog.TryGet("clicks", out var clicks));
        Assert.False(clicks.IsBuiltIn);
        Assert.Equal(file, clicks.Source);
        Assert.Equal("Button clicks from the mobile app.", clicks.Description);
        Assert.Equal("context.screen", clicks.Column("screen")!.Path);
        Assert.Equal(DatasetColumnType.Integer, clicks.Column("latency_ms")!.Type);
        Assert.True(clicks.Column("button")!.Nullable);
        Assert.Equal("at", clicks.EventTime);
        Assert.Equal(["buy", "back"], clicks.Expectations[0].Values);
        Assert.Equal((ExpectationAction.Drop, 60_000m), (clicks.Expectations[1].Action, clicks.Expectations[1].Max));
        Assert.Equal(["clicks_daily"], clicks.GoldOutputs);
        Assert.Equal(Clicks, clicks.Json);
    }

    [Fact]
    public async Task LoadAsync_MalformedJson_RefusedNamingTheFileAndWhere()
    {
        var file = WriteDefinition("clicks.json", "{\n  \"name\": \"clicks\",\n  \"payload\" \"json\"\n}");
        var e = await Assert.ThrowsAsync<LakehouseException>(() => DatasetCatalog.LoadAsync(LakeStorage.Open(_temp.Combine("lake"))));
        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Equal($"Dataset definition '{file}': the file is not valid JSON at line 3, column 13.", e.Message);
    }

    /// <summary>A definition file over 1 MiB is refused unread, naming its size (the catalog read any size whole before).</summary>
    [Fact]
    public async Task LoadAsync_DefinitionOverOneMebibyte_RefusedUnread()
    {
        var file = WriteDefinition("clicks.json", Clicks + new string(' ', 1 << 20));
        var e = await Assert.ThrowsAsync<LakehouseException>(() => DatasetCatalog.LoadAsync(LakeStorage.Open(_temp.Combine("lake"))));
        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Equal($"Dataset definition '{file}' holds {new FileInfo(file).Length:N0} bytes, more than the 1,048,576 a definition may have.", e.Message);
        WriteDefinition("clicks.json", Clicks + new string(' ', (1 << 20) - System.Text.Encoding.UTF8.GetByteCount(Clicks)));
        Assert.Contains((await DatasetCatalog.LoadAsync(LakeStorage.Open(_temp.Combine("lake")))).Definitions, d => d.Name == "clicks");
    }

    [Fact]
    public async Task LoadAsync_UnknownField_RefusedWithTheFieldAndASuggestion()
    {
        var file = WriteDefinition("clicks.json", Clicks.Replace("\"columns\"", "\"colums\"", StringComparison.Ordinal));
        var e = await Assert.ThrowsAsync<LakehouseException>(() => DatasetCatalog.LoadAsync(LakeStorage.Open(_temp.Combine("lake"))));
        Assert.Equal($"Dataset definition '{file}', field 'colums': is not a field of a dataset definition (did you mean 'columns'?).", e.Message);
    }

    [Fact]
    public async Task LoadAsync_BadColumnType_RefusedNamingTheColumnField()
    {
        var file = WriteDefinition("clicks.json", Clicks.Replace("\"type\": \"integer\"", "\"type\": \"int\"", StringComparison.Ordinal));
        var e = await Assert.ThrowsAsync<LakehouseException>(() => DatasetCatalog.LoadAsync(LakeStorage.Open(_temp.Combine("lake"))));
        Assert.Equal($"Dataset definition '{file}', field 'columns[4].type': 'int' is not a column type; use string, integer, number, boolean, timestamp, object or string[].", e.Message);
    }

    [Fact]
    public async Task LoadAsync_NameOfABuiltIn_Refused()
    {
        var file = WriteDefinition("weblogs.json", Clicks.Replace("\"clicks\"", "\"weblogs\"", StringComparison.Ordinal));
        var e = await Assert.ThrowsAsync<LakehouseException>(() => DatasetCatalog.LoadAsync(LakeStorage.Open(_temp.Combine("lake"))));
        Assert.Equal($"Dataset definition '{file}', field 'name': 'weblogs' is a built-in dataset and cannot be redefined; give this definition another name (and file name).", e.Message);
    }

    [Fact]
    public async Task LoadAsync_NameDiffersFromTheFileName_Refused()
    {
        var file = WriteDefinition("click.json", Clicks);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => DatasetCatalog.LoadAsync(LakeStorage.Open(_temp.Combine("lake"))));
        Assert.Equal($"Dataset definition '{file}', field 'name': 'clicks' differs from the file name; the definition of dataset 'clicks' is _lakehouse/datasets/clicks.json.", e.Message);
    }

    [Fact]
    public async Task LoadAsync_TwoBrokenFiles_BothNamedInOneError()
    {
        var a = WriteDefinition("a.json", "[]");
        var b = WriteDefinition("b.json", Clicks.Replace("\"clicks\"", "\"b\"", StringComparison.Ordinal).Replace("\"event_time\": \"at\"", "\"event_time\": \"button\"", StringComparison.Ordinal));
        WriteDefinition("clicks.json", Clicks);
        var e = await Assert.ThrowsAsync<LakehouseException>(() => DatasetCatalog.LoadAsync(LakeStorage.Open(_temp.Combine("lake"))));
        Assert.Equal(
            $"2 dataset definitions are not valid:\n  Dataset definition '{a}': a definition is a JSON object, not a list.\n" +
            $"  Dataset definition '{b}', field 'event_time': column 'button' is string; the event time must be a timestamp column.",
            e.Message);
    }

    [Fact]
    public void Get_UnknownName_ListsTheDatasetsAndHowToAddOne()
    {
        var e = Assert.Throws<LakehouseException>(() => DatasetCatalog.BuiltIn.Get("weblog"));
        Assert.Equal(LakehouseErrorReason.InvalidInput, e.Reason);
        Assert.Equal(
            "Unknown dataset 'weblog' (did you mean 'weblogs'?). The datasets are accesslogs, sensors and weblogs. To add one, write its definition " +
            "in the lake's _lakehouse/datasets folder (the format is in the README under \"Datasets\"; `lakehouse dataset show weblogs` prints an example).",
            e.Message);
    }

    [Fact]
    public async Task Get_UnknownNameInALake_SaysWhichFileToWrite()
    {
        var catalog = await DatasetCatalog.LoadAsync(LakeStorage.Open(_temp.Combine("lake")));
        var e = Assert.Throws<LakehouseException>(() => catalog.Get("orders"));
        Assert.Contains($"write its definition as {_temp.Combine("lake", "_lakehouse", "datasets", "orders.json")} (", e.Message, StringComparison.Ordinal);
        Assert.False(catalog.TryGet("orders", out _));
    }

    private string WriteDefinition(string fileName, string json)
    {
        var folder = _temp.Combine("lake", "_lakehouse", "datasets");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, fileName);
        File.WriteAllText(path, json);
        return path;
    }
}
