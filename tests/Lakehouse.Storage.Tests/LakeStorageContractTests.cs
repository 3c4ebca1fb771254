using System.Text;
using Lakehouse.Core;
using Lakehouse.Testing;

namespace Lakehouse.Storage.Tests;

/// <summary>
/// The behaviour every <see cref="ILakeStorage"/> must have, run against each implementation by a subclass that
/// supplies a fresh, empty storage per test (local folder, Azurite container).
/// </summary>
public abstract class LakeStorageContractTests : IAsyncLifetime
{
    /// <summary>Size of the "large" upload; the Azure subclass sets its block threshold below it.</summary>
    protected const int LargeUploadSize = (6 * 1024 * 1024) + 12345;

    private ILakeStorage? _storage;

    /// <summary>A local folder for the test's source files and caches.</summary>
    protected TempDirectory Scratch { get; } = new("storage");

    /// <summary>The storage under test: fresh and empty for each test.</summary>
    protected ILakeStorage Storage => _storage ?? throw new InvalidOperationException("Not initialised.");

    /// <summary>Creates an empty storage for one test.</summary>
    protected abstract Task<ILakeStorage> CreateStorageAsync();

    /// <summary>Releases what <see cref="CreateStorageAsync"/> made.</summary>
    protected abstract Task DeleteStorageAsync();

    public async Task InitializeAsync() => _storage = await CreateStorageAsync();

    public async Task DisposeAsync()
    {
        await DeleteStorageAsync();
        Scratch.Dispose();
    }

    [Fact]
    public async Task ListAsync_FolderPrefix_ReturnsFilesRecursivelySortedWithRelativePaths()
    {
        await PutTextAsync("t/_delta_log/00000000000000000001.json", "one");
        await PutTextAsync("t/_delta_log/00000000000000000000.json", "zero!");
        await PutTextAsync("t/_delta_log/_last_checkpoint", "{}");
        await PutTextAsync("t/sub/deep/x.parquet", "xx");
        await PutTextAsync("t/part-0.parquet", "p");
        await PutTextAsync("other/y", "y");

        var files = await ListAsync("t/");

        Assert.Equal(
            ["t/_delta_log/00000000000000000000.json", "t/_delta_log/00000000000000000001.json", "t/_delta_log/_last_checkpoint", "t/part-0.parquet", "t/sub/deep/x.parquet"],
            files.Select(f => f.Path));
        Assert.Equal([5L, 3, 2, 1, 2], files.Select(f => f.Size));
    }

    [Fact]
    public async Task ListAsync_PartialFileNamePrefix_ReturnsOnlyMatchingFiles()
    {
        await PutTextAsync("t/_delta_log/00000000000000000000.json", "a");
        await PutTextAsync("t/_delta_log/00000000000000000010.checkpoint.parquet", "b");
        await PutTextAsync("t/_delta_log/_last_checkpoint", "c");
        await PutTextAsync("t/_delta_log/_commits/00000000000000000011.uuid.json", "d");

        var files = await ListAsync("t/_delta_log/0000");

        Assert.Equal(["t/_delta_log/00000000000000000000.json", "t/_delta_log/00000000000000000010.checkpoint.parquet"], files.Select(f => f.Path));
    }

    [Fact]
    public async Task ListAsync_EmptyPrefix_ReturnsEveryFileInOrdinalOrder()
    {
        foreach (var path in new[] { "a/a.txt", "a/a/b", "a/Z", "a/_x", "a/B", "a/a-b", "b" })
            await PutTextAsync(path, path);

        var files = await ListAsync("");

        Assert.Equal(["a/B", "a/Z", "a/_x", "a/a-b", "a/a.txt", "a/a/b", "b"], files.Select(f => f.Path));
    }

    [Fact]
    public async Task ListAsync_MissingPrefix_ReturnsNothing()
    {
        await PutTextAsync("t/x", "x");

        Assert.Empty(await ListAsync("nothing/here/"));
        Assert.Empty(await ListAsync("t/y"));
    }

    [Fact]
    public async Task ListAsync_StartFrom_ListsOnlyPathsSortingAtOrAfterIt()
    {
        await PutTextAsync("t/_delta_log/00000000000000000009.json", "a");
        await PutTextAsync("t/_delta_log/00000000000000000010.checkpoint.parquet", "bb");
        await PutTextAsync("t/_delta_log/00000000000000000010.json", "ccc");
        await PutTextAsync("t/_delta_log/00000000000000000011.json", "dddd");
        await PutTextAsync("t/_delta_log/_last_checkpoint", "eeeee");
        await PutTextAsync("t/z.parquet", "f");

        var files = new List<LakeFile>();
        await foreach (var file in Storage.ListAsync("t/_delta_log/", "t/_delta_log/00000000000000000010")) files.Add(file);

        Assert.Equal(
            ["t/_delta_log/00000000000000000010.checkpoint.parquet", "t/_delta_log/00000000000000000010.json", "t/_delta_log/00000000000000000011.json", "t/_delta_log/_last_checkpoint"],
            files.Select(f => f.Path));
        Assert.Equal([2L, 3, 4, 5], files.Select(f => f.Size));
    }

    [Fact]
    public async Task ListAsync_File_MatchesGetInfo()
    {
        await PutTextAsync("t/f.json", "12345");

        var listed = Assert.Single(await ListAsync("t/"));
        var info = await Storage.GetInfoAsync("t/f.json");

        Assert.NotNull(info);
        Assert.Equal(info, listed);
    }

    [Fact]
    public async Task ReadAsync_ExistingFile_ReturnsWholeContent()
    {
        var content = Bytes(100_000, seed: 1);
        await Storage.PutAsync("r/file.bin", content);

        Assert.Equal(content, await Storage.ReadAsync("r/file.bin"));
    }

    [Fact]
    public async Task ReadAsync_MissingFile_ThrowsNotFound()
    {
        var e = await Assert.ThrowsAsync<LakehouseException>(() => Storage.ReadAsync("r/missing.bin"));

        Assert.Equal(LakehouseErrorReason.NotFound, e.Reason);
        Assert.False(e.IsTransient);
        Assert.Contains("missing.bin", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadRangeAsync_Middle_ReturnsThoseBytes()
    {
        var content = Bytes(10_000, seed: 2);
        await Storage.PutAsync("r/file.bin", content);

        Assert.Equal(content[1000..1500], await Storage.ReadRangeAsync("r/file.bin", 1000, 500));
        Assert.Equal(content[..1], await Storage.ReadRangeAsync("r/file.bin", 0, 1));
    }

    [Fact]
    public async Task ReadRangeAsync_PastEnd_ReturnsTheBytesThatExist()
    {
        var content = Bytes(10_000, seed: 3);
        await Storage.PutAsync("r/file.bin", content);

        Assert.Equal(content[9_990..], await Storage.ReadRangeAsync("r/file.bin", 9_990, 100));
        Assert.Empty(await Storage.ReadRangeAsync("r/file.bin", 10_000, 10));
        Assert.Empty(await Storage.ReadRangeAsync("r/file.bin", 20_000, 10));
        Assert.Empty(await Storage.ReadRangeAsync("r/file.bin", 5, 0));
    }

    [Fact]
    public async Task ReadRangeAsync_MissingFile_ThrowsNotFound()
    {
        var e = await Assert.ThrowsAsync<LakehouseException>(() => Storage.ReadRangeAsync("r/missing.bin", 0, 10));

        Assert.Equal(LakehouseErrorReason.NotFound, e.Reason);
    }

    [Fact]
    public async Task PutIfAbsentAsync_Twice_SecondThrowsAlreadyExistsAndFirstContentStays()
    {
        await Storage.PutIfAbsentAsync("_delta_log/00000000000000000000.json", "first"u8.ToArray());

        var e = await Assert.ThrowsAsync<LakehouseException>(
            () => Storage.PutIfAbsentAsync("_delta_log/00000000000000000000.json", "second"u8.ToArray()));

        Assert.Equal(LakehouseErrorReason.AlreadyExists, e.Reason);
        Assert.Equal("first", await ReadTextAsync("_delta_log/00000000000000000000.json"));
    }

    [Fact]
    public async Task PutIfAbsentAsync_EightConcurrentWriters_ExactlyOneWins()
    {
        const string path = "_delta_log/00000000000000000007.json";
        var writers = Enumerable.Range(0, 8).Select(async i =>
        {
            await Task.Yield();
            try
            {
                await Storage.PutIfAbsentAsync(path, Encoding.UTF8.GetBytes($"writer {i}"));
                return (Writer: i, Won: true);
            }
            catch (LakehouseException e) when (e.Reason == LakehouseErrorReason.AlreadyExists)
            {
                return (Writer: i, Won: false);
            }
        });

        var results = await Task.WhenAll(writers);

        var winner = Assert.Single(results, r => r.Won);
        Assert.Equal(7, results.Count(r => !r.Won));
        Assert.Equal($"writer {winner.Writer}", await ReadTextAsync(path));
    }

    [Fact]
    public async Task PutAsync_ExistingFile_ReplacesContent()
    {
        await PutTextAsync("p/f.txt", "old content, longer");
        await PutTextAsync("p/f.txt", "new");

        Assert.Equal("new", await ReadTextAsync("p/f.txt"));
        Assert.Equal(3, (await Storage.GetInfoAsync("p/f.txt"))?.Size);
    }

    [Fact]
    public async Task PutAsync_EmptyContent_CreatesEmptyFile()
    {
        await Storage.PutAsync("p/empty", ReadOnlyMemory<byte>.Empty);

        Assert.Equal(0, (await Storage.GetInfoAsync("p/empty"))?.Size);
        Assert.Empty(await Storage.ReadAsync("p/empty"));
        Assert.Empty(await Storage.ReadRangeAsync("p/empty", 0, 10));
    }

    [Fact]
    public async Task UploadAsync_FewMegabytes_StoresSameBytes()
    {
        var content = Bytes(3 * 1024 * 1024 + 17, seed: 4);
        var local = Scratch.Combine("upload.bin");
        await File.WriteAllBytesAsync(local, content);

        await Storage.UploadAsync("u/part-00000.parquet", local);

        Assert.Equal(content.Length, (await Storage.GetInfoAsync("u/part-00000.parquet"))?.Size);
        Assert.Equal(content, await Storage.ReadAsync("u/part-00000.parquet"));
    }

    [Fact]
    public async Task UploadAsync_AboveBlockThreshold_StoresSameBytes()
    {
        var content = Bytes(LargeUploadSize, seed: 5);
        var local = Scratch.Combine("large.bin");
        await File.WriteAllBytesAsync(local, content);

        await Storage.UploadAsync("u/large.parquet", local);

        Assert.Equal(content.Length, (await Storage.GetInfoAsync("u/large.parquet"))?.Size);
        Assert.Equal(content, await Storage.ReadAsync("u/large.parquet"));
        Assert.Equal(content[(5 * 1024 * 1024 - 10)..(5 * 1024 * 1024 + 10)], await Storage.ReadRangeAsync("u/large.parquet", 5 * 1024 * 1024 - 10, 20));
    }

    [Fact]
    public async Task UploadAsync_ExistingFile_ReplacesContent()
    {
        await PutTextAsync("u/f.txt", "old content");
        var local = Scratch.Combine("new.txt");
        await File.WriteAllTextAsync(local, "replacement");

        await Storage.UploadAsync("u/f.txt", local);

        Assert.Equal("replacement", await ReadTextAsync("u/f.txt"));
    }

    [Fact]
    public async Task DeleteAsync_ExistingFile_ReturnsTrueAndRemovesIt()
    {
        await PutTextAsync("d/f.txt", "x");
        await PutTextAsync("d/g.txt", "y");

        Assert.True(await Storage.DeleteAsync("d/f.txt"));

        Assert.Null(await Storage.GetInfoAsync("d/f.txt"));
        Assert.Equal(["d/g.txt"], (await ListAsync("d/")).Select(f => f.Path));
    }

    [Fact]
    public async Task DeleteAsync_MissingFile_ReturnsFalse()
    {
        Assert.False(await Storage.DeleteAsync("d/missing.txt"));
    }

    [Fact]
    public async Task GetInfoAsync_ExistingFile_ReturnsNormalisedPathSizeAndRecentTime()
    {
        var before = DateTimeOffset.UtcNow.AddMinutes(-5);
        await PutTextAsync("i/f.txt", "hello");

        var info = await Storage.GetInfoAsync("/i//f.txt");

        Assert.NotNull(info);
        Assert.Equal("i/f.txt", info.Path);
        Assert.Equal(5, info.Size);
        Assert.InRange(info.LastModified, before, DateTimeOffset.UtcNow.AddMinutes(5));
    }

    [Fact]
    public async Task GetInfoAsync_MissingFileOrFolder_ReturnsNull()
    {
        await PutTextAsync("i/sub/f.txt", "x");

        Assert.Null(await Storage.GetInfoAsync("i/missing.txt"));
        Assert.Null(await Storage.GetInfoAsync("i/sub"));
    }

    [Fact]
    public async Task GetLocalCopyAsync_ExistingFile_HasSameContent()
    {
        var content = Bytes(200_000, seed: 6);
        await Storage.PutAsync("c/part-1.parquet", content);

        var local = await Storage.GetLocalCopyAsync("c/part-1.parquet");

        Assert.True(Path.IsPathFullyQualified(local));
        Assert.Equal(content, await File.ReadAllBytesAsync(local));
    }

    [Fact]
    public async Task GetLocalCopyAsync_AfterOverwrite_ReturnsNewContent()
    {
        await PutTextAsync("c/f.json", "version one");
        Assert.Equal("version one", await File.ReadAllTextAsync(await Storage.GetLocalCopyAsync("c/f.json")));

        await PutTextAsync("c/f.json", "version two, longer");

        Assert.Equal("version two, longer", await File.ReadAllTextAsync(await Storage.GetLocalCopyAsync("c/f.json")));
    }

    [Fact]
    public async Task GetLocalCopyAsync_MissingFile_ThrowsNotFound()
    {
        var e = await Assert.ThrowsAsync<LakehouseException>(() => Storage.GetLocalCopyAsync("c/missing.parquet"));

        Assert.Equal(LakehouseErrorReason.NotFound, e.Reason);
    }

    [Fact]
    public async Task Scope_SubFolder_SeesOnlyItsFilesWithPathsRelativeToIt()
    {
        await PutTextAsync("s/a/x.txt", "x");
        await PutTextAsync("s/b.txt", "b");
        await PutTextAsync("sibling/c.txt", "c");

        var scoped = Storage.Scope("s");
        await scoped.PutAsync("new.txt", "n"u8.ToArray());

        Assert.Equal(["a/x.txt", "b.txt", "new.txt"], (await ListAsync(scoped, "")).Select(f => f.Path));
        Assert.Equal("x", Encoding.UTF8.GetString(await scoped.ReadAsync("a/x.txt")));
        Assert.Equal("n", await ReadTextAsync("s/new.txt"));
        Assert.EndsWith("/s", scoped.Location, StringComparison.Ordinal);
        Assert.Equal(["x.txt"], (await ListAsync(scoped.Scope("a/"), "")).Select(f => f.Path));
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("a/./x")]
    [InlineData("a\\x")]
    public async Task AnyOperation_PathEscapingTheRoot_ThrowsInvalidInput(string path)
    {
        var scoped = Storage.Scope("inner");

        Assert.Equal(LakehouseErrorReason.InvalidInput, (await Assert.ThrowsAsync<LakehouseException>(() => scoped.ReadAsync(path))).Reason);
        Assert.Equal(LakehouseErrorReason.InvalidInput, (await Assert.ThrowsAsync<LakehouseException>(() => scoped.PutAsync(path, "x"u8.ToArray()))).Reason);
        Assert.Equal(LakehouseErrorReason.InvalidInput, (await Assert.ThrowsAsync<LakehouseException>(() => scoped.PutIfAbsentAsync(path, "x"u8.ToArray()))).Reason);
        Assert.Equal(LakehouseErrorReason.InvalidInput, (await Assert.ThrowsAsync<LakehouseException>(() => scoped.DeleteAsync(path))).Reason);
        Assert.Equal(LakehouseErrorReason.InvalidInput, Assert.Throws<LakehouseException>(() => scoped.Scope(path)).Reason);
        Assert.Empty(await ListAsync(""));
    }

    protected static byte[] Bytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    protected Task PutTextAsync(string path, string text) => Storage.PutAsync(path, Encoding.UTF8.GetBytes(text));

    protected async Task<string> ReadTextAsync(string path) => Encoding.UTF8.GetString(await Storage.ReadAsync(path));

    protected Task<List<LakeFile>> ListAsync(string prefix) => ListAsync(Storage, prefix);

    protected static async Task<List<LakeFile>> ListAsync(ILakeStorage storage, string prefix)
    {
        var files = new List<LakeFile>();
        await foreach (var file in storage.ListAsync(prefix)) files.Add(file);
        return files;
    }
}
