using System.Net;
using Lakehouse.Testing;

namespace Lakehouse.Serve.Tests;

/// <summary>The Idempotency-Key header: a retry of a request whose answer was lost lands nothing twice.</summary>
public sealed class IdempotencyKeyTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private const string Body = "{\"event_id\": \"a\"}\n{\"event_id\": \"b\"}\n";

    [Fact]
    public async Task Post_SameKeyAndBodyAgain_202DuplicateNamingAVersionThatHoldsThemAndLandedOnce()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        using var first = await scope.PostAsync("weblogs", Body, key: "batch-0001");
        using var retry = await scope.PostAsync("weblogs", Body, key: "\"batch-0001\""); // the structured-header string form is the same key

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.False(first.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        var (a, b) = (await ServerScope.JsonAsync(first), await ServerScope.JsonAsync(retry));
        Assert.False(a.GetProperty("duplicate").GetBoolean());
        Assert.True(b.GetProperty("duplicate").GetBoolean());
        Assert.Equal(2, b.GetProperty("accepted").GetInt32());
        Assert.NotEqual(a.GetProperty("requestId").GetString(), b.GetProperty("requestId").GetString());
        Assert.Equal(a.GetProperty("bronzeVersion").GetInt64(), b.GetProperty("bronzeVersion").GetInt64());
        var rows = await scope.BronzeAsync("weblogs");
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal(a.GetProperty("requestId").GetString(), r.Source));
        Assert.Equal(1, scope.Server.Ingest.Statistics.Duplicates);
    }

    [Fact]
    public async Task Post_SameKeyAfterOtherCommits_ReplaysTheFirstAnswersBronzeVersion()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        using var first = await scope.PostAsync("weblogs", Body, key: "first-version");
        for (var i = 0; i < 2; i++)
        {
            using var other = await scope.PostAsync("weblogs", "{\"event_id\": \"x\"}\n");
            Assert.Equal(1 + i, (await ServerScope.JsonAsync(other)).GetProperty("bronzeVersion").GetInt64());
        }
        using var retry = await scope.PostAsync("weblogs", Body, key: "first-version");

        var (a, b) = (await ServerScope.JsonAsync(first), await ServerScope.JsonAsync(retry));
        Assert.Equal(0, a.GetProperty("bronzeVersion").GetInt64());
        Assert.True(b.GetProperty("duplicate").GetBoolean());
        Assert.Equal(0, b.GetProperty("bronzeVersion").GetInt64());
        Assert.Equal(2, b.GetProperty("accepted").GetInt32());
        Assert.Equal(4, (await scope.BronzeAsync("weblogs")).Count);
    }

    [Fact]
    public async Task Post_KeyFirstUsedWithAnEmptyBody_OtherBody422SameEmptyBodyDuplicate()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        using var empty = await scope.PostAsync("weblogs", "", key: "empty-first");
        using var other = await scope.PostAsync("weblogs", Body, key: "empty-first");
        using var again = await scope.PostAsync("weblogs", "", key: "empty-first");
        using var nonEmpty = await scope.PostAsync("weblogs", Body, key: "full-first");
        using var emptyLater = await scope.PostAsync("weblogs", "\n", key: "full-first");

        Assert.Equal(HttpStatusCode.Accepted, empty.StatusCode);
        var a = await ServerScope.JsonAsync(empty);
        Assert.Equal(0, a.GetProperty("accepted").GetInt32());
        Assert.False(a.GetProperty("duplicate").GetBoolean());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, a.GetProperty("bronzeVersion").ValueKind);
        await HttpIngestTests.AssertProblemAsync(other, HttpStatusCode.UnprocessableEntity, "Idempotency-Key reused",
            "Idempotency-Key 'empty-first' was used before with a different body; nothing of this request was landed.");
        Assert.Equal(HttpStatusCode.Accepted, again.StatusCode);
        var c = await ServerScope.JsonAsync(again);
        Assert.True(c.GetProperty("duplicate").GetBoolean());
        Assert.Equal(0, c.GetProperty("accepted").GetInt32());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, c.GetProperty("bronzeVersion").ValueKind);
        Assert.Equal(HttpStatusCode.Accepted, nonEmpty.StatusCode);
        await HttpIngestTests.AssertProblemAsync(emptyLater, HttpStatusCode.UnprocessableEntity, "Idempotency-Key reused",
            "Idempotency-Key 'full-first' was used before with a different body; nothing of this request was landed.");
        var landed = (await ServerScope.JsonAsync(nonEmpty)).GetProperty("requestId").GetString();
        var rows = await scope.BronzeAsync("weblogs");
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Equal(landed, r.Source));
    }

    [Fact]
    public async Task Post_SameKeyOtherBody_422AndNothingLanded()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        using (var first = await scope.PostAsync("weblogs", Body, key: "k1")) Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        using var other = await scope.PostAsync("weblogs", "{\"event_id\": \"c\"}\n", key: "k1");
        await HttpIngestTests.AssertProblemAsync(other, HttpStatusCode.UnprocessableEntity, "Idempotency-Key reused",
            "Idempotency-Key 'k1' was used before with a different body; nothing of this request was landed.");
        Assert.Equal(2, (await scope.BronzeAsync("weblogs")).Count);
    }

    [Fact]
    public async Task Post_SameKeyFromManyClientsAtOnce_LandedOnceAllOthersDuplicates()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        var answers = await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            using var response = await scope.PostAsync("weblogs", Body, key: "same");
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            return (await ServerScope.JsonAsync(response)).GetProperty("duplicate").GetBoolean();
        }));
        Assert.Equal(1, answers.Count(d => !d));
        Assert.Equal(2, (await scope.BronzeAsync("weblogs")).Count);
    }

    [Fact]
    public async Task Post_KeyRetriedAfterARestart_Duplicate()
    {
        var lake = new TempDirectory("serve-key-restart");
        try
        {
            await using (var scope = await ServerScope.StartAsync(fixture.Engine, lake: lake))
            {
                using var first = await scope.PostAsync("weblogs", Body, key: "before-restart");
                Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
            }
            await using var again = await ServerScope.StartAsync(fixture.Engine, lake: lake);
            using var retry = await again.PostAsync("weblogs", Body, key: "before-restart");
            Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
            Assert.True((await ServerScope.JsonAsync(retry)).GetProperty("duplicate").GetBoolean());
            Assert.Equal(2, (await again.BronzeAsync("weblogs")).Count);
        }
        finally
        {
            lake.Dispose();
        }
    }

    [Fact]
    public async Task Post_KeyOnAnotherDataset_IndependentOfTheFirst()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        using (var weblogs = await scope.PostAsync("weblogs", Body, key: "shared")) Assert.Equal(HttpStatusCode.Accepted, weblogs.StatusCode);
        using var sensors = await scope.PostAsync("sensors", Body, key: "shared");
        Assert.False((await ServerScope.JsonAsync(sensors)).GetProperty("duplicate").GetBoolean());
        Assert.Equal(2, (await scope.BronzeAsync("sensors")).Count);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("\"\"")]
    public async Task Post_KeyNotVisibleAscii_400AndNothingLanded(string key)
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        using var response = await scope.PostAsync("weblogs", Body, key: key);
        await HttpIngestTests.AssertProblemAsync(response, HttpStatusCode.BadRequest, "Bad Idempotency-Key", "An Idempotency-Key is 1 to 255 visible ASCII characters");
        Assert.Empty(await scope.BronzeAsync("weblogs"));
    }

    [Fact]
    public async Task Post_KeyOver255Characters_400()
    {
        await using var scope = await ServerScope.StartAsync(fixture.Engine);
        using var response = await scope.PostAsync("weblogs", Body, key: new string('k', 256));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}
