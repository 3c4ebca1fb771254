using System.Text;

namespace Lakehouse.Preprocessing;

/// <summary>One record of a CSV file: its 1-based line number, its fields, and the 1-based character column where each starts.</summary>
internal sealed record CsvRecord(int Line, IReadOnlyList<string> Fields, IReadOnlyList<int> Columns);

/// <summary>
/// The small RFC 4180 reader the reference tables need: comma-separated fields, double quotes around a field that holds a
/// comma or a quote (a quote inside written twice), LF or CRLF line ends, a UTF-8 byte order mark skipped, blank lines skipped.
/// A quoted field cannot span lines. Errors name the source, line and column.
/// </summary>
internal static class Csv
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Decodes and splits <paramref name="csv"/>; a <see cref="FormatException"/> names the line and column of a problem.</summary>
    internal static List<CsvRecord> Read(ReadOnlySpan<byte> csv)
    {
        if (csv.StartsWith("\uFEFF"u8)) csv = csv[3..];
        string text;
        try
        {
            text = StrictUtf8.GetString(csv);
        }
        catch (DecoderFallbackException e)
        {
            var index = Math.Clamp(e.Index, 0, csv.Length);
            var before = csv[..index];
            var lineStart = before.LastIndexOf((byte)'\n') + 1;
            throw new FormatException($"line {before.Count((byte)'\n') + 1}, column {index - lineStart + 1}: not valid UTF-8");
        }

        var records = new List<CsvRecord>();
        var line = 0;
        foreach (var range in text.AsSpan().Split('\n'))
        {
            line++;
            var raw = text.AsSpan()[range];
            if (raw.EndsWith('\r')) raw = raw[..^1];
            if (raw.IsWhiteSpace()) continue;
            records.Add(Split(raw, line));
        }
        return records;
    }

    private static CsvRecord Split(ReadOnlySpan<char> raw, int line)
    {
        var fields = new List<string>();
        var columns = new List<int>();
        var field = new StringBuilder();
        var i = 0;
        while (true)
        {
            columns.Add(i + 1);
            field.Clear();
            if (i < raw.Length && raw[i] == '"')
            {
                var open = i;
                i++;
                while (true)
                {
                    if (i >= raw.Length) throw new FormatException($"line {line}, column {open + 1}: a quoted field is not closed on its line");
                    if (raw[i] == '"')
                    {
                        if (i + 1 < raw.Length && raw[i + 1] == '"')
                        {
                            field.Append('"');
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    field.Append(raw[i++]);
                }
                if (i < raw.Length && raw[i] != ',')
                    throw new FormatException($"line {line}, column {i + 1}: a quoted field must end at a comma or the end of the line");
            }
            else
            {
                var end = raw[i..].IndexOf(',');
                var value = end < 0 ? raw[i..] : raw.Slice(i, end);
                var quote = value.IndexOf('"');
                if (quote >= 0) throw new FormatException($"line {line}, column {i + quote + 1}: a quote inside an unquoted field (quote the whole field and double the quote)");
                field.Append(value);
                i += value.Length;
            }
            fields.Add(field.ToString());
            if (i >= raw.Length) break;
            i++; // the comma
        }
        return new CsvRecord(line, fields, columns);
    }
}
