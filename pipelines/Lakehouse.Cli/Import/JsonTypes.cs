using Lakehouse.Core;
using Lakehouse.Delta.Schema;
using Lakehouse.Delta.Write;

namespace Lakehouse.Cli.Import;

/// <summary>
/// Types for JSON records from what the whole input holds (<see cref="JsonShape"/>), and the check of an input against an
/// existing table. A column holds one kind of value (nulls aside): whole numbers become long (decimal(38,0) when one is beyond
/// long), whole numbers mixed with fractions become double (refused when a whole number is not exact in a double), strings
/// become date or timestamp when every one is an ISO date or timestamp and string otherwise, objects become structs of every key
/// seen, arrays become arrays of their elements' type, and a column of nulls only becomes string. Any other mix is refused,
/// naming the column and the line of the first value of the other kind.
/// </summary>
internal sealed class JsonTypes(IReadOnlyList<ImportInput> files)
{
    /// <summary>The schema of a new table for records of <paramref name="record"/>'s shape.</summary>
    internal StructType Infer(JsonShape record)
    {
        if (record.CaseClash is { } clash) throw CaseClash(clash, null);
        return new StructType([.. record.Children.Select(c => new StructField(Named(c, null), Infer(c, c.Name, topLevel: true), true))]);
    }

    private DeltaType Infer(JsonShape s, string path, bool topLevel)
    {
        var kinds = s.Kinds & ~JsonKinds.Null;
        switch (kinds)
        {
            case JsonKinds.None:
                return PrimitiveType.String;
            case JsonKinds.Integer:
                if (!s.BeyondLong.IsSet) return PrimitiveType.Long;
                if (s.MaxIntegerDigits <= 38) return new DecimalType(38, 0);
                throw Refuse(s.BeyondLong, $"column '{path}' has a whole number of {s.MaxIntegerDigits} digits, more than any Delta number type holds (38). Send it as a string.");
            case JsonKinds.Fraction:
                return PrimitiveType.Double;
            case JsonKinds.Integer | JsonKinds.Fraction:
                if (s.InexactDouble.IsSet)
                    throw Refuse(s.InexactDouble, $"column '{path}' mixes fractions with a whole number that a double cannot hold exactly (more than 15 digits), " +
                                                  "and no Delta type holds both exactly. Send the large numbers as strings, or write them all with a decimal point.");
                return PrimitiveType.Double;
            case JsonKinds.Boolean:
                return PrimitiveType.Boolean;
            case JsonKinds.String:
                return !topLevel ? PrimitiveType.String : s.AllDates ? PrimitiveType.Date : s.AllTimestamps ? PrimitiveType.Timestamp : PrimitiveType.String;
            case JsonKinds.Object:
                if (s.CaseClash is { } clash) throw CaseClash(clash, path);
                if (s.Children.Count == 0) return new MapType(PrimitiveType.String, PrimitiveType.String, true);
                return new StructType([.. s.Children.Select(c => new StructField(Named(c, path), Infer(c, path + "." + c.Name, false), true))]);
            case JsonKinds.Array:
                return new ArrayType(s.Element is null ? PrimitiveType.String : Infer(s.Element, path + "[]", false), true);
            default:
                var seen = s.KindsSeen();
                var first = seen[0];
                var other = seen.First(k => !Compatible(k.Kind, first.Kind));
                throw Refuse(other.At, $"column '{path}' has {JsonShape.Describe(other.Kind)}, but its first value ({Where(first.At)}) is {JsonShape.Describe(first.Kind)}; " +
                                       "a column holds one kind of value. Make the values agree, or send the column as a JSON string.");
        }
    }

    private static bool Compatible(JsonKinds a, JsonKinds b) =>
        a == b || (a is JsonKinds.Integer or JsonKinds.Fraction && b is JsonKinds.Integer or JsonKinds.Fraction);

    /// <summary>Refuses, naming the line, any key or value of <paramref name="record"/> that does not fit <paramref name="schema"/>.</summary>
    internal void Check(JsonShape record, StructType schema, string table)
    {
        var extra = record.Children.Where(c => schema.Find(c.Name) is null).ToList();
        if (extra.Count > 0)
        {
            var first = extra.MinBy(e => e.FirstSeen)!;
            throw Refuse(first.FirstSeen,
                $"has column{(extra.Count > 1 ? "s" : "")} {string.Join(", ", extra.Select(e => "'" + e.Name + "'"))} that '{table}' does not have " +
                $"(its columns: {string.Join(", ", schema.Fields.Select(f => f.Name))}); nothing was imported. Drop or rename {(extra.Count > 1 ? "them" : "it")}.", column: false);
        }
        if (record.CaseClash is { } clash) throw CaseClash(clash, null);
        foreach (var f in schema.Fields)
        {
            var s = ColumnShape(record, f.Name);
            if (s is not null) Check(s, f.Type, f.Name, table);
        }
    }

    /// <summary>The shape of the input's key for column <paramref name="name"/> (exact, else the one key that differs only in case).</summary>
    internal static JsonShape? ColumnShape(JsonShape record, string name) =>
        record.Find(name) ?? record.Children.FirstOrDefault(c => string.Equals(c.Name, name, StringComparison.OrdinalIgnoreCase));

    private void Check(JsonShape s, DeltaType type, string path, string table, bool nested = false)
    {
        var kinds = s.Kinds & ~JsonKinds.Null;
        var allowed = type switch
        {
            PrimitiveType { Name: "long" or "integer" or "short" or "byte" } => JsonKinds.Integer,
            PrimitiveType { Name: "double" or "float" } or DecimalType => JsonKinds.Integer | JsonKinds.Fraction,
            PrimitiveType { Name: "boolean" } => JsonKinds.Boolean,
            PrimitiveType { Name: "string" or "date" or "timestamp" or "timestamp_ntz" } => JsonKinds.String,
            StructType or MapType => JsonKinds.Object,
            ArrayType => JsonKinds.Array,
            _ => JsonKinds.None,
        };
        var bad = kinds & ~allowed;
        if (bad != 0)
        {
            var (kind, at) = s.KindsSeen().First(k => (bad & k.Kind) != 0);
            throw Refuse(at, $"column '{path}' of '{table}' is {Expected(type)}, but the value there is {JsonShape.Describe(kind)}; nothing was imported.");
        }
        switch (type)
        {
            case PrimitiveType { Name: "long" } when s.BeyondLong.IsSet:
                throw Refuse(s.BeyondLong, $"column '{path}' of '{table}' is long, but the whole number there is beyond its range (±9223372036854775807); nothing was imported.");
            case PrimitiveType { Name: "double" } when (kinds & JsonKinds.Integer) != 0 && s.InexactDouble.IsSet:
                throw Refuse(s.InexactDouble, $"column '{path}' of '{table}' is double, but the whole number there has more digits than a double holds exactly; nothing was imported.");
            // A decimal inside a struct, list or map: DuckDB converts the number through a double and rounds it to the decimal's
            // places without a word (a top-level decimal column is read as the file's text and checked, see JsonNumberText).
            case DecimalType d when nested && s.MostPlaces.Places > d.Scale:
                throw Refuse(s.MostPlaces.At, $"column '{path}' of '{table}' is {StrictCast.TypeName(d)}, but the number there has {s.MostPlaces.Places} decimal places, " +
                                              "which it cannot hold without rounding; nothing was imported.");
            case DecimalType d when nested && s.MostWholeDigits.Digits > int.MinValue && s.MostWholeDigits.Digits + d.Scale > 15:
                throw Refuse(s.MostWholeDigits.At, $"column '{path}' of '{table}' is {StrictCast.TypeName(d)} inside a struct, list or map, where the import reads a number " +
                                                   $"through a double, and the number there has {s.MostWholeDigits.Digits + d.Scale} digits at {d.Scale} decimal places, more than the 15 a " +
                                                   "double keeps; nothing was imported. Import such values from CSV or Parquet, or into a top-level column.");
            case StructType st:
                foreach (var c in s.Children)
                {
                    var field = st.Fields.FirstOrDefault(f => f.Name == c.Name)
                        ?? throw Refuse(c.FirstSeen, $"column '{path}' of '{table}' has no field '{c.Name}' (its fields: {string.Join(", ", st.Fields.Select(f => f.Name))}; names inside objects " +
                                                     "must match exactly); nothing was imported.");
                    Check(c, field.Type, path + "." + c.Name, table, nested: true);
                }
                break;
            case ArrayType a when s.Element is not null:
                Check(s.Element, a.ElementType, path + "[]", table, nested: true);
                break;
            case MapType m:
                if (m.KeyType is not PrimitiveType { Name: "string" } && s.Children.Count > 0)
                    throw Refuse(s.Children[0].FirstSeen, $"column '{path}' of '{table}' is a map with {StrictCast.TypeName(m.KeyType)} keys, which JSON object keys (strings) do not fill; nothing was imported.");
                foreach (var c in s.Children) Check(c, m.ValueType, path + "." + c.Name, table, nested: true);
                break;
        }
    }

    private static string Expected(DeltaType type) => type switch
    {
        PrimitiveType { Name: "long" or "integer" or "short" or "byte" } p => $"{p.Name} (whole numbers)",
        PrimitiveType { Name: "double" or "float" } p => $"{p.Name} (numbers)",
        DecimalType d => $"{StrictCast.TypeName(d)} (numbers)",
        PrimitiveType { Name: "boolean" } => "boolean (true or false)",
        PrimitiveType { Name: "string" } => "string",
        PrimitiveType { Name: "date" or "timestamp" or "timestamp_ntz" } p => $"{p.Name} (ISO 8601 strings)",
        PrimitiveType { Name: "binary" } => "binary, which JSON has no values for",
        StructType => "a struct (objects)",
        MapType => "a map (objects)",
        ArrayType => "an array",
        _ => StrictCast.TypeName(type),
    };

    /// <summary>The key of <paramref name="s"/> as a column name; refused, naming its first line, when a Delta table cannot take it.</summary>
    private string Named(JsonShape s, string? path) => StructField.IsStorableName(s.Name) ? s.Name
        : throw Refuse(s.FirstSeen, $"has the key '{s.Name}'{(path is null ? "" : $" in column '{path}'")}, which a Delta table cannot take as a column name " +
                                    $"(it is empty, or holds one of {StructField.UnstorableCharacters}); nothing was imported. Rename it.", column: false);

    private LakehouseException CaseClash((string First, string Second, SourceLocation At) clash, string? path) =>
        Refuse(clash.At, $"has the key{(path is null ? "" : $" in column '{path}'")} '{clash.Second}', and elsewhere '{clash.First}': names that differ only in case " +
                         "cannot be two columns of a Delta table. Use one spelling.", column: false);

    internal string Where(SourceLocation at) => $"{files[at.File].Display} line {at.Line}";

    private LakehouseException Refuse(SourceLocation at, string what, bool column = true) =>
        new(LakehouseErrorReason.InvalidInput, $"{Where(at)}{(column ? ": " : " ")}{what}");
}
