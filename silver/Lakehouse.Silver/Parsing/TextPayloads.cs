using Lakehouse.Datasets;
using Lakehouse.Engine;

namespace Lakehouse.Silver.Parsing;

/// <summary>Parses text payloads (one line per event) with the dataset's text format, in C#.</summary>
internal static class TextPayloads
{
    internal static void Parse(DuckConnection connection, DatasetDefinition definition, string source, string target, CancellationToken cancellationToken) =>
        throw new Lakehouse.Core.LakehouseException(Lakehouse.Core.LakehouseErrorReason.UnsupportedFeature,
            $"Text datasets ({definition.Name}) are not parsed by silver yet.");
}
