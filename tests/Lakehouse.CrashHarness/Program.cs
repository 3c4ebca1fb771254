using System.Globalization;
using Lakehouse.CrashHarness;

// dotnet run --project tests/Lakehouse.CrashHarness -- --layer bronze|silver|gold|all --kills N --seed S [--events N] [--file-events N] [--work DIR] [--keep]
var layers = new List<string>();
int kills = 50, seed = 1, events = 1000, fileEvents = 100;
string? work = null;
var keep = false;
for (var i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--layer":
            var layer = Next();
            layers.AddRange(layer == "all" ? ["bronze", "silver", "gold"] : [layer]);
            break;
        case "--kills": kills = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--events": events = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--file-events": fileEvents = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--work": work = Next(); break;
        case "--keep": keep = true; break;
        default:
            await Console.Error.WriteLineAsync("usage: Lakehouse.CrashHarness --layer bronze|silver|gold|all --kills N --seed S [--events N] [--file-events N] [--work DIR] [--keep]");
            return 2;
    }
}
var options = new CrashHarnessOptions
{
    Layers = layers.Count > 0 ? layers : ["bronze", "silver", "gold"],
    KillsPerLayer = kills,
    Seed = seed,
    EventsPerRound = events,
    EventsPerFile = fileEvents,
    WorkDirectory = work,
    Keep = keep,
    Log = Console.Out,
};
Console.WriteLine($"crash harness: layers {string.Join(",", options.Layers)}, {kills} kills each, seed {seed}, cli {LakehouseChild.CliDll}");
var report = await CrashHarness.RunAsync(options);
Console.Write(CrashReportText.Format(report));
return report.Ok ? 0 : 1;
