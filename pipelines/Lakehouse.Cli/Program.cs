using System.Globalization;
using Lakehouse.Cli;

// The CLI runs with ICU (see Lakehouse.Cli.csproj: SqlClient needs it); numbers, dates and text are formatted and parsed as in
// globalization-invariant mode, whatever the user's locale.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.DefaultThreadCurrentUICulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.CurrentUICulture = CultureInfo.InvariantCulture;

// A command that reads or writes the lake opens DuckDB: its library loads while the command line is parsed and the table's log read.
if (args.Length > 0 && args[0] != "version" && CliApp.TopLevelNamed(args[0]) is not null) Lakehouse.Engine.DuckEngine.PreloadLibrary();

return await CliApp.RunAsync(args, Console.Out, Console.Error, endsProcess: true).ConfigureAwait(false);
