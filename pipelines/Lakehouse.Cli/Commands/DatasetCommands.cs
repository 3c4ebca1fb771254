using System.CommandLine;
using System.Text.Json;
using Lakehouse.Datasets;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse dataset list|show|check</c>: the datasets a lake knows, one definition, and a definition file checked before it is used.</summary>
internal static class DatasetCommands
{
    internal static Command Create(CliSession session)
    {
        var dataset = new CliCommand("dataset", "The lake's datasets: the built-in ones (weblogs, sensors, accesslogs) and those defined in <lake>/_lakehouse/datasets/.")
        {
            Details = """
                A dataset is a definition file, not code: <lake>/_lakehouse/datasets/<name>.json with the name, the payload kind
                (json or text, with its parse format), the columns and their types, the event-time column, the id, the
                expectations and the gold outputs (see the README, "Datasets"). 'dataset show weblogs' prints a complete example.
                """,
            Examples = ["lakehouse dataset list", "lakehouse dataset show sensors", "lakehouse dataset check clicks.json"],
        };
        dataset.Subcommands.Add(CreateList(session));
        dataset.Subcommands.Add(CreateShow(session));
        dataset.Subcommands.Add(CreateCheck(session));
        return dataset;
    }

    private static CliCommand CreateList(CliSession session)
    {
        var command = new CliCommand("list", "List the datasets: payload, columns, id, event time, and where each is defined.")
        {
            Examples = ["lakehouse dataset list", "lakehouse dataset list --lake /data/lake --json"],
        };
        var json = CommandLine.Flag("--json", "Print a JSON array instead of a text table.");
        command.Add(json);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var lake = session.OpenLake(parse);
            var catalog = await DatasetCatalog.LoadAsync(lake.Root, cancellationToken).ConfigureAwait(false);
            var rows = catalog.Definitions.Select(d => new
            {
                name = d.Name,
                payload = d.TextFormat is { } f ? "text (" + f.FormatName + ")" : "json",
                columns = d.Columns.Count,
                id = d.Id.ToString(),
                eventTime = d.EventTime,
                expectations = d.Expectations.Count,
                goldOutputs = d.GoldOutputs,
                source = d.Source,
            }).ToList();
            if (parse.GetValue(json))
            {
                await session.Out.WriteLineAsync(JsonSerializer.Serialize(rows, TableChange.JsonOptions)).ConfigureAwait(false);
                return CliApp.ExitOk;
            }
            await Output.WriteTableAsync(session.Out, ["dataset", "payload", "columns", "id", "event time", "expectations", "defined in"],
                [.. rows.Select(r => new[] { r.name, r.payload, r.columns.ToString(System.Globalization.CultureInfo.InvariantCulture), r.id, r.eventTime,
                    r.expectations.ToString(System.Globalization.CultureInfo.InvariantCulture), r.source })]).ConfigureAwait(false);
            await session.Out.WriteLineAsync($"({rows.Count} datasets; add one as {catalog.LakeFolder}/<name>.json)").ConfigureAwait(false);
            return CliApp.ExitOk;
        });
        return command;
    }

    private static CliCommand CreateShow(CliSession session)
    {
        var command = new CliCommand("show", "Print a dataset's definition (JSON, as written): a starting point for a definition of your own.")
        {
            Examples = ["lakehouse dataset show weblogs", "lakehouse dataset show weblogs > lake/_lakehouse/datasets/weblogs_eu.json   # then rename inside"],
        };
        var name = new Argument<string>("name") { Description = "The dataset." };
        command.Add(name);
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var lake = session.OpenLake(parse);
            var catalog = await DatasetCatalog.LoadAsync(lake.Root, cancellationToken).ConfigureAwait(false);
            var definition = catalog.Get(parse.GetValue(name)!);
            await session.Out.WriteLineAsync(definition.Json.TrimEnd()).ConfigureAwait(false);
            return CliApp.ExitOk;
        });
        return command;
    }

    private static CliCommand CreateCheck(CliSession session)
    {
        var command = new CliCommand("check", "Check a definition file before putting it in the lake: every problem is named by field.")
        {
            Examples = ["lakehouse dataset check clicks.json", "lakehouse dataset show weblogs | sed 's/\"weblogs\"/\"clicks\"/' | lakehouse dataset check -"],
        };
        var file = new Argument<string>("file") { Description = "The definition file (<name>.json), or - for standard input." };
        command.Add(file);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var path = parse.GetValue(file)!;
            var fromInput = path == "-";
            var subject = fromInput ? "the definition from standard input" : $"the definition file '{path}'";
            // Read up to the limit (so /dev/zero is refused), on a thread of its own: a pipe or FIFO whose writer never comes, or a
            // slow mount, does not hold Ctrl+C back (exit 130).
            var bytes = await Task.Run(() => fromInput
                        ? Core.UserFiles.Read(Console.OpenStandardInput(), DatasetCatalog.MaxDefinitionBytes, subject, "a dataset definition")
                        : Core.UserFiles.Read(path, DatasetCatalog.MaxDefinitionBytes, subject, "a dataset definition"), CancellationToken.None)
                .WaitAsync(cancellationToken).ConfigureAwait(false);
            var source = fromInput ? "(standard input)" : path;
            var definition = DatasetDefinition.Parse(bytes, source);
            if (DatasetCatalog.BuiltIn.TryGet(definition.Name, out _))
            {
                throw new Core.LakehouseException(Core.LakehouseErrorReason.InvalidInput,
                    $"Dataset definition '{source}', field 'name': '{definition.Name}' is a built-in dataset and cannot be redefined; give this definition another name (and file name).");
            }
            // What silver and gold would refuse when they run it (names they use themselves, RE2 patterns, gold outputs).
            using (var engine = Engine.DuckEngine.Open())
                Silver.SilverJob.CheckDefinition(definition, engine);
            Gold.GoldJob.CheckDefinition(definition);
            await session.Out.WriteLineAsync($"ok: {definition}").ConfigureAwait(false);
            if (fromInput || Path.GetFileName(path) != definition.Name + ".json")
                await session.Error.WriteLineAsync($"warning: in a lake this definition must be the file _lakehouse/datasets/{definition.Name}.json").ConfigureAwait(false);
            return CliApp.ExitOk;
        });
        return command;
    }
}
