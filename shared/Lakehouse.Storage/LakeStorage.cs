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

    /// <summary>
    /// The names of the folders directly under <paramref name="layer"/> of <paramref name="lake"/> that hold a <c>_delta_log</c> (the
    /// layer's tables, whatever their names), in ordinal order; none when the layer does not exist.
    /// </summary>
    public static async Task<SortedSet<string>> TableFoldersAsync(ILakeStorage lake, string layer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(lake);
        var names = new SortedSet<string>(StringComparer.Ordinal);
        if (lake.LocalPathOrNull(layer) is { } local)
        {
            if (Directory.Exists(local))
            {
                foreach (var folder in Directory.EnumerateDirectories(local))
                    if (Directory.Exists(Path.Combine(folder, "_delta_log"))) names.Add(Path.GetFileName(folder));
            }
            return names;
        }
        await foreach (var file in lake.ListAsync(layer + "/", cancellationToken).ConfigureAwait(false))
        {
            var parts = file.Path.Split('/');
            if (parts.Length >= 4 && parts[2] == "_delta_log") names.Add(parts[1]);
        }
        return names;
    }

    private static AzureBlobLakeStorage OpenAzure(string location, LakeStorageOptions options) =>
        new(AzureBlobLocation.Parse(location, options.BlobEndpoint), options);

    private static string RedactQuery(string location) =>
        location.IndexOf('?', StringComparison.Ordinal) is var q and >= 0 ? location[..q] + "?<redacted>" : location;
}
