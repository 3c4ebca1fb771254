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

    [Fact]
    public void LocalPathOrNull_File_IsInsideTheRoot()
    {
        Assert.Equal(Path.Combine(Storage.Location, "a", "b.parquet"), Storage.LocalPathOrNull("a/b.parquet"));
    }
}
