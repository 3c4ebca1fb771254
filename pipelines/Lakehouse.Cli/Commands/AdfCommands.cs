using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Lakehouse.Pipelines.Adf;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse adf validate</c>: the ADF files (pipelines/adf) against Microsoft's Data Factory schema and the strict overlay.</summary>
internal static class AdfCommands
{
    private const string SchemasVariable = "LAKEHOUSE_ADF_SCHEMAS";

    internal static Command Create(CliSession session)
    {
        var adf = new CliCommand("adf", "Azure Data Factory: check the pipeline, trigger and linked service files the factory runs.")
        {
            Examples = ["lakehouse adf validate", "lakehouse adf validate pipelines/adf/pipeline/pl_medallion.json"],
        };
        adf.Subcommands.Add(CreateValidate(session));
        return adf;
    }

    private static CliCommand CreateValidate(CliSession session)
    {
        var command = new CliCommand("validate", "Check ADF files against Microsoft's Data Factory schema (offline) and the project's strict rules; one line per problem.")
        {
            Details = $"""
                Each file is checked by its folder in ADF's Git layout ({string.Join(", ", AdfValidator.Kinds.Select(k => k + "/"))}) against
                Microsoft's schema for that kind (Microsoft.DataFactory.json, 2018-06-01, JSON Schema draft-04, read offline), pipelines also
                against the strict overlay (retry, timeout, Custom command, Script scripts, policies on control activities), plus rules no
                schema says: secrets in linked services only as Key Vault references, no unknown property, dependsOn naming a sibling activity,
                unique activity names, the file named after its "name".
                A problem is printed as: <file>: <JSON path>: <rule>: <reason>. Rules are microsoft:<kind>, overlay:<kind> or lakehouse:<name>.
                No files: every file under pipelines/adf of the repository the current folder is in. A folder: the ADF files under it.
                The schemas are found in shared/schemas/adf beside or above the current folder (or --schemas, or {SchemasVariable}).
                Exit 0: every file is valid; 1: at least one problem (or the schemas cannot be read); 2: a wrong command line.
                """,
            Examples =
            [
                "lakehouse adf validate",
                "lakehouse adf validate pipelines/adf/pipeline/pl_medallion.json pipelines/adf/trigger",
                "lakehouse adf validate --json",
            ],
        };
        var files = CommandLine.Files(command, "files", "ADF JSON files or folders (default: pipelines/adf of this repository).");
        files.Arity = ArgumentArity.ZeroOrMore;
        var schemas = CommandLine.Text("--schemas", $"The folder holding microsoft/ and local/ (default: {SchemasVariable}, or shared/schemas/adf found above the current folder).", "folder");
        var json = CommandLine.Flag("--json", "Print one JSON object: the files checked and the problems.");
        command.Add(files);
        command.Add(schemas);
        command.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var targets = Expand(parse.GetValue(files) ?? []);
            var schemaDirectory = parse.GetValue(schemas)
                ?? (Environment.GetEnvironmentVariable(SchemasVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : FindSchemas());
            var validator = await AdfValidator.LoadAsync(schemaDirectory, cancellationToken).ConfigureAwait(false);
            var problems = new List<AdfProblem>();
            foreach (var file in targets)
            {
                foreach (var p in await validator.ValidateFileAsync(file, cancellationToken).ConfigureAwait(false)) problems.Add(p with { File = Display(file) });
            }

            if (parse.GetValue(json))
            {
                await session.Out.WriteLineAsync(JsonSerializer.Serialize(new
                {
                    files = targets.Select(Display).ToArray(),
                    valid = problems.Count == 0,
                    problems = problems.Select(p => new { file = p.File, path = p.Path, rule = p.Rule, message = p.Message }).ToArray(),
                })).ConfigureAwait(false);
            }
            else
            {
                foreach (var p in problems) await session.Out.WriteLineAsync(p.ToString()).ConfigureAwait(false);
                var bad = problems.Select(p => p.File).Distinct(StringComparer.Ordinal).Count();
                var summary = problems.Count == 0
                    ? string.Create(CultureInfo.InvariantCulture, $"{targets.Count} ADF files valid")
                    : string.Create(CultureInfo.InvariantCulture, $"{problems.Count} problem(s) in {bad} of {targets.Count} ADF files");
                await (problems.Count == 0 ? session.Out : session.Error).WriteLineAsync(summary).ConfigureAwait(false);
            }

            return problems.Count == 0 ? CliApp.ExitOk : CliApp.ExitFailed;
        });
        return command;
    }

    /// <summary>The files to check: files as given, folders expanded, no argument = pipelines/adf of the repository.</summary>
    private static List<string> Expand(string[] arguments)
    {
        if (arguments.Length == 0)
        {
            for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
            {
                var adf = Path.Combine(dir.FullName, "pipelines", "adf");
                if (Directory.Exists(adf)) return NonEmpty(adf, AdfValidator.FindFiles(adf));
            }

            throw CommandLine.Usage($"no pipelines/adf folder in {Environment.CurrentDirectory} or above it: name the files or folders to check");
        }

        var result = new List<string>();
        foreach (var a in arguments)
        {
            if (!Directory.Exists(a))
            {
                result.Add(a); // a file, or a missing path the validator reports as such
                continue;
            }

            var found = AdfValidator.KindOf(Path.Combine(a, "x.json")) is not null
                ? Directory.EnumerateFiles(a, "*.json").Order(StringComparer.Ordinal).ToList()
                : AdfValidator.FindFiles(a);
            result.AddRange(NonEmpty(a, found));
        }

        return [.. result.Distinct(StringComparer.Ordinal)];
    }

    private static List<string> NonEmpty(string folder, IReadOnlyList<string> files) =>
        files.Count > 0
            ? [.. files]
            : throw CommandLine.Usage($"no ADF files in {folder}: expected *.json under {string.Join(", ", AdfValidator.Kinds.Select(k => k + "/"))}");

    private static string FindSchemas()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "schemas", "adf");
                if (Directory.Exists(candidate)) return candidate;
            }
        }

        throw new FileNotFoundException($"the ADF schemas (shared/schemas/adf) are not in the current folder or above it: set --schemas or {SchemasVariable}");
    }

    private static string Display(string file)
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, Path.GetFullPath(file));
        return relative.StartsWith("..", StringComparison.Ordinal) ? file : relative;
    }
}
