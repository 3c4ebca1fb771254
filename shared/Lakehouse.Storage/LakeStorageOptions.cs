namespace Lakehouse.Storage;

/// <summary>How to reach and authenticate to Azure storage. Secrets are never logged or printed.</summary>
public sealed class LakeStorageOptions
{
    /// <summary>Options from the standard environment variables (see the README).</summary>
    public static LakeStorageOptions FromEnvironment() => new();
}
