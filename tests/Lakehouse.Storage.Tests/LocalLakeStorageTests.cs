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

    /// <summary>
    /// The local file a reader is given (DuckDB reads it) is the lake's own: a link to a file inside the lake is followed, one that
    /// leads out of it, as the file itself or as a folder on the way from a scope of the lake, is refused naming both.
    /// </summary>
    [Fact]
    public async Task GetLocalCopyAsync_LinkLeadingOutOfTheLake_RefusedOneInsideFollowed()
    {
        using var outside = new TempDirectory("outside");
        var root = Storage.LocalPathOrNull("")!;
        await Storage.PutAsync("gold/t/a.parquet", "PAR1"u8.ToArray());
        File.WriteAllText(Path.Combine(outside.Path, "secret.parquet"), "secret");
        Directory.CreateDirectory(Path.Combine(outside.Path, "table"));
        File.WriteAllText(Path.Combine(outside.Path, "table", "b.parquet"), "secret");
        File.CreateSymbolicLink(Path.Combine(root, "gold", "t", "inside.parquet"), Path.Combine(root, "gold", "t", "a.parquet"));
        File.CreateSymbolicLink(Path.Combine(root, "gold", "t", "out.parquet"), Path.Combine(outside.Path, "secret.parquet"));
        Directory.CreateSymbolicLink(Path.Combine(root, "gold", "linked"), Path.Combine(outside.Path, "table"));
        var table = Storage.Scope("gold/t");

        Assert.Equal(Path.Combine(root, "gold", "t", "inside.parquet"), await table.GetLocalCopyAsync("inside.parquet"));
        var file = await Assert.ThrowsAsync<Lakehouse.Core.LakehouseException>(() => table.GetLocalCopyAsync("out.parquet"));
        var folder = await Assert.ThrowsAsync<Lakehouse.Core.LakehouseException>(() => Storage.Scope("gold/linked").GetLocalCopyAsync("b.parquet"));

        Assert.Equal($"'out.parquet' in {Path.Combine(root, "gold", "t")} is reached through a symbolic link to {Path.Combine(outside.Path, "secret.parquet")}, " +
            $"outside the lake {root}: the lake reads only its own files.", file.Message);
        Assert.Contains($"is reached through a symbolic link to {Path.Combine(outside.Path, "table")}, outside the lake", folder.Message, StringComparison.Ordinal);
        // A table folder that is such a link: its log is neither read nor listed.
        var linked = Storage.Scope("gold/linked");
        await Assert.ThrowsAsync<Lakehouse.Core.LakehouseException>(() => linked.ReadAsync("b.parquet"));
        await Assert.ThrowsAsync<Lakehouse.Core.LakehouseException>(async () =>
        {
            await foreach (var f in linked.ListAsync("")) Assert.Fail("listed " + f.Path);
        });
        Assert.Equal("PAR1"u8.ToArray(), await table.ReadAsync("inside.parquet"));
        // A log file (or a checkpoint read in ranges) that is such a link: not read.
        Directory.CreateDirectory(Path.Combine(root, "gold", "t", "_delta_log"));
        File.CreateSymbolicLink(Path.Combine(root, "gold", "t", "_delta_log", "00000000000000000000.json"), Path.Combine(outside.Path, "secret.parquet"));
        await Assert.ThrowsAsync<Lakehouse.Core.LakehouseException>(() => table.ReadAsync("_delta_log/00000000000000000000.json"));
        await Assert.ThrowsAsync<Lakehouse.Core.LakehouseException>(() => table.ReadRangeAsync("_delta_log/00000000000000000000.json", 0, 4));
    }

    [Fact]
    public void LocalPathOrNull_File_IsInsideTheRoot()
    {
        Assert.Equal(Path.Combine(Storage.Location, "a", "b.parquet"), Storage.LocalPathOrNull("a/b.parquet"));
    }
}
