using System.Globalization;
using Lakehouse.Cli;

// The CLI runs with ICU (see Lakehouse.Cli.csproj: SqlClient needs it); numbers, dates and text are formatted and parsed as in
// globalization-invariant mode, whatever the user's locale.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;

return await CliApp.RunAsync(args, Console.Out, Console.Error, endsProcess: true).ConfigureAwait(false);
