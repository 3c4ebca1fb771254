using Lakehouse.Core;

namespace Lakehouse.Storage;

/// <summary>Opens lake storage from a location string: a local path, or an abfss:// URI for ADLS Gen2 / Blob storage.</summary>
public static class LakeStorage
{
    /// <summary>
    /// Opens the storage at <paramref name="location"/>. Local paths are used as they are;
    /// <c>abfss://container@account.dfs.core.windows.net/path</c> goes to Azure with credentials from <paramref name="options"/>.
    /// </summary>
    public static ILakeStorage Open(string location, LakeStorageOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        if (location.StartsWith("abfss://", StringComparison.OrdinalIgnoreCase) || location.StartsWith("abfs://", StringComparison.OrdinalIgnoreCase))
            return OpenAzure(location, options ?? LakeStorageOptions.FromEnvironment());
        if (location.Contains("://", StringComparison.Ordinal))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Unsupported lake location '{location}': use a local path or abfss://container@account.dfs.core.windows.net/path.");
        return new LocalLakeStorage(location);
    }

    private static ILakeStorage OpenAzure(string location, LakeStorageOptions options) =>
        throw new LakehouseException(LakehouseErrorReason.UnsupportedFeature, $"Azure storage is not built yet ({location}, {options}).");
}
