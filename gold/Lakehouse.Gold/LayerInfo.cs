namespace Lakehouse.Gold;

/// <summary>Placeholder marker for the Lakehouse.Gold layer; its content arrives with the layer's issue.</summary>
internal static class LayerInfo
{
    internal const string Name = "Lakehouse.Gold";
}
