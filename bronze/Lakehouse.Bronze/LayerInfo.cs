namespace Lakehouse.Bronze;

/// <summary>Placeholder marker for the Lakehouse.Bronze layer; its content arrives with the layer's issue.</summary>
internal static class LayerInfo
{
    internal const string Name = "Lakehouse.Bronze";
}
