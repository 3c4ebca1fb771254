using System.Text.Json;
using Lakehouse.Datasets;
using Lakehouse.Engine;

namespace Lakehouse.Silver.Parsing;

/// <summary>
/// Parses text payloads (one line per event) with the dataset's text format, in C#: each bronze row is read, parsed by the
/// definition's <see cref="ITextLineParser"/> and appended to a table with the same columns the JSON path yields (the bronze
/// columns, the definition's typed columns and <c>parse_violations</c>).
/// </summary>
internal static class TextPayloads
{
    private static readonly string[] BronzeColumns = ["payload", "source_kind", "source", "source_partition", "source_offset", "source_line", SilverColumns.IngestTime, "ingest_date", SilverColumns.BronzePosition];

    internal static void Parse(DuckEngine engine, DuckConnection reader, DatasetDefinition definition, string source, string target, CancellationToken cancellationToken)
    {
        var parser = TextLineParsers.For(definition);
        var columns = definition.Columns;
        var staged = target + "_lines";
        using var writer = engine.Lease();
        var w = writer.Connection;
        w.Execute(
            $"CREATE TABLE {staged} (payload BLOB, source_kind VARCHAR, source VARCHAR, source_partition VARCHAR, source_offset BIGINT, source_line BIGINT, " +
            $"{SilverColumns.IngestTime} TIMESTAMPTZ, ingest_date DATE, {SilverColumns.BronzePosition} VARCHAR, " +
            string.Join(", ", columns.Select(c => $"{SqlText.Identifier(c.Name)} {(c.Type == DatasetColumnType.StringList ? "VARCHAR" : SilverColumns.DuckType(c.Type))}")) +
            ", parse_rule VARCHAR, parse_message VARCHAR)", cancellationToken);
        try
        {
            var values = new object?[columns.Count];
            using (var appender = w.CreateAppender(staged))
            using (var rows = reader.Query($"SELECT {string.Join(", ", BronzeColumns)} FROM {source}", cancellationToken))
            {
                while (rows.Read())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var payload = rows.GetBytes(0);
                    appender.AppendBlob(payload);
                    for (var i = 1; i < BronzeColumns.Length; i++) appender.Append(rows.GetValue(i));
                    string? rule = null, message = null;
                    if (payload.Length > SilverRules.MaxPayloadBytes)
                    {
                        (rule, message) = (SilverRules.TooLarge, $"the payload has {payload.Length} bytes, more than the limit of {SilverRules.MaxPayloadBytes} (1 MiB)");
                        Array.Clear(values);
                    }
                    else if (!parser.TryParse(payload, values, out var error))
                    {
                        rule = error!.StartsWith("not valid UTF-8", StringComparison.Ordinal) ? SilverRules.InvalidUtf8 : SilverRules.Unparsable;
                        message = error;
                    }
                    for (var i = 0; i < columns.Count; i++)
                        appender.Append(values[i] is string[] list ? JsonSerializer.Serialize(list) : values[i]);
                    appender.Append(rule).Append(message).EndRow();
                }
                appender.Close();
            }
            var typed = string.Join(", ", columns.Select(c => c.Type == DatasetColumnType.StringList
                ? $"CAST(CAST({SqlText.Identifier(c.Name)} AS JSON) AS VARCHAR[]) AS {SqlText.Identifier(c.Name)}"
                : SqlText.Identifier(c.Name)));
            w.Execute(
                $"CREATE TABLE {target} AS SELECT {string.Join(", ", BronzeColumns)}, {typed}, " +
                "CASE WHEN parse_rule IS NULL THEN CAST([] AS STRUCT(rule VARCHAR, message VARCHAR)[]) ELSE [{'rule': parse_rule, 'message': parse_message}] END AS parse_violations " +
                $"FROM {staged}", cancellationToken);
        }
        finally
        {
            w.Execute($"DROP TABLE IF EXISTS {staged}", CancellationToken.None);
        }
    }
}
