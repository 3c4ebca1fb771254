using Lakehouse.Datasets;
using Lakehouse.Engine;
using Lakehouse.Preprocessing;

namespace Lakehouse.Silver;

/// <summary>
/// Applies the shared preprocessing (Lakehouse.Preprocessing) to a staged batch: every string column trimmed, and the value rules a
/// column asks for (url, user_agent, country, unit) computed in C# once per distinct value and joined back. The same code serves
/// incremental runs, stream micro-batches and reruns, so every path cleans alike.
/// </summary>
internal sealed class Preprocessor(DatasetDefinition definition, PageReference pages)
{
    /// <summary>The columns preprocessing adds after the definition's own (names and DuckDB types).</summary>
    internal static IEnumerable<SilverColumn> AddedColumns(DatasetDefinition definition)
    {
        foreach (var c in definition.Columns)
        {
            switch (c.Preprocess)
            {
                case ColumnPreprocess.Url:
                    yield return new(c.Name + "_raw", "VARCHAR");
                    yield return new(c.Name + "_host", "VARCHAR");
                    yield return new(c.Name + "_path", "VARCHAR");
                    yield return new("site", "VARCHAR");
                    yield return new("section", "VARCHAR");
                    break;
                case ColumnPreprocess.UserAgent:
                    yield return new("browser_family", "VARCHAR");
                    yield return new("device_class", "VARCHAR");
                    yield return new("is_bot", "BOOLEAN");
                    break;
                case ColumnPreprocess.Country:
                    yield return new(c.Name + "_raw", "VARCHAR");
                    break;
                case ColumnPreprocess.Unit:
                    yield return new(c.Converts! + "_raw", "DOUBLE");
                    yield return new(c.Name + "_raw", "VARCHAR");
                    break;
            }
        }
    }

    /// <summary>
    /// Builds the lookup tables of <paramref name="parsed"/>'s distinct values (named <paramref name="lookupPrefix"/> + column) and
    /// returns a SELECT over <paramref name="parsed"/> (aliased p) with every column preprocessed and the added columns.
    /// </summary>
    internal string Apply(DuckConnection connection, string parsed, string lookupPrefix, Action<string> created, CancellationToken cancellationToken)
    {
        var select = new List<string> { "p.* EXCLUDE (" + string.Join(", ", definition.Columns.Select(c => SqlText.Identifier(c.Name))) + ")" };
        var joins = new List<string>();
        foreach (var c in definition.Columns)
        {
            var q = SqlText.Identifier(c.Name);
            var raw = $"p.{q}";
            var clean = c.Type == DatasetColumnType.String ? TextCleaning.SqlClean(raw) : raw;
            if (c.Preprocess == ColumnPreprocess.None)
            {
                if (definition.Columns.Any(u => u.Converts == c.Name)) continue; // written with its unit
                select.Add($"{clean} AS {q}");
                continue;
            }
            var lookup = lookupPrefix + c.Name;
            created(lookup);
            var alias = "l_" + c.Name;
            joins.Add($"LEFT JOIN {lookup} AS {alias} ON {alias}.k = {clean}");
            var keys = new List<string>();
            using (var r = connection.Query($"SELECT DISTINCT {TextCleaning.SqlClean(q)} FROM {parsed} WHERE {q} IS NOT NULL", cancellationToken))
            {
                while (r.Read())
                {
                    if (!r.IsNull(0)) keys.Add(r.GetString(0));
                }
            }
            switch (c.Preprocess)
            {
                case ColumnPreprocess.Url:
                    connection.Execute($"CREATE TABLE {lookup} (k VARCHAR, url VARCHAR, host VARCHAR, path VARCHAR, site VARCHAR, section VARCHAR)", cancellationToken);
                    Fill(connection, lookup, keys, k =>
                    {
                        var n = UrlNormalizer.Normalize(k);
                        var page = n is null ? null : pages.Lookup(n.Host, n.Path);
                        return [k, n?.Url, n?.Host, n?.Path, page?.Site, page?.Section];
                    });
                    select.Add($"{alias}.url AS {q}");
                    select.Add($"{raw} AS {SqlText.Identifier(c.Name + "_raw")}");
                    select.Add($"{alias}.host AS {SqlText.Identifier(c.Name + "_host")}");
                    select.Add($"{alias}.path AS {SqlText.Identifier(c.Name + "_path")}");
                    select.Add($"{alias}.site AS site");
                    select.Add($"{alias}.section AS section");
                    break;
                case ColumnPreprocess.UserAgent:
                    connection.Execute($"CREATE TABLE {lookup} (k VARCHAR, family VARCHAR, device VARCHAR, bot BOOLEAN)", cancellationToken);
                    Fill(connection, lookup, keys, k =>
                    {
                        var ua = UserAgents.Classify(k);
                        return [k, ua.BrowserFamily, ua.DeviceClass, ua.IsBot];
                    });
                    var none = UserAgents.Classify(null);
                    select.Add($"{clean} AS {q}");
                    select.Add($"coalesce({alias}.family, {SqlText.Literal(none.BrowserFamily)}) AS browser_family");
                    select.Add($"coalesce({alias}.device, {SqlText.Literal(none.DeviceClass)}) AS device_class");
                    select.Add($"coalesce({alias}.bot, {(none.IsBot ? "true" : "false")}) AS is_bot");
                    break;
                case ColumnPreprocess.Country:
                    connection.Execute($"CREATE TABLE {lookup} (k VARCHAR, iso VARCHAR)", cancellationToken);
                    Fill(connection, lookup, keys, k => [k, CountryCodes.Normalize(k)]);
                    select.Add($"{alias}.iso AS {q}");
                    select.Add($"{raw} AS {SqlText.Identifier(c.Name + "_raw")}");
                    break;
                case ColumnPreprocess.Unit:
                    connection.Execute($"CREATE TABLE {lookup} (k VARCHAR, unit VARCHAR, scale DOUBLE, \"offset\" DOUBLE)", cancellationToken);
                    Fill(connection, lookup, keys, k => Units.Normalize(k) is { } u ? [k, u.Unit, u.Scale, u.Offset] : [k, null, null, null]);
                    var value = SqlText.Identifier(c.Converts!);
                    select.Add($"CASE WHEN {alias}.scale IS NULL THEN p.{value} ELSE p.{value} * {alias}.scale + {alias}.\"offset\" END AS {value}");
                    select.Add($"p.{value} AS {SqlText.Identifier(c.Converts! + "_raw")}");
                    select.Add($"coalesce({alias}.unit, {clean}) AS {q}");
                    select.Add($"{raw} AS {SqlText.Identifier(c.Name + "_raw")}");
                    break;
            }
        }
        return $"SELECT {string.Join(", ", select)} FROM {parsed} AS p {string.Join(" ", joins)}";
    }

    private static void Fill(DuckConnection connection, string table, List<string> keys, Func<string, object?[]> map)
    {
        using var appender = connection.CreateAppender(table);
        foreach (var k in keys) appender.AppendRow(map(k));
        appender.Close();
    }
}
