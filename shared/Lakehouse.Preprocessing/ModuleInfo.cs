namespace Lakehouse.Preprocessing;

/// <summary>Placeholder marker until the rules arrive.</summary>
internal static class ModuleInfo
{
    internal const string Name = "Lakehouse.Preprocessing";
}
