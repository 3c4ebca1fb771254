using Lakehouse.Core;

namespace Lakehouse.Engine;

internal static class DuckError
{
    internal static LakehouseException Create(string what, string? duckText) =>
        new(LakehouseErrorReason.Engine, $"{what}: {duckText ?? "DuckDB gave no error text"}");
}
