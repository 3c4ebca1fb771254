using System.Text.Json;
using Lakehouse.Core;

namespace Lakehouse.Cli.Import;

/// <summary>
/// Makes the numbers of decimal columns reach DuckDB as the digits the input holds. DuckDB's JSON reader parses every number with
/// a fraction or an exponent into a double, also when the column is read as VARCHAR or JSON (3333333333.3333333333 becomes
/// 3333333333.3333335, 1E-5 becomes 1e-05), so a decimal column would store a rounded value or refuse an exact one. For an input
/// whose records hold such numbers under a decimal column, this writes a copy in which each of them is a JSON string of its
/// original text, byte for byte otherwise, so lines and records stay where they were; <see cref="Lakehouse.Delta.Write.StrictCast"/>
/// then checks and converts that text exactly. Whole numbers need no copy: DuckDB keeps them exact (int64, uint64, or the text
/// of a larger one).
/// </summary>
internal static class JsonNumberText
{
    private const int BufferSize = 1 << 20;

    /// <summary>
    /// Copies <paramref name="input"/> (a JSON input of <paramref name="layout"/>) to <paramref name="copy"/>, quoting the numbers
    /// that are the values of the record keys in <paramref name="keys"/>. Throws InvalidInput naming the line for input that is
    /// not JSON, which the scan left to the reader.
    /// </summary>
    internal static void Copy(ImportInput input, JsonLayout layout, IReadOnlySet<string> keys, string copy, CancellationToken cancellationToken)
    {
        using var source = new FileStream(input.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
        using var target = new FileStream(copy, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferSize);
        // A record's keys are one level inside the record: the record is level 0 in NDJSON and level 1 in a JSON array.
        var keyDepth = layout == JsonLayout.Array ? 2 : 1;
        var options = new JsonReaderOptions { AllowMultipleValues = layout == JsonLayout.Lines, CommentHandling = JsonCommentHandling.Disallow };
        var state = new JsonReaderState(options);
        var buffer = new byte[BufferSize];
        int length = 0, start = 0;
        var final = false;
        var quoteNext = false;
        var first = true;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!final)
            {
                var n = source.Read(buffer, length, buffer.Length - length);
                if (n == 0) final = true;
                length += n;
            }
            if (first)
            {
                // The scan skips a UTF-8 byte order mark; the reader would refuse it. It is copied as it is.
                first = false;
                if (length >= 3 && buffer[0] == 0xEF && buffer[1] == 0xBB && buffer[2] == 0xBF) start = 3;
            }
            var reader = new Utf8JsonReader(buffer.AsSpan(start, length - start), final, state);
            var copied = 0; // bytes of buffer[start..] already written
            try
            {
                while (reader.Read())
                {
                    if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == keyDepth)
                    {
                        quoteNext = keys.Contains(reader.GetString()!);
                        continue;
                    }
                    if (quoteNext && reader.TokenType == JsonTokenType.Number)
                    {
                        var at = (int)reader.TokenStartIndex;
                        target.Write(buffer, start + copied, at - copied);
                        target.WriteByte((byte)'"');
                        target.Write(reader.ValueSpan);
                        target.WriteByte((byte)'"');
                        copied = at + reader.ValueSpan.Length;
                    }
                    quoteNext = false;
                }
            }
            catch (JsonException e)
            {
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"{input.Display} line {1 + (e.LineNumber ?? 0)} is not valid JSON: {Reason(e)}; nothing was imported.", e);
            }
            var consumed = (int)reader.BytesConsumed;
            target.Write(buffer, start + copied, consumed - copied);
            state = reader.CurrentState;
            if (final) break;
            // Keep the bytes of the unfinished token; grow the buffer when one token fills it.
            var rest = length - start - consumed;
            if (rest == buffer.Length) Array.Resize(ref buffer, buffer.Length * 2);
            Buffer.BlockCopy(buffer, start + consumed, buffer, 0, rest);
            length = rest;
            start = 0;
        }
    }

    /// <summary>The reader's reason without the position it appends (the message names the line instead).</summary>
    private static string Reason(JsonException e)
    {
        var text = e.Message;
        var cut = text.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut >= 0 ? text[..cut] : text).TrimEnd('.', ' ');
    }
}
