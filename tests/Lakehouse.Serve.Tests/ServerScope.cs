using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Lakehouse.Delta;
using Lakehouse.Delta.Scan;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Lakehouse.Testing;

namespace Lakehouse.Serve.Tests;

/// <summary>One bronze row as the tests read it back.</summary>
internal sealed record BronzeRow(byte[] Payload, string Kind, string Source, string? Partition, long? Offset, long? Line, string? Key, bool HasEnqueuedTime, long IngestTimeMs, string IngestDate);

/// <summary>
/// A real server (Kestrel on 127.0.0.1, a free port) over a temporary lake, a real HttpClient to talk to it, and the lake's
/// bronze rows read back through the Delta reader. Stops and deletes everything it started on dispose.
/// </summary>
internal sealed class ServerScope : IAsyncDisposable
{
    private readonly DuckEngine _engine;
    private readonly TempDirectory _temp;
    private readonly bool _ownsTemp;

    private ServerScope(DuckEngine engine, TempDirectory temp, bool ownsTemp, LakehouseServer server)
    {
        _engine = engine;
        _temp = temp;
        _ownsTemp = ownsTemp;
        Server = server;
        Client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 256, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            BaseAddress = server.Addresses[0],
            Timeout = TimeSpan.FromMinutes(2),
        };
    }

    internal LakehouseServer Server { get; }

    internal HttpClient Client { get; }

    internal string Lake => _temp.Path;

    internal Uri BaseAddress => Server.Addresses[0];

    /// <summary>Starts a server over a new temporary lake (or over <paramref name="lake"/>, which the caller keeps).</summary>
    internal static async Task<ServerScope> StartAsync(DuckEngine engine, Action<LakehouseServerOptions>? configure = null, TempDirectory? lake = null)
    {
        var temp = lake ?? new TempDirectory("serve");
        var options = new LakehouseServerOptions { Urls = ["http://127.0.0.1:0"], ShutdownTimeout = TimeSpan.FromSeconds(60) };
        configure?.Invoke(options);
        var server = LakehouseServer.Create(options, LakeStorage.Open(temp.Path), engine);
        try
        {
            await server.StartAsync();
        }
        catch
        {
            await server.DisposeAsync();
            if (lake is null) temp.Dispose();
            throw;
        }
        return new ServerScope(engine, temp, lake is null, server);
    }

    internal static ByteArrayContent Body(byte[] bytes, string contentType)
    {
        var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    internal Task<HttpResponseMessage> PostAsync(string dataset, string body, string contentType = "application/x-ndjson", string? key = null) =>
        PostAsync(dataset, Encoding.UTF8.GetBytes(body), contentType, key);

    internal async Task<HttpResponseMessage> PostAsync(string dataset, byte[] body, string contentType = "application/x-ndjson", string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/ingest/" + dataset) { Content = Body(body, contentType) };
        if (key is not null) request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        return await Client.SendAsync(request);
    }

    /// <summary>The JSON body of an answer.</summary>
    internal static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    /// <summary>Every row of <c>bronze.&lt;dataset&gt;</c> (none when the table does not exist), in source and line order.</summary>
    internal async Task<List<BronzeRow>> BronzeAsync(string dataset, long? version = null)
    {
        var table = DeltaTable.Open(LakeStorage.Open(_temp.Combine("bronze", dataset)), _engine);
        if (!await table.ExistsAsync()) return [];
        var snapshot = await table.GetSnapshotAsync(version);
        using var lease = _engine.Lease();
        using var scan = await DeltaScan.CreateAsync(table, snapshot, lease.Connection);
        using var result = lease.Connection.Query(
            $"SELECT payload, source_kind, source, source_partition, source_offset, source_line, source_key, enqueued_time IS NOT NULL, epoch_ms(ingest_time), CAST(ingest_date AS VARCHAR) FROM ({scan.Sql}) ORDER BY source, source_line");
        var rows = new List<BronzeRow>();
        while (result.Read())
        {
            rows.Add(new BronzeRow((byte[])result.GetValue(0)!, result.GetString(1), result.GetString(2), result.IsNull(3) ? null : result.GetString(3),
                result.IsNull(4) ? null : result.GetInt64(4), result.IsNull(5) ? null : result.GetInt64(5), result.IsNull(6) ? null : result.GetString(6), result.GetBoolean(7), result.GetInt64(8), result.GetString(9)));
        }
        return rows;
    }

    /// <summary>Rows per source (request id).</summary>
    internal async Task<Dictionary<string, int>> RowsByRequestAsync(string dataset) =>
        (await BronzeAsync(dataset)).GroupBy(r => r.Source).ToDictionary(g => g.Key, g => g.Count());

    /// <summary>A raw TCP connection to the server, for what HttpClient will not do (stop mid-body).</summary>
    internal async Task<Socket> ConnectAsync()
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(BaseAddress.Host, BaseAddress.Port);
        return socket;
    }

    /// <summary>Waits until <paramref name="condition"/> holds (at most 30 s).</summary>
    internal static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        for (var clock = System.Diagnostics.Stopwatch.StartNew(); clock.Elapsed < TimeSpan.FromSeconds(30); await Task.Delay(10))
        {
            if (condition()) return true;
        }
        return condition();
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
        if (_ownsTemp) _temp.Dispose();
    }
}
