using System.Runtime.CompilerServices;
using Azure;
using Azure.Identity;
using Azure.Storage;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Lakehouse.Core;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Storage;

/// <summary>
/// Lake storage on an Azure storage container (ADLS Gen2 or plain Blob storage) through Azure.Storage.Blobs.
/// Put-if-absent is an upload with <c>If-None-Match: *</c>, which the service makes atomic; large files move in parallel
/// blocks; engines that read by path get a downloaded copy from a bounded cache keyed by path, size and etag.
/// </summary>
/// <remarks>
/// The client sends the SDK's own service version. Azurite 3.35 does not know it yet and is started with
/// <c>--skipApiVersionCheck</c> in tests (AzuriteServer), rather than pinning an older version here: production talks to
/// Azure the way the SDK was built and tested to, and the emulator is the one that is told to be lenient.
/// </remarks>
internal sealed partial class AzureBlobLakeStorage : ILakeStorage
{
    private const string WriterMetadata = "lakehousewriter";
    private const string DirectoryMetadata = "hdi_isfolder";
    private const int TransferConcurrency = 4;

    private readonly Shared _shared;
    private readonly AzureBlobLocation _location;

    internal AzureBlobLakeStorage(AzureBlobLocation location, LakeStorageOptions options)
    {
        options = options.Clone();
        if (options.AccountName is { } configured && !string.Equals(configured, location.AccountName, StringComparison.Ordinal))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"The storage options are for account '{configured}' but the location {location.Display} is in account '{location.AccountName}'.");
        var logger = options.LoggerFactory?.CreateLogger("Lakehouse.Storage") ?? NullLogger.Instance;
        var container = CreateService(location, options, logger).GetBlobContainerClient(location.Container);
        var cache = new LocalBlobCache(options.CacheDirectory ?? LakeStorageOptions.DefaultCacheDirectory, options.CacheSizeLimit, options.CacheInUseWindow, logger);
        _shared = new Shared(container, location.AccountEndpoint, options, cache);
        _location = location;
    }

    private AzureBlobLakeStorage(Shared shared, AzureBlobLocation location)
    {
        _shared = shared;
        _location = location;
    }

    public string Location => _location.Display;

    private BlobContainerClient Container => _shared.Container;

    private StorageTransferOptions Transfer => new()
    {
        InitialTransferSize = _shared.Options.BlockUploadThreshold,
        MaximumTransferSize = _shared.Options.BlockSize,
        MaximumConcurrency = TransferConcurrency,
    };

    public ILakeStorage Scope(string relativePath)
    {
        var relative = LakePath.Normalize(relativePath).TrimEnd('/');
        return relative.Length == 0 ? this : new AzureBlobLakeStorage(_shared, _location.WithRoot(Join(relative)));
    }

    public string? LocalPathOrNull(string path) => null;

    public async IAsyncEnumerable<LakeFile> ListAsync(string prefix, string startFrom, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(startFrom);
        // The listing is filtered here: the service orders names by UTF-8 bytes, the contract by UTF-16 code units.
        await foreach (var file in ListAsync(prefix, cancellationToken).ConfigureAwait(false))
        {
            if (string.CompareOrdinal(file.Path, startFrom) >= 0) yield return file;
        }
    }

    public async IAsyncEnumerable<LakeFile> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var relativePrefix = prefix.Length == 0 ? "" : LakePath.Normalize(prefix);
        var rootPrefix = _location.Root.Length == 0 ? "" : _location.Root + "/";
        var blobPrefix = rootPrefix + relativePrefix;
        var files = await RunAsync("List Blobs", blobPrefix.Length == 0 ? null : blobPrefix + "*", async token =>
        {
            var list = new List<LakeFile>();
            var request = new GetBlobsOptions { Prefix = blobPrefix.Length == 0 ? null : blobPrefix, Traits = BlobTraits.Metadata };
            await foreach (var page in Container.GetBlobsAsync(request, token).AsPages(pageSizeHint: _shared.Options.ListPageSize).ConfigureAwait(false))
            {
                foreach (var blob in page.Values)
                {
                    if (IsDirectory(blob.Metadata) || !blob.Name.StartsWith(rootPrefix, StringComparison.Ordinal)) continue;
                    var properties = blob.Properties;
                    list.Add(new LakeFile(blob.Name[rootPrefix.Length..], properties.ContentLength ?? 0,
                        properties.LastModified ?? DateTimeOffset.MinValue, ETagText(properties.ETag)));
                }
            }
            return list;
        }, cancellationToken).ConfigureAwait(false);

        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        foreach (var file in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return file;
        }
    }

    public Task<LakeFile?> GetInfoAsync(string path, CancellationToken cancellationToken = default)
    {
        var blobName = BlobName(path);
        return RunAsync("Get Blob Properties", blobName, async token =>
        {
            BlobProperties properties;
            try
            {
                properties = (await Container.GetBlobClient(blobName).GetPropertiesAsync(cancellationToken: token).ConfigureAwait(false)).Value;
            }
            catch (RequestFailedException e) when (IsBlobNotFound(e))
            {
                return null;
            }
            return IsDirectory(properties.Metadata)
                ? null
                : new LakeFile(LakePath.Normalize(path), properties.ContentLength, properties.LastModified, ETagText(properties.ETag));
        }, cancellationToken);
    }

    public Task<byte[]> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        var blobName = BlobName(path);
        return RunAsync("Get Blob", blobName, async token =>
            (await Container.GetBlobClient(blobName).DownloadContentAsync(token).ConfigureAwait(false)).Value.Content.ToArray(),
            cancellationToken);
    }

    public async Task<byte[]> ReadRangeAsync(string path, long offset, int length, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var blobName = BlobName(path);
        if (length == 0)
        {
            return await GetInfoAsync(path, cancellationToken).ConfigureAwait(false) is null
                ? throw new LakehouseException(LakehouseErrorReason.NotFound, $"{Describe(blobName)} does not exist.")
                : [];
        }
        return await RunAsync("Get Blob (range)", blobName, async token =>
        {
            BlobDownloadResult result;
            try
            {
                var range = new BlobDownloadOptions { Range = new HttpRange(offset, length) };
                result = (await Container.GetBlobClient(blobName).DownloadContentAsync(range, token).ConfigureAwait(false)).Value;
            }
            catch (RequestFailedException e) when (e.Status == 416)
            {
                return []; // The range starts at or past the end of the blob.
            }
            var data = result.Content.ToMemory();
            // A server may answer a range with the whole blob (200, no Content-Range); take the range out of it.
            var skip = result.Details.ContentRange is null ? (int)Math.Min(offset, data.Length) : 0;
            return data.Slice(skip, Math.Min(length, data.Length - skip)).ToArray();
        }, cancellationToken).ConfigureAwait(false);
    }

    public Task PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var blobName = BlobName(path);
        var writer = Guid.NewGuid().ToString("N");
        return RunAsync("Put Blob (if absent)", blobName, async token =>
        {
            var blob = Container.GetBlobClient(blobName);
            var upload = new BlobUploadOptions
            {
                Conditions = new BlobRequestConditions { IfNoneMatch = ETag.All },
                Metadata = new Dictionary<string, string> { [WriterMetadata] = writer },
            };
            try
            {
                await blob.UploadAsync(BinaryData.FromBytes(content), upload, token).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // The SDK retries a try whose response was lost; the retry then finds the blob that the lost try created.
                // The writer id tells that blob (a success) from one another writer created (a conflict).
                var properties = await blob.GetPropertiesAsync(cancellationToken: token).ConfigureAwait(false);
                if (properties.Value.Metadata.TryGetValue(WriterMetadata, out var found) && string.Equals(found, writer, StringComparison.Ordinal))
                    return true;
                throw new LakehouseException(LakehouseErrorReason.AlreadyExists, $"{Describe(blobName)} already exists ({Detail(e)}).");
            }
            return true;
        }, cancellationToken);
    }

    public Task PutAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var blobName = BlobName(path);
        return RunAsync("Put Blob", blobName, async token =>
            (await Container.GetBlobClient(blobName).UploadAsync(BinaryData.FromBytes(content), overwrite: true, token).ConfigureAwait(false)).Value,
            cancellationToken);
    }

    public Task UploadAsync(string path, string localFile, CancellationToken cancellationToken = default)
    {
        var blobName = BlobName(path);
        if (!File.Exists(localFile))
            throw new LakehouseException(LakehouseErrorReason.NotFound, $"The local file '{localFile}' to upload does not exist.");
        // One request up to BlockUploadThreshold, else blocks of BlockSize, several at once, committed together at the end.
        return RunAsync("Upload Blob", blobName, async token =>
            (await Container.GetBlobClient(blobName).UploadAsync(localFile, new BlobUploadOptions { TransferOptions = Transfer }, token).ConfigureAwait(false)).Value,
            cancellationToken);
    }

    public Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        var blobName = BlobName(path);
        return RunAsync("Delete Blob", blobName, async token =>
        {
            try
            {
                await Container.GetBlobClient(blobName).DeleteAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: token).ConfigureAwait(false);
                return true;
            }
            catch (RequestFailedException e) when (IsBlobNotFound(e))
            {
                return false;
            }
        }, cancellationToken);
    }

    public async Task<string> GetLocalCopyAsync(string path, CancellationToken cancellationToken = default)
    {
        var blobName = BlobName(path);
        var identity = $"{_shared.Endpoint.GetLeftPart(UriPartial.Path)}|{_location.Container}|{blobName}";
        for (var attempt = 1; ; attempt++)
        {
            var info = await GetInfoAsync(path, cancellationToken).ConfigureAwait(false)
                ?? throw new LakehouseException(LakehouseErrorReason.NotFound, $"{Describe(blobName)} does not exist.");
            var file = _shared.Cache.PathFor(identity, info.Size, info.ETag ?? info.LastModified.ToString("O"), Extension(blobName));
            if (LocalBlobCache.TryUse(file, info.Size)) return file;

            var temp = _shared.Cache.TempFor(file);
            try
            {
                var downloaded = await RunAsync("Get Blob", blobName, async token =>
                {
                    var download = new BlobDownloadToOptions
                    {
                        Conditions = info.ETag is null ? null : new BlobRequestConditions { IfMatch = new ETag(info.ETag) },
                        TransferOptions = Transfer,
                    };
                    try
                    {
                        await Container.GetBlobClient(blobName).DownloadToAsync(temp, download, token).ConfigureAwait(false);
                        return true;
                    }
                    catch (RequestFailedException e) when (e.Status == 412 && attempt < 3)
                    {
                        return false; // Changed since its properties were read: key the copy by the new etag.
                    }
                }, cancellationToken).ConfigureAwait(false);
                if (!downloaded) continue;
                var written = new FileInfo(temp).Length;
                if (written != info.Size)
                    throw new LakehouseException(LakehouseErrorReason.Storage, $"Get Blob of {Describe(blobName)} returned {written} bytes, expected {info.Size}.");
                _shared.Cache.Add(temp, file);
            }
            finally
            {
                File.Delete(temp);
            }
            return file;
        }
    }

    /// <summary>The blob name of a lake path: the root folder joined with the validated relative path.</summary>
    private string BlobName(string path)
    {
        var relative = LakePath.Normalize(path);
        if (relative.Length == 0 || relative.EndsWith('/'))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"'{path}' is not a file path.");
        return Join(relative);
    }

    private string Join(string relative) => _location.Root.Length == 0 ? relative : _location.Root + "/" + relative;

    /// <summary>'path' in container C of account A, or the container itself (for messages and logs; no URL, no query).</summary>
    private string Describe(string? blobName) =>
        blobName is null
            ? $"container '{_location.Container}' of account '{_location.AccountName}'"
            : $"'{blobName}' in container '{_location.Container}' of account '{_location.AccountName}'";

    private static bool IsBlobNotFound(RequestFailedException e) => e.Status == 404 && e.ErrorCode != BlobErrorCode.ContainerNotFound;

    /// <summary>ADLS Gen2 (hierarchical namespace) shows folders as empty blobs marked hdi_isfolder; they are not files.</summary>
    private static bool IsDirectory(IDictionary<string, string>? metadata) =>
        metadata is not null && metadata.Any(m => m.Key.Equals(DirectoryMetadata, StringComparison.OrdinalIgnoreCase)
            && m.Value.Equals("true", StringComparison.OrdinalIgnoreCase));

    /// <summary>ETags in one form, quoted, whether they came from a header ("0x8D…") or a listing (0x8D…).</summary>
    private static string? ETagText(ETag? etag) => etag is { } value && value != default ? "\"" + value.ToString().Trim('"') + "\"" : null;

    /// <summary>The blob's file extension when it is a plain one (engines pick readers by it), else none.</summary>
    private static string Extension(string blobName)
    {
        var extension = Path.GetExtension(blobName);
        return extension.Length is > 1 and <= 16 && extension.Skip(1).All(char.IsAsciiLetterOrDigit) ? extension : "";
    }

    private static BlobServiceClient CreateService(AzureBlobLocation location, LakeStorageOptions options, ILogger logger)
    {
        var client = new BlobClientOptions();
        client.Retry.Mode = Azure.Core.RetryMode.Exponential;
        client.Retry.MaxRetries = options.MaxRetries;
        client.Retry.Delay = LoggingRetryPolicy.InitialDelay;
        client.Retry.MaxDelay = LoggingRetryPolicy.MaxDelay;
        client.Retry.NetworkTimeout = options.NetworkTimeout;
        client.RetryPolicy = new LoggingRetryPolicy(options.MaxRetries, logger);
        client.Diagnostics.ApplicationId = "lakehouse";
        client.Diagnostics.IsLoggingContentEnabled = false;
        if (options.Transport is not null) client.Transport = options.Transport;

        var endpoint = location.AccountEndpoint;
        if (options.AccountKey is { } key)
            return new BlobServiceClient(endpoint, new StorageSharedKeyCredential(location.AccountName, key), client);
        if (options.SasToken is { } sas)
            return new BlobServiceClient(endpoint, new AzureSasCredential(sas), client);
        if (endpoint.Scheme != Uri.UriSchemeHttps)
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"Token authentication ({options.AuthenticationKind}) needs an https blob endpoint, not {endpoint.GetLeftPart(UriPartial.Path)}; use an account key or a SAS for the emulator.");
        return new BlobServiceClient(endpoint, options.Credential ?? new DefaultAzureCredential(), client);
    }

    /// <summary>What the storages of one location and its scopes share: the container client, the options, the cache.</summary>
    private sealed record Shared(BlobContainerClient Container, Uri Endpoint, LakeStorageOptions Options, LocalBlobCache Cache);
}
