using Lakehouse.Core;

namespace Lakehouse.Storage;

/// <summary>Opens lake storage from a location string: a local path, or an abfss:// URI for ADLS Gen2 / Blob storage.</summary>
public static class LakeStorage
{
    /// <summary>
    /// Opens the storage at <paramref name="location"/>. Local paths are used as they are. Azure locations are
    /// <c>abfss://container@account.dfs.core.windows.net/path</c> (or <c>abfs://</c>),
    /// <c>https://account.blob.core.windows.net/container/path</c>, and the emulator's path-style
    /// <c>http://127.0.0.1:10000/devstoreaccount1/container/path</c>; they authenticate with <paramref name="options"/>,
    /// by default <see cref="LakeStorageOptions.FromEnvironment()"/>. Opening sends no request.
    /// </summary>
    /// <exception cref="LakehouseException">
    /// The location is malformed or of an unknown kind, or an Azure setting read from the environment is (reason InvalidInput;
    /// the message names the variable and what is wrong with it, never its value).
    /// </exception>
    public static ILakeStorage Open(string location, LakeStorageOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(location);
        if (AzureBlobLocation.IsAzure(location))
            return OpenAzure(location, options ?? LakeStorageOptions.FromEnvironment());
        if (location.Contains("://", StringComparison.Ordinal))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"Unsupported lake location '{RedactQuery(location)}': use a local path or abfss://container@account.dfs.core.windows.net/path.");
        return new LocalLakeStorage(location);
    }

    private static AzureBlobLakeStorage OpenAzure(string location, LakeStorageOptions options) =>
        new(AzureBlobLocation.Parse(location, options.BlobEndpoint), options);

    private static string RedactQuery(string location) =>
        location.IndexOf('?', StringComparison.Ordinal) is var q and >= 0 ? location[..q] + "?<redacted>" : location;
}
