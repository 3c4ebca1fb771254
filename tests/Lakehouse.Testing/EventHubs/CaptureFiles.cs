using System.Globalization;
using Avro;
using Avro.File;
using Avro.Generic;

namespace Lakehouse.Testing.EventHubs;

/// <summary>
/// Writes Event Hubs Capture files as Capture does: Avro object container files of
/// <c>Microsoft.ServiceBus.Messaging.EventData</c> records, under Capture's default path
/// <c>{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}.avro</c>.
/// </summary>
public static class CaptureFiles
{
    /// <summary>The schema of Capture's records (as Capture files declare it).</summary>
    public const string SchemaJson = """
        {"type":"record","name":"EventData","namespace":"Microsoft.ServiceBus.Messaging","fields":[
          {"name":"SequenceNumber","type":"long"},
          {"name":"Offset","type":"string"},
          {"name":"EnqueuedTimeUtc","type":"string"},
          {"name":"SystemProperties","type":{"type":"map","values":["long","double","string","bytes"]}},
          {"name":"Properties","type":{"type":"map","values":["long","double","string","bytes","null"]}},
          {"name":"Body","type":["null","bytes"]}]}
        """;

    /// <summary>Capture's path of a file of <paramref name="hub"/>'s <paramref name="partition"/> written at <paramref name="time"/>, under <paramref name="root"/>.</summary>
    public static string PathOf(string root, string ns, string hub, string partition, DateTime time) =>
        Path.Combine(root, ns, hub, partition, time.ToString("yyyy", CultureInfo.InvariantCulture), time.ToString("MM", CultureInfo.InvariantCulture),
            time.ToString("dd", CultureInfo.InvariantCulture), time.ToString("HH", CultureInfo.InvariantCulture), time.ToString("mm", CultureInfo.InvariantCulture),
            time.ToString("ss", CultureInfo.InvariantCulture) + ".avro");

    /// <summary>
    /// Writes <paramref name="events"/> (stored by the stand-in: the same sequence numbers, offsets, enqueued times, keys and bodies)
    /// to a Capture file at <paramref name="path"/> with <paramref name="codec"/> (null, deflate, snappy, zstandard).
    /// </summary>
    public static void Write(string path, IEnumerable<StandInEvent> events, string codec = "deflate")
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(events);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var schema = (RecordSchema)Schema.Parse(SchemaJson);
        var temp = path + ".tmp";
        using (var writer = DataFileWriter<GenericRecord>.OpenWriter(new GenericDatumWriter<GenericRecord>(schema), temp, Codec.CreateCodecFromString(codec)))
        {
            foreach (var e in events)
            {
                var record = new GenericRecord(schema);
                record.Add("SequenceNumber", e.SequenceNumber);
                record.Add("Offset", e.Offset.ToString(CultureInfo.InvariantCulture));
                // Capture writes the enqueued time to the second, as M/d/yyyy h:mm:ss tt in UTC.
                record.Add("EnqueuedTimeUtc", e.EnqueuedTime.ToString("M/d/yyyy h:mm:ss tt", CultureInfo.InvariantCulture));
                var system = new Dictionary<string, object>(StringComparer.Ordinal)
                {
                    ["x-opt-sequence-number"] = e.SequenceNumber,
                    ["x-opt-offset"] = e.Offset.ToString(CultureInfo.InvariantCulture),
                    ["x-opt-enqueued-time"] = new DateTimeOffset(e.EnqueuedTime, TimeSpan.Zero).ToUnixTimeMilliseconds(),
                };
                if (e.PartitionKey is { } key) system["x-opt-partition-key"] = key;
                record.Add("SystemProperties", system);
                record.Add("Properties", new Dictionary<string, object?>(StringComparer.Ordinal));
                record.Add("Body", e.Body);
                writer.Append(record);
            }
        }
        File.Move(temp, path, overwrite: true);
    }
}
