using System.Globalization;
using System.Net;
using Microsoft.Azure.Cosmos;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Newtonsoft.Json;

namespace Lakehouse.Pipelines.State;

/// <summary>
/// The pipeline state in Cosmos DB (NoSQL API), with point reads and writes only: create answers 409 when the item
/// exists, replace carries <c>If-Match</c> with the ETag read and answers 412 when it is stale. Three containers
/// (runs, activities partitioned by run, landed files), created when missing. Listing runs reads the runs container's
/// feed (no SQL query, so no query plan) and sorts here: fine for thousands of runs, not for millions.
/// </summary>
public sealed class CosmosPipelineStateStore : IPipelineStateStore
{
    private readonly CosmosClient _client;
    private readonly bool _ownsClient;
    private readonly CosmosStateOptions _options;
    private readonly ILogger _logger;
    private Container? _runs;
    private Container? _activities;
    private Container? _files;

    /// <summary>Connects with <paramref name="options"/> (see <see cref="CosmosStateOptions.FromEnvironment"/>).</summary>
    public CosmosPipelineStateStore(CosmosStateOptions options, ILogger<CosmosPipelineStateStore>? logger = null)
        : this(options, CreateClientOptions(), logger)
    {
    }

    /// <summary>Connects with client options of the caller's (tests: an HTTP handler trusting the emulator's certificate).</summary>
    internal CosmosPipelineStateStore(CosmosStateOptions options, CosmosClientOptions clientOptions, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _options = options.Validated();
        _logger = logger ?? NullLogger.Instance;
        _client = new CosmosClient(options.Endpoint!.ToString(), options.Key, clientOptions);
        _ownsClient = true;
    }

    /// <summary>Gateway mode, the serializer settings the documents need, few retries so errors show quickly.</summary>
    internal static CosmosClientOptions CreateClientOptions() => new()
    {
        ConnectionMode = ConnectionMode.Gateway,
        MaxRetryAttemptsOnRateLimitedRequests = 9,
        RequestTimeout = TimeSpan.FromSeconds(30),
        SerializerOptions = new CosmosSerializationOptions { IgnoreNullValues = false },
    };

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        var database = (await _client.CreateDatabaseIfNotExistsAsync(_options.Database, cancellationToken: cancellationToken).ConfigureAwait(false)).Database;
        _runs = await ContainerAsync(database, "runs", cancellationToken).ConfigureAwait(false);
        _activities = await ContainerAsync(database, "activities", cancellationToken).ConfigureAwait(false);
        _files = await ContainerAsync(database, "files", cancellationToken).ConfigureAwait(false);
        var location = _options.ToString();
        StateLog.Opened(_logger, "cosmos", location);
    }

    /// <inheritdoc />
    public async Task<PipelineRunRecord> CreateRunAsync(PipelineRunRecord run, CancellationToken cancellationToken = default)
    {
        StateKeys.ValidateRun(run);
        var document = RunDocument.From(run);
        try
        {
            var response = await Runs.CreateItemAsync(document, new PartitionKey(document.Pk), cancellationToken: cancellationToken).ConfigureAwait(false);
            return run with { ETag = response.ETag };
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            throw new PipelineStateConflictException($"Pipeline run '{StateKeys.Display(run.RunId)}' exists already.", e);
        }
    }

    /// <inheritdoc />
    public async Task<PipelineRunRecord?> TryGetRunAsync(string runId, CancellationToken cancellationToken = default)
    {
        StateKeys.Validate(runId, "run id");
        var id = StateKeys.CosmosId(runId);
        var (document, etag) = await ReadAsync<RunDocument>(Runs, id, id, cancellationToken).ConfigureAwait(false);
        return document?.ToRecord(etag);
    }

    /// <inheritdoc />
    public async Task<PipelineRunRecord> UpdateRunAsync(PipelineRunRecord run, CancellationToken cancellationToken = default)
    {
        StateKeys.ValidateRun(run);
        if (run.ETag is null)
            throw new PipelineStateConflictException($"Pipeline run '{StateKeys.Display(run.RunId)}' has no ETag; read it before updating it.");
        var document = RunDocument.From(run);
        try
        {
            var response = await Runs.ReplaceItemAsync(document, document.Id, new PartitionKey(document.Pk),
                new ItemRequestOptions { IfMatchEtag = run.ETag }, cancellationToken).ConfigureAwait(false);
            return run with { ETag = response.ETag };
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            StateLog.Conflict(_logger, "pipeline run", run.RunId);
            throw new PipelineStateConflictException(
                $"Pipeline run '{StateKeys.Display(run.RunId)}' changed since it was read (ETag {run.ETag} is stale); read it again.", e);
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new PipelineStateNotFoundException($"Pipeline run '{StateKeys.Display(run.RunId)}' does not exist in the state store.", e);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<PipelineRunRecord>> ListRunsAsync(string? pipeline = null, int limit = 50, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        var runs = new List<PipelineRunRecord>();
        await foreach (var (document, etag) in ReadFeedAsync<RunDocument>(Runs, null, cancellationToken).ConfigureAwait(false))
        {
            if (pipeline is null || document.Pipeline == pipeline) runs.Add(document.ToRecord(etag));
        }
        return [.. runs.OrderByDescending(r => r.StartedAt).ThenBy(r => r.RunId, StringComparer.Ordinal).Take(limit)];
    }

    /// <inheritdoc />
    public async Task<ActivityRunRecord> SaveActivityAsync(ActivityRunRecord activity, CancellationToken cancellationToken = default)
    {
        StateKeys.ValidateActivity(activity);
        var document = ActivityDocument.From(activity);
        var key = $"{StateKeys.Display(activity.RunId)}/{StateKeys.Display(activity.ActivityName)}";
        try
        {
            var response = activity.ETag is null
                ? await Activities.CreateItemAsync(document, new PartitionKey(document.Pk), cancellationToken: cancellationToken).ConfigureAwait(false)
                : await Activities.ReplaceItemAsync(document, document.Id, new PartitionKey(document.Pk),
                    new ItemRequestOptions { IfMatchEtag = activity.ETag }, cancellationToken).ConfigureAwait(false);
            return activity with { ETag = response.ETag };
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            throw new PipelineStateConflictException($"Activity run '{key}' exists already; update it with the ETag it was read at.", e);
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.PreconditionFailed)
        {
            StateLog.Conflict(_logger, "activity run", key);
            throw new PipelineStateConflictException($"Activity run '{key}' changed since it was read (ETag {activity.ETag} is stale); read it again.", e);
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            throw new PipelineStateNotFoundException($"Activity run '{key}' does not exist in the state store.", e);
        }
    }

    /// <inheritdoc />
    public async Task<ActivityRunRecord?> TryGetActivityAsync(string runId, string activityName, CancellationToken cancellationToken = default)
    {
        StateKeys.Validate(runId, "run id");
        StateKeys.Validate(activityName, "activity name");
        var (document, etag) = await ReadAsync<ActivityDocument>(Activities, StateKeys.CosmosId(runId, activityName), StateKeys.CosmosId(runId), cancellationToken)
            .ConfigureAwait(false);
        return document?.ToRecord(etag);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<ActivityRunRecord>> ListActivitiesAsync(string runId, CancellationToken cancellationToken = default)
    {
        StateKeys.Validate(runId, "run id");
        var activities = new List<ActivityRunRecord>();
        await foreach (var (document, etag) in ReadFeedAsync<ActivityDocument>(Activities, StateKeys.CosmosId(runId), cancellationToken).ConfigureAwait(false))
        {
            if (document.RunId == runId) activities.Add(document.ToRecord(etag));
        }
        return [.. activities.OrderBy(a => a.StartedAt).ThenBy(a => a.ActivityName, StringComparer.Ordinal)];
    }

    /// <inheritdoc />
    public async Task<LandedFileClaim> ClaimFileAsync(LandedFile file, string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        StateKeys.Validate(file.Path, "file path");
        StateKeys.Validate(runId, "run id");
        ArgumentOutOfRangeException.ThrowIfNegative(file.Size);
        var document = FileDocument.From(file, runId, DateTimeOffset.UtcNow);
        try
        {
            await Files.CreateItemAsync(document, new PartitionKey(document.Pk), cancellationToken: cancellationToken).ConfigureAwait(false);
            StateLog.FileClaimed(_logger, file.Path, runId);
            return new LandedFileClaim(true, runId, Parse(document.ClaimedAt));
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.Conflict)
        {
            var (first, _) = await ReadAsync<FileDocument>(Files, document.Id, document.Pk, cancellationToken).ConfigureAwait(false);
            if (first is null)
                throw new InvalidOperationException($"The claim of '{StateKeys.Display(file.Path)}' conflicted but the first claim cannot be read.", e);
            StateLog.FileSeenBefore(_logger, file.Path, first.RunId);
            return new LandedFileClaim(false, first.RunId, Parse(first.ClaimedAt));
        }
    }

    /// <inheritdoc />
    public async Task<LandedFileClaim?> TryGetClaimAsync(LandedFile file, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(file);
        StateKeys.Validate(file.Path, "file path");
        var key = FileDocument.From(file, "", DateTimeOffset.UtcNow);
        var (first, _) = await ReadAsync<FileDocument>(Files, key.Id, key.Pk, cancellationToken).ConfigureAwait(false);
        return first is null ? null : new LandedFileClaim(false, first.RunId, Parse(first.ClaimedAt));
    }

    /// <summary>Disposes the Cosmos client.</summary>
    public ValueTask DisposeAsync()
    {
        if (_ownsClient) _client.Dispose();
        return ValueTask.CompletedTask;
    }

    private Container Runs => _runs ?? throw NotInitialized();

    private Container Activities => _activities ?? throw NotInitialized();

    private Container Files => _files ?? throw NotInitialized();

    private static InvalidOperationException NotInitialized() => new("Call InitializeAsync on the Cosmos DB state store before using it.");

    private async Task<Container> ContainerAsync(Database database, string name, CancellationToken cancellationToken)
    {
        var id = _options.ContainerPrefix + name;
        var response = await database.CreateContainerIfNotExistsAsync(new ContainerProperties(id, "/pk"), cancellationToken: cancellationToken).ConfigureAwait(false);
        StateLog.CosmosContainerReady(_logger, _options.Database, id);
        return response.Container;
    }

    private static async Task<(T? Document, string? ETag)> ReadAsync<T>(Container container, string id, string partitionKey, CancellationToken cancellationToken)
        where T : class
    {
        try
        {
            var response = await container.ReadItemAsync<T>(id, new PartitionKey(partitionKey), cancellationToken: cancellationToken).ConfigureAwait(false);
            return (response.Resource, response.ETag);
        }
        catch (CosmosException e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return (null, null);
        }
    }

    private static async IAsyncEnumerable<(T Document, string ETag)> ReadFeedAsync<T>(Container container, string? partitionKey,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
        where T : IDocument
    {
        var requestOptions = new QueryRequestOptions { MaxItemCount = 1000 };
        if (partitionKey is not null) requestOptions.PartitionKey = new PartitionKey(partitionKey);
        using var feed = container.GetItemQueryIterator<T>(queryText: null, requestOptions: requestOptions);
        while (feed.HasMoreResults)
        {
            foreach (var document in await feed.ReadNextAsync(cancellationToken).ConfigureAwait(false))
                yield return (document, document.ETag ?? "");
        }
    }

    // Times are stored as round-trip strings: JSON numbers lose ticks past 2^53 in JavaScript-based servers.
    private static string Format(DateTimeOffset value) => value.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    private static string? Format(DateTimeOffset? value) => value is { } v ? Format(v) : null;

    private static DateTimeOffset Parse(string value) => DateTimeOffset.ParseExact(value, "O", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private static DateTimeOffset? ParseNullable(string? value) => value is null ? null : Parse(value);

    private interface IDocument
    {
        string? ETag { get; }
    }

    private sealed class RunDocument : IDocument
    {
        [JsonProperty("id")] public string Id { get; set; } = "";
        [JsonProperty("pk")] public string Pk { get; set; } = "";
        [JsonProperty("runId")] public string RunId { get; set; } = "";
        [JsonProperty("pipeline")] public string Pipeline { get; set; } = "";
        [JsonProperty("parameters")] public string Parameters { get; set; } = "";
        [JsonProperty("status")] public string Status { get; set; } = "";
        [JsonProperty("startedAt")] public string StartedAt { get; set; } = "";
        [JsonProperty("endedAt")] public string? EndedAt { get; set; }
        [JsonProperty("error")] public string? Error { get; set; }
        [JsonProperty("_etag", NullValueHandling = NullValueHandling.Ignore)] public string? ETag { get; set; }

        public static RunDocument From(PipelineRunRecord run)
        {
            var id = StateKeys.CosmosId(run.RunId);
            return new RunDocument
            {
                Id = id,
                Pk = id,
                RunId = run.RunId,
                Pipeline = run.Pipeline,
                Parameters = run.ParametersJson,
                Status = run.Status.ToString(),
                StartedAt = Format(run.StartedAt),
                EndedAt = Format(run.EndedAt),
                Error = run.Error,
            };
        }

        public PipelineRunRecord ToRecord(string? etag) =>
            new(RunId, Pipeline, Parameters, Enum.Parse<RunStatus>(Status), Parse(StartedAt), ParseNullable(EndedAt), Error, etag ?? ETag);
    }

    private sealed class ActivityDocument : IDocument
    {
        [JsonProperty("id")] public string Id { get; set; } = "";
        [JsonProperty("pk")] public string Pk { get; set; } = "";
        [JsonProperty("runId")] public string RunId { get; set; } = "";
        [JsonProperty("activity")] public string Activity { get; set; } = "";
        [JsonProperty("attempt")] public int Attempt { get; set; }
        [JsonProperty("status")] public string Status { get; set; } = "";
        [JsonProperty("output")] public string? Output { get; set; }
        [JsonProperty("startedAt")] public string StartedAt { get; set; } = "";
        [JsonProperty("endedAt")] public string? EndedAt { get; set; }
        [JsonProperty("error")] public string? Error { get; set; }
        [JsonProperty("_etag", NullValueHandling = NullValueHandling.Ignore)] public string? ETag { get; set; }

        public static ActivityDocument From(ActivityRunRecord activity) => new()
        {
            Id = StateKeys.CosmosId(activity.RunId, activity.ActivityName),
            Pk = StateKeys.CosmosId(activity.RunId),
            RunId = activity.RunId,
            Activity = activity.ActivityName,
            Attempt = activity.Attempt,
            Status = activity.Status.ToString(),
            Output = activity.OutputJson,
            StartedAt = Format(activity.StartedAt),
            EndedAt = Format(activity.EndedAt),
            Error = activity.Error,
        };

        public ActivityRunRecord ToRecord(string? etag) => new(RunId, Activity, Attempt, Enum.Parse<RunStatus>(Status), Output,
            Parse(StartedAt), ParseNullable(EndedAt), Error, etag ?? ETag);
    }

    private sealed class FileDocument : IDocument
    {
        [JsonProperty("id")] public string Id { get; set; } = "";
        [JsonProperty("pk")] public string Pk { get; set; } = "";
        [JsonProperty("path")] public string Path { get; set; } = "";
        [JsonProperty("size")] public string Size { get; set; } = "";
        [JsonProperty("modifiedAt")] public string ModifiedAt { get; set; } = "";
        [JsonProperty("sourceEtag")] public string SourceETag { get; set; } = "";
        [JsonProperty("runId")] public string RunId { get; set; } = "";
        [JsonProperty("claimedAt")] public string ClaimedAt { get; set; } = "";
        [JsonProperty("_etag", NullValueHandling = NullValueHandling.Ignore)] public string? ETag { get; set; }

        public static FileDocument From(LandedFile file, string runId, DateTimeOffset now)
        {
            var size = file.Size.ToString(CultureInfo.InvariantCulture);
            var modified = Format(file.ModifiedAt);
            var id = StateKeys.CosmosId(file.Path, size, modified, file.SourceETag ?? "");
            return new FileDocument
            {
                Id = id,
                Pk = id,
                Path = file.Path,
                Size = size,
                ModifiedAt = modified,
                SourceETag = file.SourceETag ?? "",
                RunId = runId,
                ClaimedAt = Format(now),
            };
        }
    }
}
