using System.CommandLine;
using System.Globalization;
using Azure.Identity;
using Lakehouse.Core;
using Lakehouse.Pipelines.Adf;

namespace Lakehouse.Cli.Commands;

/// <summary><c>lakehouse adf deploy</c>: the factory's resources (those of <c>adf export-arm</c>) PUT through Azure.ResourceManager.</summary>
internal static class AdfDeployCommand
{
    /// <summary>Another ARM endpoint (a sovereign cloud, or a test's stand-in); the default is Azure's public cloud.</summary>
    internal const string EndpointVariable = "LAKEHOUSE_ARM_ENDPOINT";

    internal static CliCommand Create(CliSession session)
    {
        var command = new CliCommand("deploy", "Deploy the factory to Azure: one PUT per resource of 'adf export-arm' (generic resources, DefaultAzureCredential), in dependsOn order.")
        {
            Details = $"""
                Checks the files and the template as 'adf export-arm' does, then PUTs the factory and each linked service, dataset,
                pipeline and trigger (api-version {AdfFactoryDefinition.ApiVersion}) through Azure.ResourceManager's generic resources,
                each after what it depends on, each waited for before the next. The first refused PUT stops the deployment and is
                reported with ARM's status, error code and message; what was deployed before it stays (a rerun PUTs everything again).
                Credentials: DefaultAzureCredential (AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET, workload or managed identity,
                az login, ...); none is ever printed or logged. {EndpointVariable} sets another ARM endpoint.
                A started trigger cannot be updated: stop the factory's triggers before a deploy that changes them, start them after.
                --what-if prints the PUTs without sending any (no credential needed).
                Exit 0: deployed (or planned); 1: a problem in the files, no credential, or a PUT refused; 2: a wrong command line.
                """,
            Examples =
            [
                "lakehouse adf deploy --subscription 00000000-0000-0000-0000-000000000000 --resource-group lakehouse-rg --factory lakehouse-adf --what-if",
                "lakehouse adf deploy --subscription $AZURE_SUBSCRIPTION_ID --resource-group lakehouse-rg --factory lakehouse-adf --location westeurope",
            ],
        };
        var subscription = new Option<string>("--subscription") { Description = "The subscription id.", HelpName = "id", Required = true };
        var resourceGroup = new Option<string>("--resource-group") { Description = "The resource group (it must exist).", HelpName = "name", Required = true };
        var factory = new Option<string>("--factory") { Description = "The factory's name in Azure.", HelpName = "name", Required = true };
        var location = CommandLine.Text("--location", "The factory's region (default: the location in factory/*.json).", "region");
        var whatIf = CommandLine.Flag("--what-if", "Print the PUTs, in order, without sending any.");
        var folder = CommandLine.Text("--folder", "The factory's Git layout (default: pipelines/adf of the repository the current folder is in).", "folder");
        var schemas = CommandLine.Text("--schemas", "The folder holding microsoft/ and local/ (default: LAKEHOUSE_ADF_SCHEMAS, or shared/schemas/adf above the current folder).", "folder");
        foreach (var o in new Option[] { subscription, resourceGroup, factory, location, whatIf, folder, schemas }) command.Add(o);
        command.SetAction(async (parse, cancellationToken) =>
        {
            AdfDeployOptions options;
            try
            {
                options = new AdfDeployOptions
                {
                    SubscriptionId = parse.GetValue(subscription)!,
                    ResourceGroup = parse.GetValue(resourceGroup)!,
                    Endpoint = Environment.GetEnvironmentVariable(EndpointVariable) is { Length: > 0 } endpoint ? Endpoint(endpoint) : null,
                    LoggerFactory = session.LoggerFactory,
                };
            }
            catch (ArgumentException e)
            {
                throw CommandLine.Usage(CliErrors.MessageOf(e));
            }

            var root = parse.GetValue(folder) ?? AdfCommands.FindAdfFolder();
            var validator = await AdfCommands.LoadValidatorAsync(parse.GetValue(schemas), cancellationToken).ConfigureAwait(false);
            var problems = new List<AdfProblem>();
            foreach (var file in AdfValidator.FindFiles(root))
            {
                problems.AddRange(await validator.ValidateFileAsync(file, cancellationToken).ConfigureAwait(false));
            }

            var definition = problems.Count == 0 ? await AdfFactoryDefinition.LoadAsync(root, parse.GetValue(factory), cancellationToken).ConfigureAwait(false) : null;
            if (definition is not null)
            {
                problems.AddRange(validator.ValidateArmTemplate("ARM template", AdfArmTemplate.Build(definition).ToJsonString()));
            }

            if (problems.Count > 0 || definition is null)
            {
                foreach (var p in problems) await session.Error.WriteLineAsync(p.ToString()).ConfigureAwait(false);
                await session.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"{problems.Count} problem(s): nothing deployed")).ConfigureAwait(false);
                return CliApp.ExitFailed;
            }

            var deployer = new AdfDeployer(options);
            var plan = deployer.Plan(definition, parse.GetValue(factory), parse.GetValue(location));
            if (parse.GetValue(whatIf))
            {
                foreach (var step in plan) await session.Out.WriteLineAsync($"PUT {step.ResourceId}?api-version={step.ApiVersion}").ConfigureAwait(false);
                await session.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"what-if: {plan.Count} PUTs, none sent")).ConfigureAwait(false);
                return CliApp.ExitOk;
            }

            var credential = new DefaultAzureCredential();
            var done = 0;
            await deployer.DeployAsync(plan, credential, step =>
            {
                done++;
                session.Out.WriteLine($"deployed {step.ResourceId}");
            }, cancellationToken).ConfigureAwait(false);
            await session.Error.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"factory {parse.GetValue(factory)}: {done} resources deployed")).ConfigureAwait(false);
            return CliApp.ExitOk;
        });
        return command;
    }

    private static Uri Endpoint(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps && string.IsNullOrEmpty(uri.Query) && string.IsNullOrEmpty(uri.UserInfo)
            ? uri
            : throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"{EndpointVariable} must be an https:// URL without a query, such as https://management.usgovcloudapi.net");
}
