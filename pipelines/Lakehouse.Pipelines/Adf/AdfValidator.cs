using System.Text.RegularExpressions;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;
using NJsonSchema;
using NJsonSchema.Validation;

namespace Lakehouse.Pipelines.Adf;

/// <summary>One problem in one ADF file: where it is, which rule it breaks, and why.</summary>
/// <param name="File">The file as given (or found).</param>
/// <param name="Path">The JSON path in the file (<c>$</c> for the whole file).</param>
/// <param name="Rule">The rule: <c>microsoft:&lt;kind&gt;</c>, <c>overlay:&lt;kind&gt;</c> or <c>lakehouse:&lt;name&gt;</c>.</param>
/// <param name="Message">A readable reason.</param>
public sealed record AdfProblem(string File, string Path, string Rule, string Message)
{
    /// <inheritdoc />
    public override string ToString() => $"{File}: {Path}: {Rule}: {Message}";
}

/// <summary>
/// Checks ADF files in ADF's Git layout (<c>factory/</c>, <c>linkedService/</c>, <c>pipeline/</c>, <c>trigger/</c>, <c>dataset/</c>)
/// against Microsoft's Data Factory schema (draft-04, offline copy in <c>shared/schemas/adf</c>), the project's strict overlay for
/// pipelines, and a few rules no schema can say (no literal secret in a linked service, unique activity names, dependsOn targets).
/// </summary>
public sealed partial class AdfValidator
{
    /// <summary>Files larger than this are refused unread (ADF itself limits a resource to a few MB).</summary>
    public const long MaxFileBytes = 4 * 1024 * 1024;

    /// <summary>
    /// The text of an ADF file (a pipeline, trigger, linked service…), read up to <see cref="MaxFileBytes"/> whatever the file is
    /// (a pipe, a device), without a UTF-8 byte order mark; <paramref name="subject"/> names it in messages.
    /// </summary>
    /// <exception cref="Core.LakehouseException">A folder, a missing file, or more than <see cref="MaxFileBytes"/>.</exception>
    internal static string ReadFile(string file, string subject) => Core.UserFiles.ReadText(file, MaxFileBytes, subject, "an ADF resource");

    /// <summary>The deepest nesting of arrays and objects a file may have.</summary>
    private const int MaxDepth = 128;

    private const string MicrosoftUrl = "https://schema.management.azure.com/schemas/2018-06-01/Microsoft.DataFactory.json";
    private const string ArmExpressionPattern = @"^\[([^\[].*)?\]$";
    private const string DefinitionsUrl = "https://schema.management.azure.com/schemas/common/definitions.json";

    private static readonly Regex NamePattern = new(@"^[A-Za-z0-9_][^<>*#.%&:\\+?/]*$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    private static readonly Regex FactoryNamePattern = new("^[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    private static readonly Regex SecretInConnectionString = new("(AccountKey|Password|Pwd|SharedAccessSignature|SharedAccessKey)\\s*=", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    private static readonly HashSet<string> SecretProperties = new(StringComparer.OrdinalIgnoreCase)
    {
        "password", "accountKey", "accessKey", "sasToken", "sasUri", "servicePrincipalKey", "clientSecret", "secret", "key", "encryptedCredential",
    };

    private readonly Dictionary<string, JsonSchema> _kinds;
    private readonly JsonSchema _overlay;
    private readonly HashSet<string> _pipelineKeys;
    private readonly HashSet<string> _activityKeys;

    private AdfValidator(Dictionary<string, JsonSchema> kinds, JsonSchema overlay, JsonSchema armTemplate)
    {
        (_kinds, _overlay, _armTemplate) = (kinds, overlay, armTemplate);

        // Microsoft's schema lets any extra property through (additionalProperties {} on Activity, none on Pipeline), so a typo such as
        // "dependson" would pass silently; the names it declares are the allowed ones.
        _pipelineKeys = [.. kinds["pipeline"].ActualProperties.Keys];
        var activity = kinds["pipeline"].ActualProperties["activities"].ActualSchema.OneOf.First(s => s.Item is not null).Item!.ActualSchema;
        _activityKeys = [.. activity.ActualProperties.Keys.Concat(activity.OneOf.SelectMany(b => b.ActualSchema.ActualProperties.Keys))];
    }

    /// <summary>The folders (kinds) this validator knows, as ADF's Git layout names them.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["factory", "linkedService", "pipeline", "trigger", "dataset"];

    /// <summary>Loads Microsoft's schema and the overlay from <paramref name="schemaDirectory"/> (the <c>shared/schemas/adf</c> folder).</summary>
    /// <exception cref="FileNotFoundException">A schema file is missing.</exception>
    public static async Task<AdfValidator> LoadAsync(string schemaDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(schemaDirectory);
        var msPath = Path.Combine(schemaDirectory, "microsoft", "2018-06-01", "Microsoft.DataFactory.json");
        var defsPath = Path.Combine(schemaDirectory, "microsoft", "common", "definitions.json");
        var overlayPath = Path.Combine(schemaDirectory, "local", "adf-strict-overlay.schema.json");
        var armPath = Path.Combine(schemaDirectory, "local", "adf-arm-template.schema.json");
        foreach (var p in new[] { msPath, defsPath, overlayPath, armPath })
        {
            if (!File.Exists(p)) throw new FileNotFoundException($"ADF schema file missing: {p} (set --schemas or LAKEHOUSE_ADF_SCHEMAS to the shared/schemas/adf folder)", p);
        }

        var definitions = await JsonSchema.FromFileAsync(defsPath, cancellationToken).ConfigureAwait(false);
        var msJson = WithResourceDefinitions(await File.ReadAllTextAsync(msPath, cancellationToken).ConfigureAwait(false));
        var microsoft = await JsonSchema.FromJsonAsync(msJson, msPath, schema =>
        {
            var resolver = new JsonReferenceResolver(new JsonSchemaAppender(schema, new DefaultTypeNameGenerator()));
            resolver.AddDocumentReference(DefinitionsUrl, definitions);
            resolver.AddDocumentReference(MicrosoftUrl, schema);
            return resolver;
        }, cancellationToken).ConfigureAwait(false);
        var overlay = await JsonSchema.FromFileAsync(overlayPath, cancellationToken).ConfigureAwait(false);
        var armTemplate = await LoadArmTemplateSchemaAsync(armPath, definitions, microsoft, cancellationToken).ConfigureAwait(false);
        var kinds = new Dictionary<string, JsonSchema>(StringComparer.Ordinal)
        {
            ["factory"] = microsoft.Definitions["FactoryProperties"],
            ["linkedService"] = microsoft.Definitions["LinkedService"],
            ["pipeline"] = microsoft.Definitions["Pipeline"],
            ["trigger"] = microsoft.Definitions["Trigger"],
            ["dataset"] = microsoft.Definitions["Dataset"],
        };
        return new AdfValidator(kinds, overlay, armTemplate);
    }

    /// <summary>The kind of a file from its folder (<c>pipeline/x.json</c> → <c>pipeline</c>), or null when the folder is not one of <see cref="Kinds"/>.</summary>
    public static string? KindOf(string file)
    {
        var folder = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(file)));
        return Kinds.FirstOrDefault(k => string.Equals(k, folder, StringComparison.Ordinal));
    }

    /// <summary>Every <c>*.json</c> file under the folders of <see cref="Kinds"/> in <paramref name="root"/>, sorted.</summary>
    public static IReadOnlyList<string> FindFiles(string root) =>
        [.. Kinds.Select(k => Path.Combine(root, k)).Where(Directory.Exists)
            .SelectMany(d => Directory.EnumerateFiles(d, "*.json", SearchOption.TopDirectoryOnly)).Order(StringComparer.Ordinal)];

    /// <summary>Validates one file; an unreadable, empty, huge or malformed file is a problem too, never an exception.</summary>
    public async Task<IReadOnlyList<AdfProblem>> ValidateFileAsync(string file, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (!File.Exists(file)) return [new(file, "$", "lakehouse:file", Directory.Exists(file) ? "a folder, not a file" : "no such file")];
        var kind = KindOf(file);
        if (kind is null)
        {
            return [new(file, "$", "lakehouse:kind", $"the file's folder is not an ADF kind: put it under one of {string.Join(", ", Kinds.Select(k => k + "/"))}")];
        }

        string text;
        try
        {
            var info = new FileInfo(file);
            if (info.Length > MaxFileBytes) return [new(file, "$", "lakehouse:size", $"the file is {info.Length} bytes, over the {MaxFileBytes} bytes an ADF resource may have; not read")];
            text = ReadFile(file, "the file");
        }
        catch (Core.LakehouseException e)
        {
            return [new(file, "$", "lakehouse:file", e.Message)];
        }

        return Validate(file, kind, text);
    }

    /// <summary>Validates the text of a file of the given kind (see <see cref="Kinds"/>).</summary>
    public IReadOnlyList<AdfProblem> Validate(string file, string kind, string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!_kinds.TryGetValue(kind, out var schema)) return [new(file, "$", "lakehouse:kind", $"unknown kind '{kind}'")];
        if (string.IsNullOrWhiteSpace(text)) return [new(file, "$", "lakehouse:json", "the file is empty")];

        JToken root;
        try
        {
            using var reader = new JsonTextReader(new StringReader(text)) { DateParseHandling = DateParseHandling.None, MaxDepth = MaxDepth };
            root = JToken.ReadFrom(reader, new JsonLoadSettings { DuplicatePropertyNameHandling = DuplicatePropertyNameHandling.Error });
            if (reader.Read()) return [new(file, "$", "lakehouse:json", $"text after the JSON value (line {reader.LineNumber}, position {reader.LinePosition})")];
        }
        catch (JsonReaderException e) when (e.Message.Contains("MaxDepth", StringComparison.Ordinal))
        {
            // The reader's own message repeats the path, 128 levels of it.
            return [new(file, "$", "lakehouse:json", $"nests arrays and objects deeper than {MaxDepth} levels (line {e.LineNumber}, position {e.LinePosition}); an ADF resource does not")];
        }
        catch (JsonReaderException e)
        {
            return [new(file, string.IsNullOrEmpty(e.Path) ? "$" : "$." + e.Path, "lakehouse:json", $"not valid JSON: {e.Message}")];
        }

        if (root is not JObject obj) return [new(file, "$", "lakehouse:json", $"the file must hold a JSON object, not {root.Type}")];
        var problems = new List<AdfProblem>();
        CheckEnvelope(file, kind, obj, problems);
        if (obj["properties"] is JObject properties)
        {
            // ADF takes parameter and variable types in any casing; Microsoft's schema only in its own (a gap of the schema).
            AdfDeclaredTypes.ToSchemaCasing(kind, properties);
            foreach (var e in schema.Validate(properties)) Collect(file, "microsoft", e, problems);
            if (kind == "pipeline")
            {
                foreach (var e in _overlay.Validate(properties)) Collect(file, "overlay", e, problems);
                CheckActivityGraph(file, properties, problems);
                CheckKnownKeys(file, properties, problems);
                CheckAsTheRunnerDoes(file, text, problems);
            }

            if (kind == "linkedService") CheckSecrets(file, properties["typeProperties"], "$.properties.typeProperties", problems);
        }

        return [.. problems.Distinct()];
    }

    private static void CheckEnvelope(string file, string kind, JObject obj, List<AdfProblem> problems)
    {
        var name = obj["name"];
        if (name is null) problems.Add(new(file, "$", "lakehouse:required", "the file needs a \"name\""));
        else if (name.Type != JTokenType.String) problems.Add(new(file, "$.name", "lakehouse:type", "\"name\" must be a string"));
        else
        {
            var n = (string)name!;
            var ok = kind == "factory" ? FactoryNamePattern.IsMatch(n) && n.Length is >= 3 and <= 63 : NamePattern.IsMatch(n) && n.Length <= 260;
            if (!ok) problems.Add(new(file, "$.name", "lakehouse:name", $"'{n}' is not a valid {kind} name"));
            var stem = Path.GetFileNameWithoutExtension(file);
            if (!string.Equals(stem, n, StringComparison.Ordinal)) problems.Add(new(file, "$.name", "lakehouse:name", $"ADF's Git layout stores '{n}' as {n}.json, not {stem}.json"));
        }

        var properties = obj["properties"];
        if (properties is null) problems.Add(new(file, "$", "lakehouse:required", "the file needs \"properties\""));
        else if (properties.Type != JTokenType.Object) problems.Add(new(file, "$.properties", "lakehouse:type", "\"properties\" must be an object"));
        var allowed = kind == "factory" ? new[] { "name", "location", "identity", "properties", "tags", "type", "etag" } : ["name", "properties", "type", "etag"];
        foreach (var p in obj.Properties().Where(p => !allowed.Contains(p.Name, StringComparer.Ordinal)))
        {
            problems.Add(new(file, "$." + p.Name, "lakehouse:unknown-property", $"\"{p.Name}\" is not part of an ADF {kind} file"));
        }
    }

    /// <summary>
    /// The checks the local runner makes before a run and no schema can (<see cref="Runner.PipelineChecks"/>: policy values such as a
    /// timeout over 7 days, parameter defaults of their type, expressions), so validate and run accept the same files. A value the
    /// schemas already found wrong is not reported twice.
    /// </summary>
    private static void CheckAsTheRunnerDoes(string file, string text, List<AdfProblem> problems)
    {
        System.Text.Json.Nodes.JsonNode? document;
        try
        {
            document = System.Text.Json.Nodes.JsonNode.Parse(text, documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = MaxDepth });
        }
        catch (System.Text.Json.JsonException)
        {
            return; // read above: JSON.NET accepts a little more (comments), and its problems are reported
        }

        if (document is not System.Text.Json.Nodes.JsonObject root) return;
        var reported = problems.Select(p => p.Path).ToHashSet(StringComparer.Ordinal);
        foreach (var p in Runner.PipelineChecks.Check(root).Where(p => !reported.Contains(p.Path)))
        {
            problems.Add(new(file, p.Path, p.Rule, p.Activity is null ? p.Message : $"activity '{p.Activity}': {p.Message}"));
        }
    }

    private void CheckKnownKeys(string file, JObject properties, List<AdfProblem> problems)
    {
        foreach (var p in properties.Properties().Where(p => !_pipelineKeys.Contains(p.Name)))
        {
            problems.Add(new(file, "$.properties." + p.Name, "lakehouse:unknown-property", $"\"{p.Name}\" is not a pipeline property (Microsoft's schema lets it through; ADF ignores it)"));
        }

        void Walk(JToken? list, string path)
        {
            if (list is not JArray activities) return;
            for (var i = 0; i < activities.Count; i++)
            {
                if (activities[i] is not JObject a) continue;
                foreach (var p in a.Properties().Where(p => !_activityKeys.Contains(p.Name)))
                {
                    problems.Add(new(file, $"{path}[{i}].{p.Name}", "lakehouse:unknown-property", $"\"{p.Name}\" is not an activity property (names are case-sensitive)"));
                }

                if (a["typeProperties"] is JObject tp)
                {
                    foreach (var key in new[] { "activities", "ifTrueActivities", "ifFalseActivities", "defaultActivities" }) Walk(tp[key], $"{path}[{i}].typeProperties.{key}");
                }
            }
        }

        Walk(properties["activities"], "$.properties.activities");
    }

    private static void CheckActivityGraph(string file, JObject properties, List<AdfProblem> problems)
    {
        // ADF wants activity names unique in the whole pipeline and dependsOn pointing at a sibling in the same container.
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        void Walk(JToken? list, string path)
        {
            if (list is not JArray activities) return;
            var siblings = activities.OfType<JObject>().Select(a => (string?)a["name"]).OfType<string>().ToHashSet(StringComparer.Ordinal);
            var circular = ActivityGraph.InCircles(activities.OfType<JObject>().Where(a => a["name"]?.Type == JTokenType.String)
                .Select(a => ((string)a["name"]!, a["dependsOn"] is JArray deps
                    ? deps.Select(d => d["activity"]).Where(t => t?.Type == JTokenType.String).Select(t => (string)t!)
                    : Enumerable.Empty<string>())));
            for (var i = 0; i < activities.Count; i++)
            {
                if (activities[i] is not JObject a) continue;
                var here = $"{path}[{i}]";
                if (a["name"]?.Type == JTokenType.String && !seen.Add((string)a["name"]!))
                {
                    problems.Add(new(file, here + ".name", "lakehouse:unique-activity", $"a second activity named '{a["name"]}'"));
                }

                if (a["dependsOn"] is JArray deps)
                {
                    for (var j = 0; j < deps.Count; j++)
                    {
                        var target = deps[j]["activity"];
                        if (target?.Type == JTokenType.String && !siblings.Contains((string)target!))
                        {
                            problems.Add(new(file, $"{here}.dependsOn[{j}].activity", "lakehouse:depends-on", $"'{target}' is not an activity beside '{a["name"]}'"));
                        }
                    }
                }

                if (a["name"]?.Type == JTokenType.String && circular.Contains((string)a["name"]!))
                {
                    problems.Add(new(file, $"{here}.dependsOn", "lakehouse:depends-on", $"dependsOn goes round in a circle through '{a["name"]}': ADF refuses the pipeline"));
                }

                if (a["typeProperties"] is JObject tp)
                {
                    foreach (var key in new[] { "activities", "ifTrueActivities", "ifFalseActivities", "defaultActivities" }) Walk(tp[key], $"{here}.typeProperties.{key}");
                    if (tp["cases"] is JArray cases)
                    {
                        for (var c = 0; c < cases.Count; c++) Walk(cases[c]["activities"], $"{here}.typeProperties.cases[{c}].activities");
                    }
                }
            }
        }

        Walk(properties["activities"], "$.properties.activities");
    }

    private static void CheckSecrets(string file, JToken? token, string path, List<AdfProblem> problems)
    {
        if (token is not JObject obj) return;
        foreach (var p in obj.Properties())
        {
            var here = $"{path}.{p.Name}";
            if (SecretProperties.Contains(p.Name) && !IsKeyVaultReference(p.Value) && p.Value.Type != JTokenType.Null)
            {
                problems.Add(new(file, here, "lakehouse:secret-in-keyvault", $"\"{p.Name}\" must be a Key Vault reference ({{\"type\": \"AzureKeyVaultSecret\", \"store\": …, \"secretName\": …}}), not a literal"));
            }
            else if (string.Equals(p.Name, "connectionString", StringComparison.OrdinalIgnoreCase) && p.Value.Type == JTokenType.String
                && SecretInConnectionString.Match((string)p.Value!) is { Success: true } m)
            {
                problems.Add(new(file, here, "lakehouse:secret-in-keyvault", $"the connection string holds {m.Groups[1].Value}=: keep the secret in Key Vault and reference it"));
            }
            else if (p.Value is JObject child && !IsKeyVaultReference(child))
            {
                CheckSecrets(file, child, here, problems);
            }
        }
    }

    private static bool IsKeyVaultReference(JToken value) =>
        value is JObject o && (string?)o["type"] == "AzureKeyVaultSecret" && o["store"] is JObject && o["secretName"] is not null;

    /// <summary>
    /// Adds the useful leaves of a schema error. Microsoft's schema makes every polymorphic thing a oneOf (an activity is one of ~100
    /// shapes), so a bare "NotOneOf" says little: the branches whose "type" does not match are dropped, and the deepest remaining branch
    /// names the field that is wrong. Container errors (array items, properties) are replaced by their children.
    /// </summary>
    private static void Collect(string file, string source, ValidationError error, List<AdfProblem> problems)
    {
        foreach (var leaf in Leaves(error)) problems.Add(new(file, JsonPath(leaf), $"{source}:{leaf.Kind}", Reason(leaf)));
    }

    private static IEnumerable<ValidationError> Leaves(ValidationError error)
    {
        if (error is not ChildSchemaValidationError { Errors.Count: > 0 } child) return [error];
        if (error.Kind is not (ValidationErrorKind.NotOneOf or ValidationErrorKind.NotAnyOf))
        {
            return child.Errors.Values.SelectMany(e => e).SelectMany(Leaves);
        }

        static bool WrongType(ValidationError e) =>
            e.Property == "type" && e.Kind is ValidationErrorKind.NotInEnumeration or ValidationErrorKind.ExcludedSchemaValidates;
        var here = JsonPath(error);
        bool OtherShape(ValidationError e) => e.Kind.ToString().EndsWith("Expected", StringComparison.Ordinal) && JsonPath(e) == here;
        // The ARM-template expression alternative ("[concat(...)]") means nothing in a Git file: a branch failing only on it is noise.
        static bool ArmExpression(ValidationError e) => e.Kind == ValidationErrorKind.PatternMismatch && e.Schema?.Pattern == ArmExpressionPattern;
        var branches = child.Errors.Values.Where(b => b.Count > 0 && !b.Any(WrongType) && !b.Any(ArmExpression))
            .Select(b => b.SelectMany(Leaves).ToList()).Where(b => b.Count > 0 && !b.Any(OtherShape)).ToList();
        if (branches.Count == 1) return branches[0];
        if (branches.Count == 0
            && child.Errors.Values.SelectMany(b => b).SelectMany(Leaves).FirstOrDefault(e => e.Kind == ValidationErrorKind.NotInEnumeration && JsonPath(e) == here) is { } notInEnum)
        {
            return [notInEnum];
        }

        var best = branches.OrderByDescending(b => b.Max(Depth)).FirstOrDefault();
        return best is not null && best.Max(Depth) > Depth(error) ? best : [error];
    }

    private static int Depth(ValidationError e) => JsonPath(e).Count(c => c is '.' or '[');

    private static string JsonPath(ValidationError error)
    {
        var p = error.Path ?? "#";
        p = p.StartsWith('#') ? p[1..] : p;
        p = p.TrimStart('/', '.');
        return p.Length == 0 ? "$" : "$." + p;
    }

    /// <summary>
    /// The allowed values of an enum, and the one meant when the value differs from it only in casing: Microsoft's schema compares
    /// them case-sensitively (a dependency condition "succeeded" for "Succeeded"). A declared parameter or variable type reaches
    /// here only when it is none of the types in any casing (<see cref="AdfDeclaredTypes"/>): its message says so.
    /// </summary>
    private static string NotInEnumeration(ValidationError error)
    {
        var allowed = error.Schema?.Enumeration.Select(v => Convert.ToString(v, System.Globalization.CultureInfo.InvariantCulture)).OfType<string>().ToList() ?? [];
        if (JsonPath(error).EndsWith(".type", StringComparison.Ordinal) && IsDeclaredType(allowed)) return "not one of the allowed types (in any casing, as ADF takes them): " + string.Join(", ", allowed);
        var given = error.Token is JValue { Type: JTokenType.String } v ? (string?)v : null;
        var meant = allowed.FirstOrDefault(a => string.Equals(a, given, StringComparison.OrdinalIgnoreCase));
        return "not one of the allowed values (case-sensitive): " + string.Join(", ", allowed) + (meant is null ? "" : $"; write '{meant}'");
    }

    /// <summary>Whether an enum is the one of parameter, variable or global parameter types (those are read in any casing).</summary>
    private static bool IsDeclaredType(List<string> allowed) =>
        new[] { AdfDeclaredTypes.Parameter, AdfDeclaredTypes.Variable, AdfDeclaredTypes.GlobalParameter }
            .Any(types => types.Count == allowed.Count && !types.Except(allowed, StringComparer.Ordinal).Any());

    private static string Reason(ValidationError error)
    {
        var what = error.Kind switch
        {
            ValidationErrorKind.PropertyRequired => $"required property \"{error.Property}\" is missing",
            ValidationErrorKind.NoAdditionalPropertiesAllowed => $"property \"{error.Property}\" is not allowed here",
            ValidationErrorKind.NotOneOf => "matches none of the allowed shapes (a literal of the documented type, or {\"value\": \"@…\", \"type\": \"Expression\"}; for an activity: its \"type\" and typeProperties)",
            ValidationErrorKind.NotAnyOf => "matches none of the allowed shapes",
            ValidationErrorKind.NotInEnumeration => NotInEnumeration(error),
            ValidationErrorKind.PatternMismatch => "does not match the required pattern",
            ValidationErrorKind.ExcludedSchemaValidates => "a value that is forbidden here",
            _ => error.Kind.ToString(),
        };
        var line = error.HasLineInfo ? $" (line {error.LineNumber}, position {error.LinePosition})" : "";
        return what + line;
    }
}
