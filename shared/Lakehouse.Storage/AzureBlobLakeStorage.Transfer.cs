using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Azure.Core;
using Lakehouse.Core;

namespace Lakehouse.Storage;

/// <summary>Streamed uploads (one Put Blob, or blocks for large files) and downloads into the local copy cache.</summary>
internal sealed partial class AzureBlobLakeStorage
{
    /// <summary>The service's limit on the number of blocks in one blob.</summary>
    private const int MaxBlocks = 50_000;

    /// <summary>Blocks uploaded at once by one upload.</summary>
    private const int BlockParallelism = 4;

    public async Task UploadAsync(string path, string localFile, CancellationToken cancellationToken = default)
    {
        var blobName = BlobName(path);
        var size = new FileInfo(localFile) is { Exists: true } info
            ? info.Length
            : throw new LakehouseException(LakehouseErrorReason.NotFound, $"The local file '{localFile}' to upload does not exist.");
        if (size <= _client.Options.BlockUploadThreshold)
        {
            var stream = new FileStream(localFile, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await using (stream.ConfigureAwait(false))
            {
                // Azure.Core rewinds a seekable stream for each retry.
                using var message = CreatePutBlob(blobName, RequestContent.Create(stream));
                var response = await _client.SendAsync(message, "Put Blob", blobName, cancellationToken).ConfigureAwait(false);
                if (response.Status != 201) throw _client.Failure(response, "Put Blob", blobName);
            }
            return;
        }
        await UploadBlocksAsync(blobName, localFile, size, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Put Block for each slice of the file (a few at a time), then Put Block List, which makes the new content visible at once.</summary>
    private async Task UploadBlocksAsync(string blobName, string localFile, long size, CancellationToken cancellationToken)
    {
        var blockSize = (int)Math.Max(_client.Options.BlockSize, (size + MaxBlocks - 1) / MaxBlocks);
        var count = (int)((size + blockSize - 1) / blockSize);
        // Block ids are unique per upload (uncommitted blocks belong to the blob) and all of one length, as the service requires.
        var upload = Guid.NewGuid().ToString("N")[..12];
        var ids = Enumerable.Range(0, count)
            .Select(i => Convert.ToBase64String(Encoding.ASCII.GetBytes($"{upload}-{i:D6}")))
            .ToArray();

        using var handle = File.OpenHandle(localFile, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = BlockParallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, count), parallel, async (index, token) =>
        {
            var offset = (long)index * blockSize;
            var length = (int)Math.Min(blockSize, size - offset);
            var buffer = ArrayPool<byte>.Shared.Rent(length);
            try
            {
                var read = 0;
                while (read < length)
                {
                    var got = await RandomAccess.ReadAsync(handle, buffer.AsMemory(read, length - read), offset + read, token).ConfigureAwait(false);
                    if (got == 0)
                        throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"The local file '{localFile}' shrank while it was uploaded.");
                    read += got;
                }
                using var message = _client.CreateMessage(RequestMethod.Put, blobName);
                message.Request.Uri.AppendQuery("comp", "block");
                message.Request.Uri.AppendQuery("blockid", ids[index]);
                message.Request.Content = RequestContent.Create(buffer.AsMemory(0, length));
                var response = await _client.SendAsync(message, "Put Block", blobName, token).ConfigureAwait(false);
                if (response.Status != 201) throw _client.Failure(response, "Put Block", blobName);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }
        }).ConfigureAwait(false);

        var list = new StringBuilder("<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>");
        foreach (var id in ids) list.Append("<Latest>").Append(id).Append("</Latest>");
        list.Append("</BlockList>");
        using var commit = _client.CreateMessage(RequestMethod.Put, blobName);
        commit.Request.Uri.AppendQuery("comp", "blocklist");
        commit.Request.Headers.SetValue("Content-Type", "application/xml");
        commit.Request.Content = RequestContent.Create(Encoding.UTF8.GetBytes(list.ToString()));
        var committed = await _client.SendAsync(commit, "Put Block List", blobName, cancellationToken).ConfigureAwait(false);
        if (committed.Status != 201) throw _client.Failure(committed, "Put Block List", blobName);
    }

    public async Task<string> GetLocalCopyAsync(string path, CancellationToken cancellationToken = default)
    {
        var blobName = BlobName(path);
        var folder = Path.Combine(_client.CacheDirectory, Hash($"{_client.AccountEndpoint.GetLeftPart(UriPartial.Path)}|{_client.Container}|{blobName}"));
        for (var attempt = 1; ; attempt++)
        {
            var info = await GetInfoAsync(path, cancellationToken).ConfigureAwait(false)
                ?? throw new LakehouseException(LakehouseErrorReason.NotFound, $"{_client.Describe(blobName)} does not exist.");
            var file = Path.Combine(folder, $"{info.Size}-{Hash(info.ETag ?? info.LastModified.ToString("O"))[..16]}{Extension(blobName)}");
            if (File.Exists(file) && new FileInfo(file).Length == info.Size) return file;

            Directory.CreateDirectory(folder);
            var temp = file + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp";
            try
            {
                using var message = _client.CreateMessage(RequestMethod.Get, blobName);
                message.BufferResponse = false;
                if (info.ETag is not null) message.Request.Headers.SetValue("If-Match", info.ETag);
                var response = await _client.SendAsync(message, "Get Blob", blobName, cancellationToken).ConfigureAwait(false);
                if (response.Status == 412 && attempt < 3) continue; // Changed since the HEAD: key the copy by the new etag.
                if (response.Status != 200) throw _client.Failure(response, "Get Blob", blobName);
                var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous);
                await using (stream.ConfigureAwait(false))
                {
                    await response.ContentStream!.CopyToAsync(stream, cancellationToken).ConfigureAwait(false);
                }
                var written = new FileInfo(temp).Length;
                if (written != info.Size)
                    throw new LakehouseException(LakehouseErrorReason.Storage,
                        $"Get Blob of {_client.Describe(blobName)} returned {written} bytes, expected {info.Size}.");
                // Readers only ever see complete copies: write aside, then rename (concurrent downloads write the same bytes).
                File.Move(temp, file, overwrite: true);
            }
            finally
            {
                if (File.Exists(temp)) File.Delete(temp);
            }
            RemoveOlderCopies(folder, file);
            return file;
        }
    }

    /// <summary>Deletes copies of earlier versions of the blob (best effort: a reader may hold one open, which Linux allows).</summary>
    private static void RemoveOlderCopies(string folder, string keep)
    {
        foreach (var old in Directory.EnumerateFiles(folder))
        {
            if (string.Equals(old, keep, StringComparison.Ordinal)) continue;
            if (old.EndsWith(".tmp", StringComparison.Ordinal) && File.GetLastWriteTimeUtc(old) > DateTime.UtcNow.AddHours(-1)) continue;
            try
            {
                File.Delete(old);
            }
            catch (IOException)
            {
                // In use elsewhere; the next download tries again.
            }
            catch (UnauthorizedAccessException)
            {
                // Same.
            }
        }
    }

    /// <summary>The blob's file extension when it is a plain one (engines pick readers by it), else none.</summary>
    private static string Extension(string blobName)
    {
        var extension = Path.GetExtension(blobName);
        return extension.Length is > 1 and <= 16 && extension.Skip(1).All(char.IsAsciiLetterOrDigit) ? extension : "";
    }

    private static string Hash(string value) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(value)))[..32];
}
