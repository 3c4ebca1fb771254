using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Lakehouse.Serve.Dashboard;

/// <summary>
/// The API's JSON: a table section is <c>{"table", "status" (ok | no_data | error), "version", "message", "rows": [{column: value}]}</c>.
/// Values keep their types: integers and decimals as JSON numbers, doubles as the shortest text that reads back to the same
/// double (NaN and ±infinity, which JSON lacks, as the strings "NaN", "Infinity", "-Infinity"), dates as <c>yyyy-MM-dd</c>,
/// timestamps as UTC ISO-8601 with <c>Z</c>, booleans and text as themselves.
/// </summary>
internal static class DashboardJson
{
    internal static byte[] Write(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    internal static void Section(Utf8JsonWriter writer, string name, TableSection section)
    {
        writer.WriteStartObject(name);
        writer.WriteString("table", section.Table.Label);
        writer.WriteString("status", section.Status switch
        {
            SectionStatus.Ok => "ok",
            SectionStatus.NoData => "no_data",
            _ => "error",
        });
        if (section.Version is { } version) writer.WriteNumber("version", version);
        else writer.WriteNull("version");
        if (section.Message is { } message) writer.WriteString("message", message);
        writer.WriteStartArray("rows");
        if (section.Rows is { } rows)
        {
            foreach (var row in rows.Rows)
            {
                writer.WriteStartObject();
                for (var i = 0; i < row.Length; i++)
                {
                    writer.WritePropertyName(rows.Columns[i]);
                    Value(writer, row[i], rows.Types[i]);
                }
                writer.WriteEndObject();
            }
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void Value(Utf8JsonWriter writer, object? value, string type)
    {
        switch (value)
        {
            case null:
                writer.WriteNullValue();
                break;
            case long l:
                writer.WriteNumberValue(l);
                break;
            case ulong u:
                writer.WriteNumberValue(u);
                break;
            case decimal m:
                writer.WriteNumberValue(m);
                break;
            case double d when double.IsFinite(d):
                writer.WriteNumberValue(d);
                break;
            case double d:
                writer.WriteStringValue(double.IsNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case string s:
                writer.WriteStringValue(s);
                break;
            case DateTime t when type == "DATE":
                writer.WriteStringValue(t.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
                break;
            case DateTime t:
                writer.WriteStringValue(t.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture));
                break;
            case byte[] bytes:
                writer.WriteBase64StringValue(bytes);
                break;
            default:
                writer.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
