using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lakehouse.Core;
using Lakehouse.Gold.Serving;
using Lakehouse.Storage;

namespace Lakehouse.Cli.Commands;

/// <summary>
/// <c>lakehouse synapse script|deploy</c>: Synapse serverless views over the lake's silver and gold tables, and the Power BI data
/// source file for them (<see cref="SynapseScript"/>, <see cref="SynapseDeployer"/>).
/// </summary>
internal static class SynapseCommands
{
    private const string StorageUrlVariable = "LAKEHOUSE_SYNAPSE_STORAGE_URL";

    internal static Command Create(CliSession session)
    {
        var synapse = new CliCommand("synapse", "Serve the silver and gold tables through Synapse serverless SQL views, and Power BI through them.")
        {
            Examples =
            [
                "lakehouse synapse script --storage-url https://acct.dfs.core.windows.net/lake/prod --server ws-ondemand.sql.azuresynapse.net",
                "lakehouse synapse deploy --server ws-ondemand.sql.azuresynapse.net --lake abfss://lake@acct.dfs.core.windows.net/prod",
            ],
        };
        synapse.Subcommands.Add(CreateScript(session));
        synapse.Subcommands.Add(CreateDeploy(session));
        return synapse;
    }

    /// <summary>The options both commands take: what the script serves and how.</summary>
    private sealed class ScriptOptions
    {
        internal Option<string?> Database { get; } = CommandLine.Text("--database", $"The serverless database of the views (default {SynapseScriptOptions.DefaultDatabase}; created when missing).", "name");

        internal Option<string?> StorageUrl { get; } = CommandLine.Text("--storage-url",
            $"The lake's root as Synapse reads it: https://<account>.dfs.core.windows.net/<container>/<path> (default: from an abfss:// --lake, or {StorageUrlVariable}).", "url");

        internal Option<string> Credential { get; } = CommandLine.Choice("--credential",
            "How Synapse reads storage: the workspace's managed identity, or a SAS (its token only from LAKEHOUSE_SYNAPSE_SAS_TOKEN at deploy).",
            "managed-identity", "managed-identity", "sas");

        internal Option<long?> StringLength { get; } = CommandLine.WholeNumber("--string-length",
            "The length of string columns, VARCHAR(n) in UTF-8 bytes, 1 to 8000 (default: VARCHAR(MAX), which holds every value; a length is faster, for data known to fit).", min: 1, max: 8000);

        internal IEnumerable<Option> All => [Database, StorageUrl, Credential, StringLength];

        /// <summary>The script options of the command line; a value the options refuse is a usage error naming the option.</summary>
        internal SynapseScriptOptions Read(ParseResult parse, string lakeLocation, string? server, PowerBiMode mode)
        {
            var options = new SynapseScriptOptions { PowerBiMode = mode };
            Set("--database", () => { if (parse.GetValue(Database) is { } d) options.Database = d; });
            Set("--server", () => options.Server = server);
            Set("--string-length", () => { if (parse.GetValue(StringLength) is { } n) options.StringLength = (int)n; });
            options.Credential = parse.GetValue(Credential) == "sas" ? SynapseCredentialKind.SharedAccessSignature : SynapseCredentialKind.ManagedIdentity;
            var given = parse.GetValue(StorageUrl);
            var url = given ?? NonBlank(Environment.GetEnvironmentVariable(StorageUrlVariable));
            var source = given is not null ? "--storage-url" : StorageUrlVariable;
            if (url is not null && (url.TrimStart().StartsWith("abfss://", StringComparison.OrdinalIgnoreCase) || url.TrimStart().StartsWith("abfs://", StringComparison.OrdinalIgnoreCase)))
            {
                // The lake's own address form: the https URL Synapse reads is the same place (a message showed it without its container).
                options.StorageUrl = SynapseScriptOptions.StorageUrlOfLake(url)
                    ?? throw CommandLine.Usage(url.IndexOfAny(['?', '#']) >= 0
                        ? $"{source} '{Shown(url)}' has a query string or fragment; a SAS goes into the credential (--credential sas), never into the URL"
                        : $"{source} '{Shown(url)}' is not an ADLS Gen2 address: write abfss://<container>@<account>.dfs.core.windows.net/<path> " +
                          "or https://<account>.dfs.core.windows.net/<container>/<path>");
            }
            else if (url is not null)
            {
                if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri))
                    throw CommandLine.Usage($"{source} must be an absolute URL such as https://<account>.dfs.core.windows.net/<container>/<path>, not '{Shown(url)}'");
                Set(source, () => options.StorageUrl = uri);
            }
            else
            {
                options.StorageUrl = SynapseScriptOptions.StorageUrlOfLake(lakeLocation)
                    ?? throw CommandLine.Usage($"--storage-url is needed: the lake '{Shown(lakeLocation, lake: true)}' has no ADLS address Synapse could read. " +
                        "Give the URL of the lake's copy in ADLS Gen2 (https://<account>.dfs.core.windows.net/<container>/<path>), or run with an abfss:// --lake");
            }
            return options;
        }

        /// <summary>
        /// A storage URL, or the lake's location, as a message shows it: a URL without its query string or fragment (a SAS pasted into
        /// it stays out of the message, as the lake's own messages do; a local lake folder's name is shown whole), control characters
        /// escaped.
        /// </summary>
        private static string Shown(string location, bool lake = false) =>
            CliErrors.Printable((!lake || location.Contains("://", StringComparison.Ordinal)) && location.IndexOfAny(['?', '#']) is var q and >= 0
                ? location[..q] + "?<redacted>" : location);

        private static void Set(string option, Action set)
        {
            try
            {
                set();
            }
            catch (ArgumentException e)
            {
                throw CommandLine.Usage($"{option}: {CliErrors.MessageOf(e)}");
            }
        }

        private static string? NonBlank(string? text) => string.IsNullOrWhiteSpace(text) ? null : text;
    }

    private static CliCommand CreateScript(CliSession session)
    {
        var command = new CliCommand("script", "Write the T-SQL of the Synapse serverless views over every silver and gold table, and the Power BI data source file.")
        {
            Details = $"""
                Every Delta table directly under <lake>/silver and <lake>/gold gets a view [silver].[name] or [gold].[name] (tables whose
                name starts with '_' are the lake's bookkeeping and get none): OPENROWSET(BULK 'layer/name', FORMAT = 'DELTA') with a WITH
                clause typed from the table's latest schema (strings VARCHAR(MAX) COLLATE Latin1_General_100_BIN2_UTF8, or VARCHAR(n) with
                --string-length; long BIGINT, double FLOAT, boolean BIT, date DATE, timestamp DATETIME2(7) in UTC, decimal DECIMAL(p,s),
                struct/array/map VARCHAR(MAX) of JSON), partition columns included. Before them: the database (UTF-8 collation), a master key, the database scoped credential
                (managed identity, or a SAS whose token the script never holds), the external data source on --storage-url, the schemas.
                Idempotent: run it again after a new table or column (CREATE OR ALTER VIEW), and objects that exist are kept; a data source
                that points elsewhere is replaced. Batches are separated by GO lines.
                A table Synapse cannot read as it is (Delta reader version above 1, column mapping, a long _last_checkpoint, a name that
                cannot be a SQL name) stops the command with the reason, and nothing is written.
                Files: {SynapseScript.SqlFileName} and, with --server, {SynapseScript.PowerBiFileName} (open it in Power BI Desktop) in --out
                (default <lake>/_lakehouse/synapse).
                """,
            Examples =
            [
                "lakehouse synapse script --storage-url https://acct.dfs.core.windows.net/lake/prod --server ws-ondemand.sql.azuresynapse.net",
                "lakehouse synapse script --lake abfss://lake@acct.dfs.core.windows.net/prod --out ./synapse --database sales",
                "lakehouse synapse script --storage-url https://acct.dfs.core.windows.net/lake/prod --credential sas --json",
            ],
        };
        var shared = new ScriptOptions();
        var outDir = CommandLine.Text("--out", "The folder to write the files into (default <lake>/_lakehouse/synapse).", "dir");
        var server = CommandLine.Text("--server", "The serverless SQL endpoint for the Power BI file, <workspace>-ondemand.sql.azuresynapse.net (no .pbids without it).", "host");
        var mode = CommandLine.Choice("--powerbi-mode", "What the .pbids asks Power BI for: directquery (live queries), import, or ask (Power BI asks).", "directquery",
            "directquery", "import", "ask");
        var json = CommandLine.Flag("--json", "Print what was written as one JSON object.");
        foreach (var o in shared.All.Concat([outDir, server, mode, json])) command.Add(o);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var location = session.LakeLocation(parse);
            var options = shared.Read(parse, location, parse.GetValue(server), ParseMode(parse.GetValue(mode)!));
            var outFolder = parse.GetValue(outDir) is { } dir ? OutFolder(dir) : null;
            using var lake = session.OpenLake(parse);
            var script = await session.Progress.RunAsync("synapse script", _ => SynapseScript.FromLakeAsync(lake.ExistingRoot, lake.Engine, options, lake.LoggerFactory, cancellationToken))
                .ConfigureAwait(false);
            var folder = outFolder is not null ? LakeStorage.Open(outFolder) : lake.Root.Scope("_lakehouse/synapse");
            IReadOnlyList<string> written;
            try
            {
                written = await script.WriteAsync(folder, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (outFolder is not null && e is IOException or UnauthorizedAccessException)
            {
                // .NET's words alone ("Could not find a part of the path …", "Is a directory : …") did not say that --out was the problem.
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"--out '{CliErrors.Printable(parse.GetValue(outDir)!)}': {SynapseScript.SqlFileName} could not be written there ({e.Message}). Give a folder that can be " +
                    "created and written, with no folder of the files' names in it.", e);
            }
            var paths = written.Select(name => folder.Location.TrimEnd('/') + "/" + name).ToList();
            if (parse.GetValue(json))
            {
                await session.Out.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    database = script.Database,
                    storageUrl = script.StorageUrl.AbsoluteUri,
                    credential = script.Credential == SynapseCredentialKind.ManagedIdentity ? "managed-identity" : "sas",
                    server = script.Server,
                    batches = script.Batches.Count,
                    views = script.Views.Select(v => new { view = v.Layer + "." + v.Table, v.Version, columns = v.Columns.Count }),
                    files = paths,
                }, TableChange.JsonOptions)).ConfigureAwait(false);
            }
            else
            {
                await session.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{paths[0]}: {script.Batches.Count} batches, {script.Views.Count} view{(script.Views.Count == 1 ? "" : "s")} ({string.Join(", ", script.Views.Select(v => v.Layer + "." + v.Table))}) in database {script.Database}")).ConfigureAwait(false);
                if (paths.Count > 1)
                    await session.Out.WriteLineAsync($"{paths[1]}: Power BI data source for {script.Server}, database {script.Database} ({PowerBiModeText(script.PowerBiMode)})").ConfigureAwait(false);
            }
            if (script.Server is null)
                await session.Error.WriteLineAsync($"note: no {SynapseScript.PowerBiFileName} was written: give --server <workspace>-ondemand.sql.azuresynapse.net for it").ConfigureAwait(false);
            return CliApp.ExitOk;
        });
        return command;
    }

    /// <summary>
    /// The full path of <c>--out</c>, refused before any work when it cannot be the folder of the files: empty, or a file (it was
    /// refused after the script was made, with .NET's own words: "The value cannot be an empty string.", "The file … already exists.").
    /// </summary>
    private static string OutFolder(string dir)
    {
        if (string.IsNullOrWhiteSpace(dir)) throw CommandLine.Usage("--out must name a folder (created when missing), not an empty value");
        var full = Path.GetFullPath(dir);
        if (File.Exists(full))
            throw CommandLine.Usage($"--out '{CliErrors.Printable(dir)}' is a file, not a folder: give the folder to write {SynapseScript.SqlFileName} and {SynapseScript.PowerBiFileName} into (created when missing)");
        return full;
    }

    private static CliCommand CreateDeploy(CliSession session)
    {
        var command = new CliCommand("deploy", "Create or update the Synapse serverless views over every silver and gold table on a serverless SQL endpoint.")
        {
            Details = """
                Generates the script as 'lakehouse synapse script' does (same options) and runs it batch by batch through
                Microsoft.Data.SqlClient: the first batch (the database) in master, the others in the database. Signs in with a Microsoft
                Entra token for https://database.windows.net/: from LAKEHOUSE_SYNAPSE_ACCESS_TOKEN when set, else DefaultAzureCredential
                (AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, workload or managed identity, az login). With --credential sas the SAS
                token comes from LAKEHOUSE_SYNAPSE_SAS_TOKEN (else AZURE_STORAGE_SAS_TOKEN) and goes to the server as a parameter: it is
                never written to a file or a log. The identity needs to create the database (or be its owner) and to create credentials
                and data sources in it; with the managed identity, the workspace's identity needs Storage Blob Data Reader on the lake.
                A failed batch is reported by number and title with the server's message; the script is idempotent, so fix the cause
                and deploy again.
                """,
            Examples =
            [
                "lakehouse synapse deploy --server ws-ondemand.sql.azuresynapse.net --lake abfss://lake@acct.dfs.core.windows.net/prod",
                "lakehouse synapse deploy --server ws-ondemand.sql.azuresynapse.net --storage-url https://acct.dfs.core.windows.net/lake/prod --credential sas",
            ],
        };
        var shared = new ScriptOptions();
        var server = new Option<string>("--server") { Description = "The serverless SQL endpoint: <workspace>-ondemand.sql.azuresynapse.net (optionally ,port).", HelpName = "host", Required = true };
        var timeout = CommandLine.WholeNumber("--connect-timeout", "Seconds to wait for a connection (default 30).", min: 1, max: 600, helpName: "seconds");
        foreach (var o in shared.All.Concat([server, timeout])) command.Add(o);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var location = session.LakeLocation(parse);
            var endpoint = parse.GetValue(server)!;
            var options = shared.Read(parse, location, endpoint, PowerBiMode.DirectQuery);
            var deploy = SynapseDeployOptions.FromEnvironment(options.Server!);
            if (parse.GetValue(timeout) is { } seconds) deploy.ConnectTimeout = TimeSpan.FromSeconds(seconds);
            using var lake = session.OpenLake(parse);
            var script = await SynapseScript.FromLakeAsync(lake.ExistingRoot, lake.Engine, options, lake.LoggerFactory, cancellationToken).ConfigureAwait(false);
            var result = await session.Progress.RunAsync($"synapse deploy to {deploy.Server}", _ => SynapseDeployer.DeployAsync(script, deploy, lake.LoggerFactory, cancellationToken))
                .ConfigureAwait(false);
            await session.Out.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"{result.Server}, database {result.Database}: {result.Batches} batches ran, {result.Views} views created or altered ({result.Elapsed.TotalSeconds:0.0} s)")).ConfigureAwait(false);
            return CliApp.ExitOk;
        });
        return command;
    }

    private static PowerBiMode ParseMode(string text) => text switch
    {
        "import" => PowerBiMode.Import,
        "ask" => PowerBiMode.Ask,
        _ => PowerBiMode.DirectQuery,
    };

    private static string PowerBiModeText(PowerBiMode mode) => mode switch
    {
        PowerBiMode.Import => "Import",
        PowerBiMode.Ask => "Power BI asks for the mode",
        _ => "DirectQuery",
    };
}
