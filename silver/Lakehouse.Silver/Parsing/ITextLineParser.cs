using Lakehouse.Core;
using Lakehouse.Datasets;

namespace Lakehouse.Silver.Parsing;

/// <summary>
/// Parses one text line (a bronze payload of a text dataset, UTF-8 bytes) into the dataset's columns. Implementations are
/// immutable after construction, so one instance serves any number of threads.
/// </summary>
internal interface ITextLineParser
{
    /// <summary>
    /// Parses <paramref name="line"/> into <paramref name="values"/> (one per column of the definition, in its order), each the
    /// CLR value of its column's type: <see cref="string"/>, <see cref="long"/> (integer), <see cref="double"/> (number),
    /// <see cref="bool"/>, <see cref="DateTime"/> (UTC, Kind Utc, for timestamp), <see cref="string"/> (object: JSON text),
    /// <c>string[]</c> (string[]), or null. A trailing CR/LF is ignored.
    /// </summary>
    /// <returns>
    /// True when the line parsed; false with <paramref name="error"/> naming the problem and where (field, byte offset counted
    /// from 0), e.g. <c>access log: the timestamp '[10/Oct/2000:13:55:36 -0700' has no closing ']' (byte 42)</c>. On false the
    /// values are all null. Bad input never throws.
    /// </returns>
    /// <exception cref="ArgumentException"><paramref name="values"/> does not have one slot per column (a caller's bug).</exception>
    bool TryParse(ReadOnlySpan<byte> line, object?[] values, out string? error);
}

/// <summary>The text line parser of a dataset definition.</summary>
internal static class TextLineParsers
{
    /// <summary>
    /// The parser of <paramref name="definition"/>'s text format: <see cref="AccessLogParser"/> for <c>access_log</c>,
    /// <see cref="RegexLineParser"/> for <c>regex</c>. Build it once per run: the regex is compiled here.
    /// </summary>
    /// <exception cref="LakehouseException">
    /// (InvalidInput) The definition is a JSON dataset, or its parse settings cannot be used: a column type the access_log field
    /// cannot have, a regex column without a group, a timestamp_format with an unknown directive.
    /// </exception>
    internal static ITextLineParser For(DatasetDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var format = definition.TextFormat
            ?? throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"Dataset '{definition.Name}' has JSON events; only text datasets (payload text) have a line parser.");
        return format.Format switch
        {
            DatasetTextFormatKind.AccessLog => new AccessLogParser(definition.Name, definition.Columns),
            DatasetTextFormatKind.Regex => new RegexLineParser(definition.Name, definition.Columns,
                format.Pattern ?? throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Dataset '{definition.Name}': parse format regex needs a pattern."),
                format.TimestampFormat),
            _ => throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"Dataset '{definition.Name}': the text format {format.FormatName} has no parser."),
        };
    }
}
