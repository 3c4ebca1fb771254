using System.Globalization;
using Lakehouse.Delta.Schema;

namespace Lakehouse.Gold.Serving;

/// <summary>
/// The T-SQL type a view's <c>WITH</c> clause gives a Delta column, as Synapse serverless reads it from the table's Parquet files
/// (Microsoft's Parquet type mapping for serverless SQL pools): strings as UTF-8 <c>VARCHAR</c> with a BIN2 UTF-8 collation,
/// nested types (struct, array, map) as their JSON text.
/// </summary>
internal static class SynapseTypes
{
    /// <summary>The collation of every string column: UTF-8, binary, so strings read and compare exactly as stored.</summary>
    internal const string Utf8Collation = "Latin1_General_100_BIN2_UTF8";

    /// <summary>
    /// The T-SQL type of a column of <paramref name="type"/>; strings are <c>VARCHAR(<paramref name="stringLength"/>)</c>, or
    /// <c>VARCHAR(MAX)</c> when it is null (a Delta string has no length limit).
    /// </summary>
    internal static string Of(DeltaType type, int? stringLength) => type switch
    {
        PrimitiveType p => p.Name switch
        {
            "string" => stringLength is { } n
                ? string.Create(CultureInfo.InvariantCulture, $"VARCHAR({n}) COLLATE {Utf8Collation}")
                : $"VARCHAR(MAX) COLLATE {Utf8Collation}",
            "long" => "BIGINT",
            "integer" => "INT",
            "short" => "SMALLINT",
            // Delta's byte is signed (-128..127) and T-SQL's TINYINT is 0..255: serverless reads INT(8, signed) as SMALLINT.
            "byte" => "SMALLINT",
            "float" => "REAL",
            "double" => "FLOAT",
            "boolean" => "BIT",
            "binary" => "VARBINARY(MAX)",
            "date" => "DATE",
            // An instant in UTC (microseconds); DATETIME2(7) holds it without loss.
            "timestamp" or "timestamp_ntz" => "DATETIME2(7)",
            _ => throw new ArgumentOutOfRangeException(nameof(type), p.Name, "Unknown Delta primitive type."),
        },
        DecimalType d => string.Create(CultureInfo.InvariantCulture, $"DECIMAL({d.Precision},{d.Scale})"),
        // Serverless returns nested Parquet values as JSON text; read them with JSON_VALUE / OPENJSON.
        StructType or ArrayType or MapType => $"VARCHAR(MAX) COLLATE {Utf8Collation}",
        _ => throw new ArgumentOutOfRangeException(nameof(type), type.GetType().Name, "Unknown Delta type."),
    };

    /// <summary>The Delta type as a short text for comments and listings: string, long, decimal(10,2), struct, array, map.</summary>
    internal static string Describe(DeltaType type) => type switch
    {
        PrimitiveType p => p.Name,
        DecimalType d => string.Create(CultureInfo.InvariantCulture, $"decimal({d.Precision},{d.Scale})"),
        StructType => "struct",
        ArrayType => "array",
        MapType => "map",
        _ => type.GetType().Name,
    };
}
