using Microsoft.AspNetCore.Builder;

namespace Lakehouse.Serve;

/// <summary>
/// One group of endpoints of <c>lakehouse serve</c> (HTTP ingest, the dashboard, /metrics and /progress): it maps
/// its routes, and takes part in the start and the graceful stop of the server.
/// </summary>
internal interface IServerPart
{
    /// <summary>Prepares what the endpoints need before the server listens (e.g. the dataset list).</summary>
    Task StartAsync(CancellationToken cancellationToken);

    /// <summary>Maps the part's routes.</summary>
    void Map(WebApplication app);

    /// <summary>The server is stopping: refuse new work (503) while requests in flight finish.</summary>
    void BeginStop();

    /// <summary>The server has stopped listening: finish what was taken on (queued commits) and release resources.</summary>
    Task StopAsync();
}
