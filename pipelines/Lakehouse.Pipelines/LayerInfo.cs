namespace Lakehouse.Pipelines;

/// <summary>Placeholder marker for the Lakehouse.Pipelines layer; its content arrives with the layer's issue.</summary>
internal static class LayerInfo
{
    internal const string Name = "Lakehouse.Pipelines";
}
