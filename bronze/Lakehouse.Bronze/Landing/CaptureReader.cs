using System.Globalization;
using System.Text.RegularExpressions;
using Avro;
using Avro.File;
using Avro.Generic;
using Avro.IO;

namespace Lakehouse.Bronze.Landing;

/// <summary>Receives one captured event: its body (every byte) and where it was in its event hub.</summary>
/// <param name="body">The event's body; empty when the record's Body is null.</param>
/// <param name="sequenceNumber">The event's sequence number in its partition (the Event Hubs position).</param>
/// <param name="record">The 1-based number of the record in the file.</param>
/// <param name="enqueuedTime">When Event Hubs accepted it (EnqueuedTimeUtc), null when that text is not a time.</param>
/// <param name="partitionKey">The partition key the sender gave (system property <c>x-opt-partition-key</c>), or null.</param>
internal delegate void CaptureEventHandler(ReadOnlySpan<byte> body, long sequenceNumber, long record, DateTimeOffset? enqueuedTime, string? partitionKey);

/// <summary>
/// Reads Event Hubs Capture files: Avro object container files (codecs null, deflate, snappy, zstandard) of records
/// <c>Microsoft.ServiceBus.Messaging.EventData { SequenceNumber, Offset, EnqueuedTimeUtc, SystemProperties, Properties, Body }</c>.
/// </summary>
internal static partial class CaptureReader
{
    /// <summary>The fields a Capture record must have.</summary>
    private static readonly string[] RequiredFields = ["SequenceNumber", "EnqueuedTimeUtc", "Body"];

    /// <summary>
    /// Calls <paramref name="handler"/> for every record of <paramref name="stream"/> (an Avro container file) in file order and
    /// returns how many there were. Throws <see cref="InvalidDataException"/> naming what is wrong when the stream is not an Avro
    /// container file, is not a Capture file, uses an unknown codec, or is damaged (a snappy checksum, a truncated block), and
    /// before reading anything when a block's size is negative, past the end of the file or over
    /// <see cref="CaptureContainer.MaxBlockBytes"/> (<see cref="CaptureContainer.Check"/>). A block that decompresses to more than
    /// that, or a bytes or string value (a Body) declaring more than <see cref="RawEvents.MaxEventBytes"/>, is refused when it is
    /// met, before it is allocated. <paramref name="stream"/> must be seekable (a file).
    /// </summary>
    internal static long Read(Stream stream, CaptureEventHandler handler, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(handler);
        AvroCodecs.EnsureRegistered();
        var blocks = CaptureContainer.Check(stream);
        IFileReader<GenericRecord> reader;
        BoundedReader? datums = null;
        try
        {
            reader = DataFileReader<GenericRecord>.OpenReader(stream, null,
                (writer, readerSchema) => new GenericReader<GenericRecord>(datums = new BoundedReader(writer, readerSchema)), leaveOpen: true);
        }
        catch (Exception e) when (e is AvroException or AvroRuntimeException or IOException or EndOfStreamException)
        {
            throw new InvalidDataException($"it is not an Avro object container file ({e.Message.TrimEnd('.', '!')})", e);
        }
        using (reader)
        {
            var schema = reader.GetSchema();
            if (schema is not RecordSchema record || RequiredFields.Any(f => !record.Contains(f)))
                throw new InvalidDataException($"it is an Avro file but not an Event Hubs Capture file: its records have no {MissingField(schema)} field");
            // A Body of another type (a string) was read as no bytes: every event landed empty, with exit 0.
            if (!IsBytes(record["Body"].Schema))
                throw new InvalidDataException($"it is an Avro file but not an Event Hubs Capture file: its Body is {record["Body"].Schema}, not bytes (or null and bytes)");
            long count = 0;
            try
            {
                while (reader.HasNext())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var r = reader.Next();
                    count++;
                    // Bytes or null: the schema was checked above (IsBytes).
                    var body = r["Body"] as byte[] ?? [];
                    var sequence = Convert.ToInt64(r["SequenceNumber"], CultureInfo.InvariantCulture);
                    handler(body, sequence, count, EnqueuedTime(r["EnqueuedTimeUtc"] as string), PartitionKey(r));
                }
            }
            catch (Exception e) when (e is AvroException or AvroRuntimeException or EndOfStreamException or InvalidCastException or FormatException)
            {
                if ((datums?.Describe(e) ?? CodecRefusal(e)) is { } refusal) throw new InvalidDataException($"{Where(blocks, count + 1)} cannot be read: {refusal}", e);
                throw new InvalidDataException($"{Where(blocks, count + 1)} cannot be read ({e.Message.TrimEnd('.', '!')}): the file is damaged or truncated", e);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"{Where(blocks, count + 1)} cannot be read: {e.Message}", e);
            }
            return count;
        }
    }

    /// <summary>Whether a Body of <paramref name="schema"/> holds bytes: <c>bytes</c>, or a union of <c>bytes</c> and <c>null</c> (as Capture writes it).</summary>
    private static bool IsBytes(Schema schema) => schema.Tag == Schema.Type.Bytes ||
        (schema is UnionSchema union && union.Schemas.Any(s => s.Tag == Schema.Type.Bytes) && union.Schemas.All(s => s.Tag is Schema.Type.Bytes or Schema.Type.Null));

    /// <summary>A record and the block that holds it: <c>record 2 (block 1, byte 1234)</c>.</summary>
    private static string Where(IReadOnlyList<CaptureBlock> blocks, long record) =>
        CaptureContainer.BlockOf(blocks, record) is { } block
            ? string.Create(CultureInfo.InvariantCulture, $"record {record} (block {block.Number}, byte {block.At})")
            : string.Create(CultureInfo.InvariantCulture, $"record {record}");

    /// <summary>
    /// The partition of a Capture file from its path, which Capture names
    /// <c>{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}</c> by default: the folder before the
    /// year. Null when the path does not end in that pattern (a renamed file).
    /// </summary>
    internal static string? PartitionOf(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var match = CapturePath().Match(path);
        return match.Success ? match.Groups["partition"].Value : null;
    }

    /// <summary>EnqueuedTimeUtc as Capture writes it (<c>M/d/yyyy h:mm:ss tt</c>, UTC), or ISO 8601; null when neither.</summary>
    internal static DateTimeOffset? EnqueuedTime(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        const DateTimeStyles utc = DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal;
        if (DateTime.TryParseExact(text, ["M/d/yyyy h:mm:ss tt", "M/d/yyyy H:mm:ss"], CultureInfo.InvariantCulture, utc, out var capture))
            return new DateTimeOffset(capture, TimeSpan.Zero);
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, utc, out var iso) ? iso : null;
    }

    /// <summary>
    /// What one of our codecs (<see cref="AvroCodecs"/>) said when it refused a block: Apache.Avro wraps the codec's
    /// <see cref="InvalidDataException"/> into the text of its own exception, stack and all, and keeps no inner exception.
    /// </summary>
    private static string? CodecRefusal(Exception e)
    {
        const string marker = "System.IO.InvalidDataException: ";
        var at = e.Message.LastIndexOf(marker, StringComparison.Ordinal);
        if (at < 0) return null;
        var text = e.Message[(at + marker.Length)..];
        var end = text.IndexOfAny(['\r', '\n']);
        return (end < 0 ? text : text[..end]).TrimEnd('.');
    }

    private static string? PartitionKey(GenericRecord record)
    {
        if (!record.Schema.Contains("SystemProperties") || record["SystemProperties"] is not IDictionary<string, object> properties) return null;
        return properties.TryGetValue("x-opt-partition-key", out var key) ? key as string : null;
    }

    private static string MissingField(Schema schema) =>
        schema is RecordSchema record ? RequiredFields.First(f => !record.Contains(f)) : RequiredFields[0] + " (they are not records)";

    /// <summary>
    /// Apache.Avro's generic datum reader with bytes and string values bounded by <see cref="RawEvents.MaxEventBytes"/> (32 MiB)
    /// before they are allocated (the library allocates whatever length a value declares). The refusal is kept for the caller,
    /// since the library rewraps what is thrown into its own exception's text.
    /// </summary>
    private sealed class BoundedReader(Schema writerSchema, Schema readerSchema) : DefaultReader(writerSchema, readerSchema)
    {
        /// <summary>Why the last value was refused, or null.</summary>
        internal string? Refusal { get; private set; }

        /// <summary>The refusal said of the field the library names in <paramref name="e"/> ("its Body declares …"), or null.</summary>
        internal string? Describe(Exception e)
        {
            if (Refusal is null) return null;
            var field = e.Message.IndexOf(Refusal + " in field ", StringComparison.Ordinal) is var at and >= 0
                ? new string([.. e.Message.AsSpan(at + Refusal.Length + " in field ".Length).ToArray().TakeWhile(c => !char.IsWhiteSpace(c))])
                : null;
            return field is null ? Refusal : $"its {field} {Refusal[(Refusal.IndexOf(" declares ", StringComparison.Ordinal) + 1)..]}";
        }

        protected override object ReadUnion(object reuse, UnionSchema writerSchema, Schema readerSchema, Decoder d)
        {
            ArgumentNullException.ThrowIfNull(writerSchema);
            ArgumentNullException.ThrowIfNull(d);
            var index = d.ReadUnionIndex();
            if (index < 0 || index >= writerSchema.Count) throw Refuse(string.Create(CultureInfo.InvariantCulture, $"a union value declares branch {index} of {writerSchema.Count}"));
            var branch = writerSchema[index];
            return branch.Tag is Schema.Type.Bytes or Schema.Type.String ? ReadBounded(branch.Tag, d) : Read(reuse, branch, readerSchema, d);
        }

        /// <summary>
        /// A record's fields, as the library reads them, except that a plain (not union) string or bytes field is read bounded
        /// (<see cref="ReadBounded"/>): the library allocates whatever length such a field declares (a negative one threw
        /// OverflowException, 2^31 bytes an OutOfMemoryException). Only for a reader schema that is the writer's (Capture files
        /// are read with their own schema); another goes to the library.
        /// </summary>
        protected override object ReadRecord(object reuse, RecordSchema writerSchema, Schema readerSchema, Decoder decoder)
        {
            ArgumentNullException.ThrowIfNull(writerSchema);
            if (!ReferenceEquals(writerSchema, readerSchema) && !writerSchema.Equals(readerSchema)) return base.ReadRecord(reuse, writerSchema, readerSchema, decoder);
            var record = CreateRecord(reuse, writerSchema);
            foreach (var field in writerSchema)
            {
                try
                {
                    _ = TryGetField(record, field.Name, field.Pos, out var existing);
                    AddField(record, field.Name, field.Pos, ReadValue(existing, field.Schema, decoder));
                }
                catch (Exception e) when (e is not OutOfMemoryException)
                {
                    // The library's own wording, which Describe reads the field's name from.
                    throw new AvroException($"{e.Message} in field {field.Name}", e);
                }
            }
            return record;
        }

        /// <summary>A map, as the library reads it, with its keys and plain string or bytes values read bounded.</summary>
        protected override object ReadMap(object reuse, MapSchema writerSchema, Schema readerSchema, Decoder d)
        {
            ArgumentNullException.ThrowIfNull(writerSchema);
            ArgumentNullException.ThrowIfNull(d);
            if (!ReferenceEquals(writerSchema, readerSchema) && !writerSchema.Equals(readerSchema)) return base.ReadMap(reuse, writerSchema, readerSchema, d);
            var map = CreateMap(reuse, writerSchema);
            var total = 0L;
            for (var n = d.ReadMapStart(); n != 0; n = d.ReadMapNext())
            {
                total = CheckedCount("a map", "entries", n, total);
                for (var i = 0L; i < n; i++)
                {
                    var key = (string)ReadBounded(Schema.Type.String, d);
                    AddMapEntry(map, key, ReadValue(null, writerSchema.ValueSchema, d));
                }
            }
            return map;
        }

        /// <summary>
        /// An array, its items read one by one into a list that grows as they arrive: the library sized its array by the count a
        /// block declares before reading any item (a count of 2^28 null items, which take no bytes, allocated 2 GB; 2^31 − 1 threw
        /// OutOfMemoryException).
        /// </summary>
        protected override object ReadArray(object reuse, ArraySchema writerSchema, Schema readerSchema, Decoder d)
        {
            ArgumentNullException.ThrowIfNull(writerSchema);
            ArgumentNullException.ThrowIfNull(d);
            if (!ReferenceEquals(writerSchema, readerSchema) && !writerSchema.Equals(readerSchema)) return base.ReadArray(reuse, writerSchema, readerSchema, d);
            var items = new List<object>();
            var total = 0L;
            for (var n = d.ReadArrayStart(); n != 0; n = d.ReadArrayNext())
            {
                total = CheckedCount("an array", "items", n, total);
                for (var i = 0L; i < n; i++) items.Add(ReadValue(null, writerSchema.ItemSchema, d));
            }
            return items.ToArray();
        }

        /// <summary>
        /// The items an array or map has declared so far, <paramref name="total"/> and a block's <paramref name="count"/>, refused
        /// when negative or more than <see cref="RawEvents.MaxEventBytes"/>: no event holds more items than it may hold bytes, and
        /// items of some types (null) take no bytes, so the block's size does not bound them.
        /// </summary>
        private long CheckedCount(string what, string unit, long count, long total)
        {
            if (count < 0) throw Refuse(string.Create(CultureInfo.InvariantCulture, $"{what} declares a negative count of {unit} ({count})"));
            if (count > RawEvents.MaxEventBytes - total)
                throw Refuse(string.Create(CultureInfo.InvariantCulture, $"{what} declares {total + count} {unit}, more than the {RawEvents.MaxEventBytes} an event may hold"));
            return total + count;
        }

        private object ReadValue(object? reuse, Schema schema, Decoder d) =>
            schema.Tag is Schema.Type.Bytes or Schema.Type.String ? ReadBounded(schema.Tag, d) : Read(reuse, schema, schema, d);

        /// <summary>
        /// A string or bytes value whose length is checked before anything is allocated: a negative one, or one over
        /// <see cref="RawEvents.MaxEventBytes"/> (no value of an event is longer), is refused; a shorter one is read in pieces
        /// that grow as bytes arrive, so a length past the end of its block is refused having allocated little more than the
        /// block holds, not what the length declares.
        /// </summary>
        private object ReadBounded(Schema.Type tag, Decoder d)
        {
            var length = d.ReadLong();
            var what = tag == Schema.Type.Bytes ? "a bytes value" : "a string";
            if (length < 0) throw Refuse(string.Create(CultureInfo.InvariantCulture, $"{what} declares a negative length ({length} bytes)"));
            if (length > RawEvents.MaxEventBytes)
                throw Refuse(string.Create(CultureInfo.InvariantCulture, $"{what} declares {length} bytes, more than the {RawEvents.MaxEventBytes} bytes (32 MiB) an event may hold"));
            var bytes = new byte[Math.Min(length, FirstPiece)];
            var read = 0;
            while (true)
            {
                try
                {
                    d.ReadFixed(bytes, read, bytes.Length - read);
                }
                catch (Exception e) when (e is EndOfStreamException or AvroException)
                {
                    throw Refuse(string.Create(CultureInfo.InvariantCulture, $"{what} declares {length} bytes, more than are left in its block"));
                }
                read = bytes.Length;
                if (read == length) break;
                Array.Resize(ref bytes, (int)Math.Min(length, 2L * read));
            }
            return tag == Schema.Type.Bytes ? bytes : System.Text.Encoding.UTF8.GetString(bytes);
        }

        /// <summary>The first piece a string or bytes value is read into (<see cref="ReadBounded"/>); the rest doubles it.</summary>
        private const int FirstPiece = 64 << 10;

        private InvalidDataException Refuse(string refusal)
        {
            Refusal = refusal;
            return new InvalidDataException(refusal);
        }
    }

    [GeneratedRegex(@"(?:^|/)(?<partition>[^/]+)/\d{4}/\d{1,2}/\d{1,2}/\d{1,2}/\d{1,2}/\d{1,2}(?:\.avro)?$", RegexOptions.CultureInvariant)]
    private static partial Regex CapturePath();
}
