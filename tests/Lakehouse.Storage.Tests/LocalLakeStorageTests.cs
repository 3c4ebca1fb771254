using Lakehouse.Testing;

namespace Lakehouse.Storage.Tests;

/// <summary>The storage contract on a local temp folder.</summary>
public sealed class LocalLakeStorageTests : LakeStorageContractTests
{
    private TempDirectory? _lake;

    protected override Task<ILakeStorage> CreateStorageAsync()
    {
        _lake = new TempDirectory("lake");
        return Task.FromResult(LakeStorage.Open(_lake.Path));
    }

    protected override Task DeleteStorageAsync()
    {
        _lake?.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>
    /// A listing holds regular files only (a link to one included): a FIFO, or a link to it, is not listed, as reading one blocks
    /// until a writer comes.
    /// </summary>
    [Fact]
    public async Task ListAsync_FifoBesideFiles_OnlyTheRegularFilesListed()
    {
        var root = Storage.LocalPathOrNull("")!;
        await Storage.PutAsync("in/a.json", "{}"u8.ToArray());
        var (made, output) = await LocalServers.RunAsync("mkfifo", [Path.Combine(root, "in", "b.json")], TimeSpan.FromSeconds(30));
        Assert.True(made == 0, output);
        File.CreateSymbolicLink(Path.Combine(root, "in", "c.json"), Path.Combine(root, "in", "a.json"));
        File.CreateSymbolicLink(Path.Combine(root, "in", "d.json"), Path.Combine(root, "in", "b.json"));
        var listed = new List<string>();
        await foreach (var f in Storage.ListAsync("in/")) listed.Add(f.Path);
        Assert.Equal(["in/a.json", "in/c.json"], listed);
    }

    [Fact]
    public void LocalPathOrNull_File_IsInsideTheRoot()
    {
        Assert.Equal(Path.Combine(Storage.Location, "a", "b.parquet"), Storage.LocalPathOrNull("a/b.parquet"));
    }
}
