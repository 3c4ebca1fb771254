using System.Globalization;
using System.Text.RegularExpressions;
using Avro;
using Avro.File;
using Avro.Generic;

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
    /// container file, is not a Capture file, uses an unknown codec, or is damaged (a snappy checksum, a truncated block).
    /// </summary>
    internal static long Read(Stream stream, CaptureEventHandler handler, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(handler);
        AvroCodecs.EnsureRegistered();
        IFileReader<GenericRecord> reader;
        try
        {
            reader = DataFileReader<GenericRecord>.OpenReader(stream, leaveOpen: true);
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
            long count = 0;
            try
            {
                while (reader.HasNext())
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var r = reader.Next();
                    count++;
                    var body = r["Body"] as byte[] ?? [];
                    var sequence = Convert.ToInt64(r["SequenceNumber"], CultureInfo.InvariantCulture);
                    handler(body, sequence, count, EnqueuedTime(r["EnqueuedTimeUtc"] as string), PartitionKey(r));
                }
            }
            catch (Exception e) when (e is AvroException or AvroRuntimeException or EndOfStreamException or InvalidCastException or FormatException)
            {
                throw new InvalidDataException($"record {count + 1} cannot be read ({e.Message.TrimEnd('.', '!')}): the file is damaged or truncated", e);
            }
            catch (InvalidDataException e)
            {
                throw new InvalidDataException($"record {count + 1} cannot be read: {e.Message}", e);
            }
            return count;
        }
    }

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

    private static string? PartitionKey(GenericRecord record)
    {
        if (!record.Schema.Contains("SystemProperties") || record["SystemProperties"] is not IDictionary<string, object> properties) return null;
        return properties.TryGetValue("x-opt-partition-key", out var key) ? key as string : null;
    }

    private static string MissingField(Schema schema) =>
        schema is RecordSchema record ? RequiredFields.First(f => !record.Contains(f)) : RequiredFields[0] + " (they are not records)";

    [GeneratedRegex(@"(?:^|/)(?<partition>[^/]+)/\d{4}/\d{1,2}/\d{1,2}/\d{1,2}/\d{1,2}/\d{1,2}(?:\.avro)?$", RegexOptions.CultureInvariant)]
    private static partial Regex CapturePath();
}
