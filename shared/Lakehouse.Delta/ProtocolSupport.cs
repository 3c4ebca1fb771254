using Lakehouse.Core;
using Lakehouse.Delta.Log;

namespace Lakehouse.Delta;

/// <summary>Which protocol versions and table features this implementation reads and writes.</summary>
public static class ProtocolSupport
{
    /// <summary>Reader features this reader understands.</summary>
    public static readonly IReadOnlySet<string> ReaderFeatures = new HashSet<string>(StringComparer.Ordinal)
    {
        "deletionVectors", "columnMapping", "timestampNtz", "v2Checkpoint", "vacuumProtocolCheck",
        "typeWidening", "typeWidening-preview",
    };

    /// <summary>Writer features this writer maintains correctly when it commits to a table that lists them.</summary>
    public static readonly IReadOnlySet<string> WriterFeatures = new HashSet<string>(StringComparer.Ordinal)
    {
        "appendOnly", "invariants", "timestampNtz", "vacuumProtocolCheck", "domainMetadata", "checkConstraints",
        "generatedColumns", "columnMapping", "deletionVectors", "v2Checkpoint", "changeDataFeed", "typeWidening", "typeWidening-preview",
    };

    /// <summary>Throws UnsupportedFeature, naming what is unsupported, when the protocol asks for more than this reader can do.</summary>
    public static void CheckReadable(ProtocolAction protocol, string table)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        var unknown = (protocol.ReaderFeatures ?? []).Where(f => !ReaderFeatures.Contains(f)).ToList();
        var named = unknown.Count == 0 ? "" : $"reader feature{(unknown.Count > 1 ? "s" : "")} {string.Join(", ", unknown.Select(f => "'" + f + "'"))}";
        if (protocol.MinReaderVersion > 3 || protocol.MinReaderVersion < 1)
            throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature,
                $"Table '{table}' requires Delta reader version {protocol.MinReaderVersion}; this reader supports versions 1 to 3 (unsupported reader version {protocol.MinReaderVersion})"
                + (named.Length > 0 ? $" and it lists unknown {named}." : "."));
        if (protocol.MinReaderVersion == 3 && unknown.Count > 0)
            throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature, $"Table '{table}' uses {named}, which this reader does not support.");
    }

    /// <summary>Throws UnsupportedFeature when the protocol asks more of a writer than this one does.</summary>
    public static void CheckWritable(ProtocolAction protocol, string table)
    {
        ArgumentNullException.ThrowIfNull(protocol);
        CheckReadable(protocol, table);
        if (protocol.MinWriterVersion > 7)
            throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature, $"Table '{table}' requires Delta writer version {protocol.MinWriterVersion}; this writer supports versions up to 7.");
        if (protocol.MinWriterVersion == 7)
        {
            var unsupported = (protocol.WriterFeatures ?? []).Where(f => !WriterFeatures.Contains(f)).ToList();
            if (unsupported.Count > 0)
                throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature,
                    $"Table '{table}' uses writer feature{(unsupported.Count > 1 ? "s" : "")} {string.Join(", ", unsupported.Select(f => "'" + f + "'"))}, which this writer does not support.");
        }
    }
}
