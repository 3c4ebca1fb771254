using System.Globalization;
using System.Text;
using System.Text.Json;
using Lakehouse.Storage;

namespace Lakehouse.Gold.Serving;

/// <summary>A column of a served table: its Delta name and type, and the T-SQL type its view reads it as.</summary>
/// <param name="Name">The column's name in the Delta schema (and in the view).</param>
/// <param name="DeltaType">The Delta type: string, long, decimal(10,2), struct, array, ...</param>
/// <param name="SqlType">The T-SQL type of the view's <c>WITH</c> clause.</param>
/// <param name="IsPartition">True for a partition column (Synapse reads its value from the folder names and prunes on it).</param>
public sealed record SynapseColumn(string Name, string DeltaType, string SqlType, bool IsPartition);

/// <summary>A view over one Delta table of the lake: <c>[layer].[table]</c> reading <c>layer/table</c> under the data source.</summary>
/// <param name="Layer">silver or gold: the view's schema.</param>
/// <param name="Table">The table's folder name: the view's name.</param>
/// <param name="Version">The Delta version whose schema the view follows.</param>
/// <param name="Columns">Every column of the table's schema, partition columns included, in schema order.</param>
public sealed record SynapseView(string Layer, string Table, long Version, IReadOnlyList<SynapseColumn> Columns)
{
    /// <summary>The table's folder relative to the lake root: the view's <c>BULK</c> path under the data source.</summary>
    public string RelativePath => Layer + "/" + Table;
}

/// <summary>One batch of the script (the text between two <c>GO</c> lines).</summary>
/// <param name="Title">What the batch does, for progress and error messages: "database", "view gold.alerts", ...</param>
/// <param name="Sql">The T-SQL of the batch, without <c>GO</c>.</param>
/// <param name="InMaster">True when the batch runs in <c>master</c> (creating the database); false for the database itself.</param>
public sealed record SynapseBatch(string Title, string Sql, bool InMaster);

/// <summary>
/// The T-SQL that serves the lake's silver and gold Delta tables through Synapse serverless SQL, and the Power BI data source
/// file for it. The script is idempotent and runs batch by batch (<c>GO</c> between batches): the database with the UTF-8
/// collation, a master key, the database scoped credential, the external data source on the lake's root, one schema per layer
/// (<c>silver</c>, <c>gold</c>), and one <c>CREATE OR ALTER VIEW</c> per table, each an <c>OPENROWSET(BULK …, FORMAT = 'DELTA')</c>
/// with an explicit <c>WITH</c> clause typed from the table's Delta schema. Every name is a quoted identifier and every value a
/// Unicode literal (<see cref="TSqlText"/>); the script never holds a secret.
/// </summary>
public sealed partial class SynapseScript
{
    /// <summary>
    /// The parameter that carries the SAS token into the credential batch when <see cref="SynapseScriptOptions.Credential"/> is
    /// <see cref="SynapseCredentialKind.SharedAccessSignature"/>: <see cref="SynapseDeployer"/> passes it; by hand, declare it at
    /// the top of that batch.
    /// </summary>
    public const string SasTokenParameter = "@sas_token";

    /// <summary>The file name of the script.</summary>
    public const string SqlFileName = "synapse.sql";

    /// <summary>The file name of the Power BI data source file.</summary>
    public const string PowerBiFileName = "lakehouse.pbids";

    /// <summary>The name of the database scoped credential for the managed identity.</summary>
    internal const string ManagedIdentityCredentialName = "lakehouse_managed_identity";

    /// <summary>The name of the database scoped credential for a SAS.</summary>
    internal const string SasCredentialName = "lakehouse_sas";

    /// <summary>The name of the external data source on the lake's root.</summary>
    internal const string DataSourceName = "lakehouse_lake";

    private SynapseScript(string database, Uri storageUrl, SynapseCredentialKind credential, string? server, PowerBiMode powerBiMode,
        IReadOnlyList<SynapseView> views, IReadOnlyList<SynapseBatch> batches)
    {
        Database = database;
        StorageUrl = storageUrl;
        Credential = credential;
        Server = server;
        PowerBiMode = powerBiMode;
        Views = views;
        Batches = batches;
    }

    /// <summary>The serverless database the views live in.</summary>
    public string Database { get; }

    /// <summary>The lake's root: the external data source's location (ends in '/').</summary>
    public Uri StorageUrl { get; }

    /// <summary>How the data source authenticates to storage.</summary>
    public SynapseCredentialKind Credential { get; }

    /// <summary>The serverless endpoint of the Power BI data source file, or null (then there is no such file).</summary>
    public string? Server { get; }

    /// <summary>The connection mode the Power BI data source file asks for.</summary>
    public PowerBiMode PowerBiMode { get; }

    /// <summary>The views, silver's then gold's, each layer's by table name (ordinal).</summary>
    public IReadOnlyList<SynapseView> Views { get; }

    /// <summary>The batches in the order they run; the first runs in master, the others in <see cref="Database"/>.</summary>
    public IReadOnlyList<SynapseBatch> Batches { get; }

    /// <summary>
    /// The script over <paramref name="views"/>: the batches, with every name and value quoted. Throws a
    /// <see cref="Core.LakehouseException"/> (InvalidInput) naming the first name or value that cannot be quoted safely.
    /// </summary>
    internal static SynapseScript Create(IReadOnlyList<SynapseView> views, SynapseScriptOptions options)
    {
        options.Validate();
        var database = options.Database;
        var url = options.StorageUrl!;
        var credential = options.Credential == SynapseCredentialKind.ManagedIdentity ? ManagedIdentityCredentialName : SasCredentialName;
        var batches = new List<SynapseBatch>
        {
            new("database", $"""
                IF DB_ID({TSqlText.Literal(database, "The database name")}) IS NULL
                    CREATE DATABASE {TSqlText.Identifier(database, "The database name")} COLLATE {SynapseTypes.Utf8Collation};
                """, InMaster: true),
            new("master key", """
                IF NOT EXISTS (SELECT * FROM sys.symmetric_keys WHERE name = N'##MS_DatabaseMasterKey##')
                    CREATE MASTER KEY;
                """, InMaster: false),
            new("credential", options.Credential == SynapseCredentialKind.ManagedIdentity ? ManagedIdentityBatch() : SasBatch(), InMaster: false),
            new("data source", DataSourceBatch(url, credential), InMaster: false),
        };
        var layers = views.Select(v => v.Layer).Distinct(StringComparer.Ordinal).ToList();
        if (layers.Count > 0)
        {
            batches.Add(new("schemas", string.Join('\n', layers.Select(layer =>
                $"IF SCHEMA_ID({TSqlText.Literal(layer, "The schema name")}) IS NULL EXEC ({TSqlText.Literal("CREATE SCHEMA " + TSqlText.Identifier(layer, "The schema name"))});")),
                InMaster: false));
        }
        foreach (var view in views) batches.Add(new($"view {view.Layer}.{view.Table}", ViewBatch(view), InMaster: false));
        return new SynapseScript(database, url, options.Credential, options.Server, options.PowerBiMode, views, batches);
    }

    private static string ManagedIdentityBatch() => $"""
        IF NOT EXISTS (SELECT * FROM sys.database_scoped_credentials WHERE name = {TSqlText.Literal(ManagedIdentityCredentialName)})
            CREATE DATABASE SCOPED CREDENTIAL {TSqlText.Identifier(ManagedIdentityCredentialName)} WITH IDENTITY = 'Managed Identity';
        """;

    /// <summary>
    /// The SAS credential, created or altered (so a rerun with a new token rotates it), from the parameter: the statement is
    /// built at run time with the token quoted by REPLACE, so the token is neither in the script nor able to end its literal.
    /// </summary>
    private static string SasBatch()
    {
        var name = TSqlText.Literal(SasCredentialName);
        var statement = TSqlText.Literal(" DATABASE SCOPED CREDENTIAL " + TSqlText.Identifier(SasCredentialName) + " WITH IDENTITY = 'SHARED ACCESS SIGNATURE', SECRET = N'");
        return $"""
            -- The SAS token is the parameter {SasTokenParameter}: lakehouse synapse deploy passes it from LAKEHOUSE_SYNAPSE_SAS_TOKEN
            -- (or AZURE_STORAGE_SAS_TOKEN). By hand, put DECLARE {SasTokenParameter} NVARCHAR(MAX) = N'<token>'; above this line.
            IF {SasTokenParameter} IS NULL OR LEN({SasTokenParameter}) = 0
                THROW 50000, N'The SAS token parameter {SasTokenParameter} is empty.', 1;
            DECLARE @statement NVARCHAR(MAX) =
                CASE WHEN EXISTS (SELECT * FROM sys.database_scoped_credentials WHERE name = {name}) THEN N'ALTER' ELSE N'CREATE' END
                + {statement} + REPLACE({SasTokenParameter}, N'''', N'''''') + N''';';
            EXEC sys.sp_executesql @statement;
            """;
    }

    /// <summary>
    /// The data source, created when missing; one that points elsewhere or uses another credential (the lake moved, the credential
    /// changed) is dropped first, so the views never keep reading an old location.
    /// </summary>
    private static string DataSourceBatch(Uri url, string credential)
    {
        var name = TSqlText.Literal(DataSourceName);
        var location = TSqlText.Literal(url.AbsoluteUri, "The storage URL");
        return $"""
            IF EXISTS (SELECT * FROM sys.external_data_sources WHERE name = {name})
                AND NOT EXISTS (
                    SELECT * FROM sys.external_data_sources AS s
                    JOIN sys.database_scoped_credentials AS c ON c.credential_id = s.credential_id
                    WHERE s.name = {name} AND s.location = {location} AND c.name = {TSqlText.Literal(credential)})
                DROP EXTERNAL DATA SOURCE {TSqlText.Identifier(DataSourceName)};
            IF NOT EXISTS (SELECT * FROM sys.external_data_sources WHERE name = {name})
                CREATE EXTERNAL DATA SOURCE {TSqlText.Identifier(DataSourceName)}
                WITH (LOCATION = {location}, CREDENTIAL = {TSqlText.Identifier(credential)});
            """;
    }

    private static string ViewBatch(SynapseView view)
    {
        var sb = new StringBuilder();
        var partitions = view.Columns.Where(c => c.IsPartition).Select(c => c.Name).ToList();
        sb.Append(CultureInfo.InvariantCulture, $"-- {view.Layer}.{view.Table}: {view.Columns.Count} columns");
        if (partitions.Count > 0) sb.Append(", partitioned by ").Append(string.Join(", ", partitions.Select(p => TSqlText.Identifier(p, "The column name"))));
        sb.Append('\n');
        sb.Append("CREATE OR ALTER VIEW ").Append(TSqlText.Identifier(view.Layer, "The schema name")).Append('.')
            .Append(TSqlText.Identifier(view.Table, "The table name")).Append('\n');
        sb.Append("AS\nSELECT *\nFROM OPENROWSET(\n");
        sb.Append("    BULK ").Append(TSqlText.Literal(view.RelativePath, "The table path")).Append(",\n");
        sb.Append("    DATA_SOURCE = ").Append(TSqlText.Literal(DataSourceName)).Append(",\n");
        sb.Append("    FORMAT = 'DELTA'\n");
        sb.Append(")\nWITH (\n");
        for (var i = 0; i < view.Columns.Count; i++)
        {
            var c = view.Columns[i];
            sb.Append("    ").Append(TSqlText.Identifier(c.Name, "The column name")).Append(' ').Append(c.SqlType);
            sb.Append(i < view.Columns.Count - 1 ? ",\n" : "\n");
        }
        sb.Append(") AS [rows];");
        return sb.ToString();
    }

    /// <summary>
    /// The whole script as a file: a header, the batches separated by <c>GO</c> lines, and <c>USE [database]</c> after the first
    /// batch, so it runs as it is in Synapse Studio, Azure Data Studio or sqlcmd.
    /// </summary>
    public string ToSql()
    {
        var sb = new StringBuilder();
        sb.Append("""
            -- Synapse serverless SQL: views over the lakehouse's silver and gold Delta tables.
            -- Written by `lakehouse synapse script`; run it with `lakehouse synapse deploy`, or batch by batch (GO ends a batch)
            -- in Synapse Studio or sqlcmd. Idempotent: objects that exist are kept, views are replaced (CREATE OR ALTER VIEW).
            """).Append("\n\n");
        var inMaster = true;
        foreach (var batch in Batches)
        {
            if (inMaster && !batch.InMaster)
            {
                sb.Append("USE ").Append(TSqlText.Identifier(Database, "The database name")).Append(";\nGO\n\n");
                inMaster = false;
            }
            sb.Append(batch.Sql).Append("\nGO\n\n");
        }
        return sb.ToString(0, sb.Length - 1);
    }

    /// <summary>
    /// The Power BI data source file (<c>.pbids</c>) for the serverless endpoint and database: opened in Power BI Desktop, it asks
    /// for the sign-in (Microsoft account) and shows the views to pick. Null when <see cref="Server"/> is not known.
    /// </summary>
    public string? ToPowerBiDataSource()
    {
        if (Server is null) return null;
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("version", "0.1");
            json.WriteStartArray("connections");
            json.WriteStartObject();
            json.WriteStartObject("details");
            json.WriteString("protocol", "tds");
            json.WriteStartObject("address");
            json.WriteString("server", Server);
            json.WriteString("database", Database);
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteStartObject("options");
            json.WriteEndObject();
            if (PowerBiMode == PowerBiMode.Ask) json.WriteNull("mode");
            else json.WriteString("mode", PowerBiMode.ToString());
            json.WriteEndObject();
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()).Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";
    }

    /// <summary>
    /// Writes <see cref="SqlFileName"/> and, when the server is known, <see cref="PowerBiFileName"/> into <paramref name="folder"/>
    /// (each replaced whole: a reader never sees half a file). Returns the names written.
    /// </summary>
    public async Task<IReadOnlyList<string>> WriteAsync(ILakeStorage folder, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(folder);
        var written = new List<string>();
        await folder.PutAsync(SqlFileName, Encoding.UTF8.GetBytes(ToSql()), cancellationToken).ConfigureAwait(false);
        written.Add(SqlFileName);
        if (ToPowerBiDataSource() is { } pbids)
        {
            await folder.PutAsync(PowerBiFileName, Encoding.UTF8.GetBytes(pbids), cancellationToken).ConfigureAwait(false);
            written.Add(PowerBiFileName);
        }
        return written;
    }
}
