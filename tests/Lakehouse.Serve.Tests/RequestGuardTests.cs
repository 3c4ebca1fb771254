using System.Net;
using System.Text;
using Lakehouse.Testing;

namespace Lakehouse.Serve.Tests;

/// <summary>
/// What a web page can make a browser send to the server is refused, over a real connection: a POST from another origin (a simple
/// text/plain request needs no preflight) and any request naming a host the server does not answer to (DNS rebinding).
/// </summary>
public sealed class RequestGuardTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private static HttpRequestMessage Post(ServerScope scope, string body, params (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, new Uri(scope.BaseAddress, "/ingest/weblogs")) { Content = new StringContent(body, Encoding.UTF8, "text/plain") };
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return request;
    }

    [Fact]
    public async Task Post_FromAnotherOriginOrCrossSite_403AndNothingLanded_FromThisOriginOrAProgram_Landed()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        var own = scope.BaseAddress.GetLeftPart(UriPartial.Authority);

        using var evil = await scope.Client.SendAsync(Post(scope, "{\"event_id\":\"csrf-1\"}", ("Origin", "https://evil.example")));
        using var otherPort = await scope.Client.SendAsync(Post(scope, "{\"event_id\":\"csrf-2\"}", ("Origin", $"http://127.0.0.1:{scope.BaseAddress.Port + 1}")));
        using var sandboxed = await scope.Client.SendAsync(Post(scope, "{\"event_id\":\"csrf-3\"}", ("Origin", "null")));
        using var crossSite = await scope.Client.SendAsync(Post(scope, "{\"event_id\":\"csrf-4\"}", ("Sec-Fetch-Site", "cross-site")));
        using var page = await scope.Client.SendAsync(Post(scope, "{\"event_id\":\"page\"}", ("Origin", own), ("Sec-Fetch-Site", "same-origin")));
        using var program = await scope.Client.SendAsync(Post(scope, "{\"event_id\":\"curl\"}"));

        Assert.Equal([HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Accepted, HttpStatusCode.Accepted],
            new[] { evil, otherPort, sandboxed, crossSite, page, program }.Select(r => r.StatusCode));
        var problem = await ServerScope.JsonAsync(evil);
        Assert.Equal(("Cross-origin request refused", "A POST from another origin (https://evil.example) is refused: a web page may not change the lake. Send it from a program, or from a page of this server."),
            (problem.GetProperty("title").GetString(), problem.GetProperty("detail").GetString()));
        Assert.Equal(["{\"event_id\":\"curl\"}", "{\"event_id\":\"page\"}"], (await scope.BronzeAsync("weblogs")).Select(r => Encoding.UTF8.GetString(r.Payload)).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task AnyRequest_NamingAnotherHost_400_IpAddressesLocalhostAndAllowedHosts_Answered()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine, o => o.AllowedHosts = ["lake.example.org"]);

        async Task<HttpStatusCode> GetAsync(string host)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(scope.BaseAddress, "/api/versions"));
            request.Headers.Host = host;
            using var response = await scope.Client.SendAsync(request);
            return response.StatusCode;
        }

        var port = scope.BaseAddress.Port;
        Assert.Equal([HttpStatusCode.BadRequest, HttpStatusCode.BadRequest, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK],
            [await GetAsync($"evil.example:{port}"), await GetAsync("lake.example.org.evil.example"), await GetAsync($"127.0.0.1:{port}"),
             await GetAsync($"localhost:{port}"), await GetAsync($"[::1]:{port}"), await GetAsync($"LAKE.example.org:{port}")]);
    }
}
