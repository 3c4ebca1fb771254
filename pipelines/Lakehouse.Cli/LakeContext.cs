using Lakehouse.Core;
using Lakehouse.Delta;
using Lakehouse.Engine;
using Lakehouse.Storage;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Cli;

/// <summary>The lake a command works on (--lake, LAKEHOUSE_LAKE, or ./lake), the process's DuckDB engine, and the logging of the run.</summary>
internal sealed class LakeContext : IDisposable
{
    /// <summary>DuckDB's memory limit for the process (e.g. 512MB); unset: DuckDB's default, 80 % of RAM.</summary>
    internal const string MemoryLimitVariable = "LAKEHOUSE_MEMORY_LIMIT";

    private readonly Lazy<DuckEngine> _engine;

    /// <summary>A lake context; <paramref name="engineOptions"/> (e.g. a sandbox) apply when the engine is first used.</summary>
    internal LakeContext(string lakeLocation, ILoggerFactory loggerFactory, DuckEngineOptions? engineOptions = null)
    {
        LakeLocation = lakeLocation;
        LoggerFactory = loggerFactory;
        Logger = loggerFactory.CreateLogger<LakeContext>();
        var options = engineOptions ?? new DuckEngineOptions();
        options.LoggerFactory ??= loggerFactory;
        if (Environment.GetEnvironmentVariable(MemoryLimitVariable) is { Length: > 0 } limit)
        {
            try
            {
                options.MemoryLimit ??= limit;
            }
            catch (ArgumentException e)
            {
                throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"{MemoryLimitVariable} is '{CliErrors.Printable(limit)}': {CliErrors.MessageOf(e)}");
            }
        }
        // Opened on first use, in the background: the command reads its table's log while DuckDB loads.
        _engine = new(() => DuckEngine.OpenInBackground(options));
    }

    internal string LakeLocation { get; }

    internal ILoggerFactory LoggerFactory { get; }

    /// <summary>The CLI's logger for what happens in this lake.</summary>
    internal ILogger Logger { get; }

    internal DuckEngine Engine => _engine.Value;

    /// <summary>The lake's root folder or container. A local lake that is a file, not a folder, is refused with its path.</summary>
    internal ILakeStorage Root
    {
        get
        {
            var root = OpenStorage(LakeLocation, LoggerFactory);
            if (root.LocalPathOrNull("") is { } local) CheckFolder(local, mustExist: false);
            return root;
        }
    }

    /// <summary>
    /// The lake's root, for a command that reads a lake and writes only into one that exists (status, silver, gold, Synapse, table
    /// list): a local folder that does not exist is refused with its path, so a mistyped --lake is named as such instead of
    /// reported as a missing table.
    /// </summary>
    internal ILakeStorage ExistingRoot
    {
        get
        {
            var root = Root;
            if (root.LocalPathOrNull("") is { } local) CheckFolder(local, mustExist: true);
            return root;
        }
    }

    /// <summary>Refuses a local lake that is a file, and one that does not exist when <paramref name="mustExist"/>, naming the path.</summary>
    internal static void CheckFolder(string local, bool mustExist)
    {
        if (File.Exists(local))
            throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"The lake '{local}' is a file, not a folder (give --lake or set LAKEHOUSE_LAKE).");
        if (mustExist && !Directory.Exists(local))
            throw new LakehouseException(LakehouseErrorReason.NotFound, $"There is no lake at '{local}': the folder does not exist (give --lake or set LAKEHOUSE_LAKE).");
    }

    /// <summary>A table by <see cref="TableReference"/>: <c>layer.name</c> in the lake, a folder, or a URI.</summary>
    internal DeltaTable Table(string reference) => OpenTable(TableStorage(reference));

    /// <summary>The Delta table at <paramref name="storage"/>, on this lake's engine.</summary>
    internal DeltaTable OpenTable(ILakeStorage storage) => DeltaTable.Open(storage, Engine, LoggerFactory);

    internal ILakeStorage TableStorage(string reference)
    {
        var table = TableReference.Parse(reference);
        var storage = table.Layer is not null ? Root.Scope(table.Layer + "/" + table.Name) : OpenStorage(table.Location, LoggerFactory);
        Log.TableResolved(Logger, reference, storage.Location);
        return storage;
    }

    /// <summary>
    /// Opens a folder or a URI. Azure locations take their credentials from the environment; settings there that are not valid
    /// (a key that is not base64, a connection string part that is not Name=value, an endpoint with a query) are a
    /// <see cref="LakehouseException"/> naming the problem, never an unhandled ArgumentException.
    /// </summary>
    internal static ILakeStorage OpenStorage(string location, ILoggerFactory loggerFactory)
    {
        try
        {
            if (!location.Contains("://", StringComparison.Ordinal)) return LakeStorage.Open(location);
            var options = LakeStorageOptions.FromEnvironment();
            options.LoggerFactory = loggerFactory;
            return LakeStorage.Open(location, options);
        }
        catch (ArgumentException e)
        {
            throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                $"Cannot open '{Redacted(location)}': the storage settings are not valid: {CliErrors.MessageOf(e)}", e);
        }
    }

    private static string Redacted(string location) =>
        location.IndexOf('?', StringComparison.Ordinal) is var q and >= 0 ? location[..q] + "?<redacted>" : location;

    public void Dispose()
    {
        if (_engine.IsValueCreated) _engine.Value.Dispose();
    }
}

/// <summary>
/// What a table argument names. <c>layer.name</c> with a lake layer (bronze, silver, gold) and a table name
/// (<see cref="LakeNames.IsTableName"/>) is a table in the lake; a text with '://' is a URI; a text with a '/' in it, or starting with '.', is a folder
/// path; a bare name without '.' is a folder in the working directory. Anything else that looks like a lake name (an unknown
/// layer, a name with other characters) is refused, so a typo never creates a folder somewhere else.
/// </summary>
internal sealed record TableReference(string? Layer, string? Name, string Location)
{
    /// <summary>True when <paramref name="text"/> is a table in the lake, <c>layer.name</c>, as <see cref="Parse"/> takes it.</summary>
    internal static bool IsLakeName(string text)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        return dot > 0 && LakeNames.Layers.Contains(text[..dot], StringComparer.Ordinal) && LakeNames.IsTableName(text[(dot + 1)..]) &&
            !LakeNames.IsReserved(text[..dot], text[(dot + 1)..]);
    }

    internal static TableReference Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw CommandLine.Usage("the table is blank: give a lake name such as silver.weblogs, a folder, or an abfss:// URI");
        if (text.Contains("://", StringComparison.Ordinal)) return new(null, null, text);
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        var layer = dot > 0 ? text[..dot] : null;
        var layers = LakeNames.Layers;
        if (layer is not null && layers.Contains(layer, StringComparer.Ordinal))
        {
            var name = text[(dot + 1)..];
            if (!LakeNames.IsTableName(name))
                throw CommandLine.Usage($"'{text}' is not a lake table: the name after '{layer}.' must be {LakeNames.TableNameRule}" +
                    (text.Contains('/', StringComparison.Ordinal) ? "" : $" (a folder of that name is written ./{text})"));
            if (LakeNames.IsReserved(layer, name))
                throw CommandLine.Usage($"'{text}' is not a lake table: {LakeNames.ReservedRule}");
            return new(layer, name, text);
        }
        if (text.Contains('/', StringComparison.Ordinal) || text[0] == '.') return new(null, null, text);
        if (layer is not null)
            throw CommandLine.Usage($"'{text}' is not a lake table: '{layer}' is not a layer{CliHelp.Suggest(layer, layers)}; " +
                $"the layers are {string.Join(", ", layers.Take(layers.Count - 1))} and {layers[^1]} (a folder of that name is written ./{text})");
        return new(null, null, text);
    }
}
