using System.Globalization;
using System.Runtime.CompilerServices;
using System.Xml.Linq;
using Azure.Core;
using Lakehouse.Core;

namespace Lakehouse.Storage;

/// <summary>
/// Lake storage on an Azure storage container (ADLS Gen2 or plain Blob storage) through the Blob REST API.
/// Put-if-absent is <c>Put Blob</c> with <c>If-None-Match: *</c>, which the service makes atomic; large uploads go in blocks;
/// engines that read by path get a downloaded copy from a cache keyed by path, size and etag.
/// </summary>
internal sealed partial class AzureBlobLakeStorage : ILakeStorage
{
    private const string WriterMetadata = "x-ms-meta-lakehousewriter";
    private readonly AzureBlobClient _client;
    private readonly AzureBlobLocation _location;

    internal AzureBlobLakeStorage(AzureBlobLocation location, LakeStorageOptions options)
        : this(new AzureBlobClient(location, options), location)
    {
    }

    private AzureBlobLakeStorage(AzureBlobClient client, AzureBlobLocation location)
    {
        _client = client;
        _location = location;
    }

    public string Location => _location.Display;

    public ILakeStorage Scope(string relativePath)
    {
        var relative = LakePath.Normalize(relativePath).TrimEnd('/');
        return relative.Length == 0 ? this : new AzureBlobLakeStorage(_client, _location.WithRoot(Join(relative)));
    }

    public string? LocalPathOrNull(string path) => null;

    public async IAsyncEnumerable<LakeFile> ListAsync(string prefix, string startFrom, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(startFrom);
        // List Blobs cannot start at a name (a marker is opaque), so the listing is filtered here.
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
        var files = new List<LakeFile>();
        string? marker = null;
        do
        {
            using var message = _client.CreateMessage(RequestMethod.Get, null);
            var uri = message.Request.Uri;
            uri.AppendQuery("restype", "container");
            uri.AppendQuery("comp", "list");
            if (blobPrefix.Length > 0) uri.AppendQuery("prefix", blobPrefix);
            if (marker is not null) uri.AppendQuery("marker", marker);
            uri.AppendQuery("include", "metadata");
            uri.AppendQuery("maxresults", _client.Options.ListPageSize.ToString(CultureInfo.InvariantCulture));
            var response = await _client.SendAsync(message, "List Blobs", blobPrefix.Length == 0 ? null : blobPrefix + "*", cancellationToken).ConfigureAwait(false);
            if (response.Status != 200) throw _client.Failure(response, "List Blobs", blobPrefix + "*");
            var document = XDocument.Parse(response.Content.ToString());
            var results = document.Root ?? throw new LakehouseException(LakehouseErrorReason.Storage, "List Blobs returned an empty document.");
            foreach (var blob in results.Element("Blobs")?.Elements("Blob") ?? [])
            {
                var name = blob.Element("Name")?.Value;
                var properties = blob.Element("Properties");
                if (name is null || properties is null || !name.StartsWith(rootPrefix, StringComparison.Ordinal)) continue;
                if (IsDirectory(blob, properties)) continue;
                files.Add(new LakeFile(
                    name[rootPrefix.Length..],
                    long.Parse(properties.Element("Content-Length")?.Value ?? "0", CultureInfo.InvariantCulture),
                    ParseTime(properties.Element("Last-Modified")?.Value),
                    NormalizeETag(properties.Element("Etag")?.Value)));
            }
            marker = results.Element("NextMarker")?.Value is { Length: > 0 } next ? next : null;
        }
        while (marker is not null);

        // The service lists in its own (UTF-8 byte) order; the contract is ordinal UTF-16 order.
        files.Sort((a, b) => string.CompareOrdinal(a.Path, b.Path));
        foreach (var file in files)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return file;
        }
    }

    public async Task<LakeFile?> GetInfoAsync(string path, CancellationToken cancellationToken = default)
    {
        var blobName = BlobName(path);
        using var message = _client.CreateMessage(RequestMethod.Head, blobName);
        var response = await _client.SendAsync(message, "Get Blob Properties", blobName, cancellationToken).ConfigureAwait(false);
        if (response.Status == 404)
        {
            // HEAD has no body; the error code header tells a missing blob from a missing container.
            return AzureBlobClient.ErrorCode(response) == "ContainerNotFound"
                ? throw _client.Failure(response, "Get Blob Properties", blobName)
                : null;
        }
        if (response.Status != 200) throw _client.Failure(response, "Get Blob Properties", blobName);
        if (response.Headers.TryGetValue("x-ms-meta-hdi_isfolder", out var folder) && folder.Equals("true", StringComparison.OrdinalIgnoreCase))
            return null;
        return new LakeFile(
            LakePath.Normalize(path),
            response.Headers.ContentLength ?? 0,
            ParseTime(response.Headers.TryGetValue("Last-Modified", out var modified) ? modified : null),
            NormalizeETag(response.Headers.TryGetValue("ETag", out var etag) ? etag : null));
    }

    public async Task<byte[]> ReadAsync(string path, CancellationToken cancellationToken = default)
    {
        var blobName = BlobName(path);
        using var message = _client.CreateMessage(RequestMethod.Get, blobName);
        var response = await _client.SendAsync(message, "Get Blob", blobName, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200) throw _client.Failure(response, "Get Blob", blobName);
        return response.Content.ToArray();
    }

    public async Task<byte[]> ReadRangeAsync(string path, long offset, int length, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        var blobName = BlobName(path);
        if (length == 0)
        {
            return await GetInfoAsync(path, cancellationToken).ConfigureAwait(false) is null
                ? throw new LakehouseException(LakehouseErrorReason.NotFound, $"{_client.Describe(blobName)} does not exist.")
                : [];
        }
        using var message = _client.CreateMessage(RequestMethod.Get, blobName);
        message.Request.Headers.SetValue("x-ms-range", $"bytes={offset}-{offset + length - 1}");
        var response = await _client.SendAsync(message, "Get Blob (range)", blobName, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            206 or 200 => Slice(response.Content.ToArray(), response.Status == 200 ? offset : 0, length),
            416 => [], // The range starts at or past the end of the blob.
            _ => throw _client.Failure(response, "Get Blob (range)", blobName),
        };

        static byte[] Slice(byte[] data, long skip, int take)
        {
            var start = (int)Math.Min(skip, data.Length);
            var count = Math.Min(take, data.Length - start);
            return start == 0 && count == data.Length ? data : data.AsSpan(start, count).ToArray();
        }
    }

    public async Task PutIfAbsentAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var blobName = BlobName(path);
        var writer = Guid.NewGuid().ToString("N");
        using var message = CreatePutBlob(blobName, RequestContent.Create(content));
        message.Request.Headers.SetValue("If-None-Match", "*");
        message.Request.Headers.SetValue(WriterMetadata, writer);
        var response = await _client.SendAsync(message, "Put Blob (if absent)", blobName, cancellationToken).ConfigureAwait(false);
        if (response.Status == 201) return;
        if (response.Status is 409 or 412)
        {
            // A retried try may find the blob that its own lost first try created: that is a success, not a conflict.
            if (await IsWrittenByAsync(blobName, writer, cancellationToken).ConfigureAwait(false)) return;
            throw new LakehouseException(LakehouseErrorReason.AlreadyExists,
                $"{_client.Describe(blobName)} already exists (HTTP {response.Status} {AzureBlobClient.ErrorCode(response)}).");
        }
        throw _client.Failure(response, "Put Blob (if absent)", blobName);
    }

    public async Task PutAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        var blobName = BlobName(path);
        using var message = CreatePutBlob(blobName, RequestContent.Create(content));
        var response = await _client.SendAsync(message, "Put Blob", blobName, cancellationToken).ConfigureAwait(false);
        if (response.Status != 201) throw _client.Failure(response, "Put Blob", blobName);
    }

    public async Task<bool> DeleteAsync(string path, CancellationToken cancellationToken = default)
    {
        var blobName = BlobName(path);
        using var message = _client.CreateMessage(RequestMethod.Delete, blobName);
        var response = await _client.SendAsync(message, "Delete Blob", blobName, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            202 or 200 => true,
            404 when AzureBlobClient.ErrorCode(response) != "ContainerNotFound" => false,
            _ => throw _client.Failure(response, "Delete Blob", blobName),
        };
    }

    private HttpMessage CreatePutBlob(string blobName, RequestContent content)
    {
        var message = _client.CreateMessage(RequestMethod.Put, blobName);
        message.Request.Headers.SetValue("x-ms-blob-type", "BlockBlob");
        message.Request.Content = content;
        return message;
    }

    private async Task<bool> IsWrittenByAsync(string blobName, string writer, CancellationToken cancellationToken)
    {
        using var message = _client.CreateMessage(RequestMethod.Head, blobName);
        var response = await _client.SendAsync(message, "Get Blob Properties", blobName, cancellationToken).ConfigureAwait(false);
        return response.Status == 200
            && response.Headers.TryGetValue(WriterMetadata, out var value)
            && string.Equals(value, writer, StringComparison.Ordinal);
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

    /// <summary>ADLS Gen2 (hierarchical namespace) lists folders as empty blobs marked hdi_isfolder; they are not files.</summary>
    private static bool IsDirectory(XElement blob, XElement properties) =>
        string.Equals(properties.Element("ResourceType")?.Value, "directory", StringComparison.OrdinalIgnoreCase)
        || blob.Element("Metadata")?.Elements().Any(e => e.Name.LocalName.Equals("hdi_isfolder", StringComparison.OrdinalIgnoreCase)
            && e.Value.Equals("true", StringComparison.OrdinalIgnoreCase)) == true;

    private static DateTimeOffset ParseTime(string? value) =>
        value is not null && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time)
            ? time.ToUniversalTime()
            : DateTimeOffset.MinValue;

    /// <summary>ETags in one form, quoted, whether they came from a header ("0x8D…") or a listing (0x8D…).</summary>
    private static string? NormalizeETag(string? value) =>
        value is null || value.Length == 0 ? null : "\"" + value.Trim('"') + "\"";
}
