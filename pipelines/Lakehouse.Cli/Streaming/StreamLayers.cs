namespace Lakehouse.Cli.Streaming;

/// <summary>Which layers one <c>lakehouse stream</c> process runs.</summary>
[Flags]
internal enum StreamLayers
{
    None = 0,
    Bronze = 1,
    Silver = 2,
    Gold = 4,
    All = Bronze | Silver | Gold,
}

internal static class StreamLayerNames
{
    internal static readonly string[] Names = ["bronze", "silver", "gold"];

    /// <summary>Parses <c>bronze,silver,gold</c> (any subset, any order); null with a message when a name is unknown or repeated.</summary>
    internal static StreamLayers? Parse(string text, out string? problem)
    {
        problem = null;
        var layers = StreamLayers.None;
        foreach (var name in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var layer = name.ToLowerInvariant() switch
            {
                "bronze" => StreamLayers.Bronze,
                "silver" => StreamLayers.Silver,
                "gold" => StreamLayers.Gold,
                _ => StreamLayers.None,
            };
            if (layer == StreamLayers.None)
            {
                problem = $"--layers: '{name}' is not a layer (bronze, silver, gold)";
                return null;
            }
            if ((layers & layer) != 0)
            {
                problem = $"--layers: '{name}' is named twice";
                return null;
            }
            layers |= layer;
        }
        if (layers == StreamLayers.None) problem = "--layers: name at least one of bronze, silver, gold";
        return layers == StreamLayers.None ? null : layers;
    }

    /// <summary>The layers as <c>bronze+silver+gold</c> (the file name of the persisted progress, and the label in status).</summary>
    internal static string Key(StreamLayers layers) => string.Join('+', Names.Where((_, i) => (layers & (StreamLayers)(1 << i)) != 0));
}
