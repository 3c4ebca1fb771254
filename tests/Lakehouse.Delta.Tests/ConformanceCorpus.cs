using System.Text.Json;
using Lakehouse.Testing;

namespace Lakehouse.Delta.Tests;

/// <summary>The shared Delta conformance corpus (../shared/conformance/delta) and its expectations.json.</summary>
internal static class ConformanceCorpus
{
    private static readonly Lazy<List<JsonElement>> Entries = new(() =>
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(TestPaths.DeltaConformance, "expectations.json")));
        return [.. doc.RootElement.EnumerateArray().Select(e => e.Clone())];
    });

    internal static IReadOnlyList<JsonElement> Tables => Entries.Value;

    internal static string Root(string id) => Path.Combine(TestPaths.DeltaConformance, id, "delta");

    internal static JsonElement Entry(string id) => Tables.Single(t => t.GetProperty("id").GetString() == id);

    /// <summary>(table id, version, expected row count) for every listed version with a row count.</summary>
    internal static IEnumerable<object[]> RowCounts() =>
        from t in Tables
        from e in t.GetProperty("expected_rows").EnumerateArray()
        where e.GetProperty("rows").ValueKind == JsonValueKind.Number
        select new object[] { t.GetProperty("id").GetString()!, e.GetProperty("version").GetInt64(), e.GetProperty("rows").GetInt64() };

    /// <summary>(table id, version, expected folder) for every version with reference parquet.</summary>
    internal static IEnumerable<object[]> ExpectedData()
    {
        foreach (var t in Tables)
        {
            var id = t.GetProperty("id").GetString()!;
            var expectedRoot = Path.Combine(TestPaths.DeltaConformance, id, "expected");
            if (!Directory.Exists(expectedRoot)) continue;
            var latest = t.GetProperty("latest_version").GetInt64();
            foreach (var dir in Directory.GetDirectories(expectedRoot))
            {
                var name = Path.GetFileName(dir);
                var version = name == "latest" ? latest : long.Parse(name[1..], System.Globalization.CultureInfo.InvariantCulture);
                var content = Directory.Exists(Path.Combine(dir, "table_content")) ? Path.Combine(dir, "table_content") : dir;
                if (Directory.GetFiles(content, "*.parquet").Length == 0) continue;
                yield return [id, version, Path.GetRelativePath(TestPaths.DeltaConformance, content)];
            }
        }
    }

    /// <summary>(table id, expected error phrase) for the tables a reader must refuse.</summary>
    internal static IEnumerable<object[]> MustRefuse() =>
        from t in Tables
        where t.GetProperty("expected_error").ValueKind == JsonValueKind.String
        select new object[] { t.GetProperty("id").GetString()!, t.GetProperty("expected_error").GetString()! };
}
