using System.Collections;
using System.Reflection;
using System.Text.Json;
using Lakehouse.Datasets.Simulation;

namespace Lakehouse.Preprocessing.Tests;

/// <summary>
/// The simulator's own vocabulary and page catalog (internal to Lakehouse.Datasets, read by reflection so the tests follow the
/// source of truth instead of a copy) and the distinct values of its events.
/// </summary>
internal static class Simulator
{
    private static readonly Assembly Datasets = typeof(EventSimulator).Assembly;

    /// <summary>Every user agent the simulator sends, with the device class and bot flag it means.</summary>
    internal static IReadOnlyList<(string Text, string Device, bool IsBot)> UserAgents { get; } =
        [.. Items("Lakehouse.Datasets.Simulation.Vocabulary", "UserAgents").Select(a => (Get<string>(a, "Text"), Get<string>(a, "Device"), Get<bool>(a, "IsBot")))];

    /// <summary>Every country the simulator sends: alpha-2 and alpha-3.</summary>
    internal static IReadOnlyList<(string Alpha2, string Alpha3)> Countries { get; } =
        [.. Items("Lakehouse.Datasets.Simulation.Vocabulary", "Countries").Select(c => (Get<string>(c, "Alpha2"), Get<string>(c, "Alpha3")))];

    /// <summary>Every page of the catalog: host, path, section.</summary>
    internal static IReadOnlyList<(string Host, string Path, string Section, string Canonical)> Pages { get; } = LoadPages();

    /// <summary>The string values of <paramref name="field"/> in <paramref name="events"/> weblog events (seed 42), distinct.</summary>
    internal static IReadOnlyList<string> DistinctWebLogValues(string field, int events)
    {
        var values = new HashSet<string>(StringComparer.Ordinal);
        foreach (var e in EventSimulator.Generate("weblogs", new SimulatorOptions { Events = events }))
        {
            using var doc = JsonDocument.Parse(e.Payload);
            if (doc.RootElement.TryGetProperty(field, out var value) && value.ValueKind == JsonValueKind.String) values.Add(value.GetString()!);
        }
        return [.. values.Order(StringComparer.Ordinal)];
    }

    private static IReadOnlyList<(string, string, string, string)> LoadPages()
    {
        var type = Datasets.GetType("Lakehouse.Datasets.Simulation.PageCatalog", throwOnError: true)!;
        var catalog = type.GetProperty("Instance", BindingFlags.Static | BindingFlags.NonPublic)!.GetValue(null)!;
        var pages = (IEnumerable)type.GetProperty("Pages", BindingFlags.Instance | BindingFlags.NonPublic)!.GetValue(catalog)!;
        return [.. pages.Cast<object>().Select(p => (Get<string>(p, "Host"), Get<string>(p, "Path"), Get<string>(p, "Section"), Get<string>(p, "Canonical")))];
    }

    private static IEnumerable<object> Items(string typeName, string property)
    {
        var type = Datasets.GetType(typeName, throwOnError: true)!;
        return ((IEnumerable)type.GetProperty(property, BindingFlags.Static | BindingFlags.NonPublic)!.GetValue(null)!).Cast<object>();
    }

    private static T Get<T>(object item, string property) =>
        (T)item.GetType().GetProperty(property, BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)!.GetValue(item)!;
}
