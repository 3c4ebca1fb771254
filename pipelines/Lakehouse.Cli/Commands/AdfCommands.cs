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
        adf.Subcommands.Add(CreateExportArm(session));
        adf.Subcommands.Add(AdfDeployCommand.Create(session));
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

    private static CliCommand CreateExportArm(CliSession session)
    {
        var command = new CliCommand("export-arm", "Write an ARM deployment template of the factory (ADF's ARMTemplateForFactory.json layout), checked before it is written.")
        {
            Details = $"""
                Reads the factory's Git layout (factory/, linkedService/, dataset/, pipeline/, trigger/) and writes one ARM template: the
                factory (parameters factoryName and location) and each linked service, dataset, pipeline and trigger as a resource named
                [concat(parameters('factoryName'), '/name')], with dependsOn on the factory and on what it references (a pipeline on its
                linked services, datasets and the pipelines it starts; a trigger on its pipelines). Strings starting with '[' are written
                '[[' so ARM does not read them as template expressions.
                The files are first checked as 'lakehouse adf validate' does; the template is then checked against
                shared/schemas/adf/local/adf-arm-template.schema.json (Microsoft's resource definitions) and its dependsOn entries.
                Nothing is written when a check fails. Without --out the template goes to standard output.
                Deploy it with 'lakehouse adf deploy', 'az deployment group create --template-file FILE' or New-AzResourceGroupDeployment.
                Exit 0: written; 1: a problem in the files or the template; 2: a wrong command line.
                """,
            Examples =
            [
                "lakehouse adf export-arm --out ARMTemplateForFactory.json",
                "lakehouse adf export-arm --folder pipelines/adf --factory-name lakehouse-adf-test",
            ],
        };
        var folder = CommandLine.Text("--folder", "The factory's Git layout (default: pipelines/adf of the repository the current folder is in).", "folder");
        var factoryName = CommandLine.Text("--factory-name", "The default of the template's factoryName parameter (default: the name in factory/*.json).", "name");
        var output = CommandLine.Text("--out", "Write the template to this file (default: standard output).", "file");
        // Checked before the files are read: an empty value or a folder failed only at the write, with .NET's own words.
        output.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<string?>() is not { } path) return;
            if (string.IsNullOrWhiteSpace(path)) result.AddError("--out must name the template's file (leave it out to write to standard output)");
            else if (Directory.Exists(path)) result.AddError($"--out '{CliErrors.Printable(path)}' is a folder: give the template's file, e.g. {Path.Combine(path, "ARMTemplateForFactory.json")}");
        });
        var schemas = CommandLine.Text("--schemas", $"The folder holding microsoft/ and local/ (default: {SchemasVariable}, or shared/schemas/adf found above the current folder).", "folder");
        command.Add(folder);
        command.Add(factoryName);
        command.Add(output);
        command.Add(schemas);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var root = parse.GetValue(folder) ?? FindAdfFolder();
            var validator = await LoadValidatorAsync(parse.GetValue(schemas), cancellationToken).ConfigureAwait(false);
            var problems = new List<AdfProblem>();
            foreach (var file in NonEmpty(root, AdfValidator.FindFiles(root)))
            {
                foreach (var p in await validator.ValidateFileAsync(file, cancellationToken).ConfigureAwait(false)) problems.Add(p with { File = Display(file) });
            }

            if (problems.Count == 0)
            {
                var factory = await AdfFactoryDefinition.LoadAsync(root, parse.GetValue(factoryName), cancellationToken).ConfigureAwait(false);
                var text = AdfArmTemplate.ToText(AdfArmTemplate.Build(factory)) + "\n";
                var target = parse.GetValue(output);
                problems.AddRange(validator.ValidateArmTemplate(target ?? "ARM template", text));
                if (problems.Count == 0)
                {
                    if (target is null) await session.Out.WriteAsync(text).ConfigureAwait(false);
                    else await WriteAtomicallyAsync(target, text, cancellationToken).ConfigureAwait(false);
                    await session.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                        $"ARM template of factory {factory.Name}: {factory.Resources.Count + 1} resources ({Counts(factory)}){(target is null ? "" : " written to " + target)}")).ConfigureAwait(false);
                    return CliApp.ExitOk;
                }
            }

            foreach (var p in problems) await session.Out.WriteLineAsync(p.ToString()).ConfigureAwait(false);
            await session.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{problems.Count} problem(s): no template written")).ConfigureAwait(false);
            return CliApp.ExitFailed;
        });
        return command;
    }

    private static string Counts(AdfFactoryDefinition factory) =>
        string.Join(", ", factory.Resources.GroupBy(r => r.Kind).Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Count()} {g.Key}")).Prepend("1 factory"));

    /// <summary>Writes a file whole or not at all: a temporary file beside it, renamed over it.</summary>
    internal static async Task WriteAtomicallyAsync(string path, string text, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(path);
        var temporary = Path.Combine(Path.GetDirectoryName(full)!, "." + Path.GetFileName(full) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
        try
        {
            await File.WriteAllTextAsync(temporary, text, cancellationToken).ConfigureAwait(false);
            File.Move(temporary, full, overwrite: true);
        }
        catch (DirectoryNotFoundException e)
        {
            throw CommandLine.Usage($"cannot write {path}: {e.Message}");
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    internal static Task<AdfValidator> LoadValidatorAsync(string? schemas, CancellationToken cancellationToken) =>
        AdfValidator.LoadAsync(schemas ?? (Environment.GetEnvironmentVariable(SchemasVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : FindSchemas()), cancellationToken);

    /// <summary>pipelines/adf in the current folder or above it.</summary>
    internal static string FindAdfFolder()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            var adf = Path.Combine(dir.FullName, "pipelines", "adf");
            if (Directory.Exists(adf)) return adf;
        }

        throw CommandLine.Usage($"no pipelines/adf folder in {Environment.CurrentDirectory} or above it: give --folder");
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
