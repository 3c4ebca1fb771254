using Lakehouse.Storage;

namespace Lakehouse.Testing;

/// <summary>A container of its own on an <see cref="AzuriteServer"/> for one test; deleted on dispose.</summary>
public sealed class AzuriteContainer : IAsyncDisposable
{
    private readonly AzuriteServer _server;

    internal AzuriteContainer(AzuriteServer server, string name)
    {
        _server = server;
        Name = name;
    }

    /// <summary>The container's name.</summary>
    public string Name { get; }

    /// <summary>The container as a lake location: <c>abfss://NAME@devstoreaccount1.dfs.core.windows.net</c>.</summary>
    public string Location => $"abfss://{Name}@{AzuriteServer.AccountName}.dfs.core.windows.net";

    /// <summary>Opens lake storage on a folder of the container, with the server's shared-key options unless others are given.</summary>
    public ILakeStorage Open(string path = "", LakeStorageOptions? options = null) =>
        LakeStorage.Open(path.Length == 0 ? Location : Location + "/" + path, options ?? _server.CreateOptions());

    /// <summary>Deletes the container and everything in it.</summary>
    public async ValueTask DisposeAsync() => await _server.DeleteContainerAsync(Name).ConfigureAwait(false);
}
