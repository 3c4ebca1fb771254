namespace Lakehouse.Silver;

/// <summary>Placeholder marker for the Lakehouse.Silver layer; its content arrives with the layer's issue.</summary>
internal static class LayerInfo
{
    internal const string Name = "Lakehouse.Silver";
}
