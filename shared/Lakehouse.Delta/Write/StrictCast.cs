using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;
using Lakehouse.Delta.Schema;
using Lakehouse.Engine;

namespace Lakehouse.Delta.Write;

/// <summary>A value that did not fit its column, as reported by the SQL of <see cref="StrictCast.ConvertSql"/>.</summary>
/// <param name="Label">The label given to <see cref="StrictCast.ConvertSql"/> (the column's name).</param>
/// <param name="Target">The Delta type of the column, as a schema names it (<c>long</c>, <c>decimal(10,2)</c>, <c>struct</c>).</param>
/// <param name="SourceType">The DuckDB type of the value.</param>
/// <param name="Value">The value as text, cut to 200 characters.</param>
public sealed record StrictCastError(string Label, string Target, string SourceType, string Value);

/// <summary>
/// SQL that converts a value to a Delta type without loss, or fails naming the column and the value. DuckDB's own CAST
/// rounds (DOUBLE 1.75 to BIGINT 2, '1.75' to 2), reads <c>'1_000'</c> and <c>'0x10'</c> as numbers, drops a time of day when
/// casting to DATE and sub-microsecond digits and UTC offsets when casting to TIMESTAMP; here a value converts only when the
/// result holds it exactly:
/// <list type="bullet">
/// <item>typed values must come back unchanged when the result is cast back to their type (DOUBLE 1.75 does not fit long;
/// BIGINT 2^53 + 1 does not fit double; DOUBLE 0.1 does not fit float);</item>
/// <item>text must be a plain literal of the target: <c>[+-]digits</c> for whole numbers, a decimal literal (with exponent) or
/// nan/inf for floating point, whose whole numbers must be exact; for decimals a decimal literal (with exponent) whose value needs
/// at most <c>scale</c> fraction digits (1E-5 fits decimal(12,5); 1.000001 does not);
/// <c>true</c>/<c>false</c> for booleans; a date without a time of day for dates; at most 6 fraction digits of seconds for
/// timestamps, and no UTC offset for timestamp_ntz.</item>
/// </list>
/// Widening conversions (int to long, float to double, date to timestamp, anything to string) need no check.
/// </summary>
public static class StrictCast
{
    private const string Marker = "lakehouse-strict-cast";
    private const char Separator = '\u001f';
    private const string SubMicroseconds = "[0-9]:[0-9]{2}[.,][0-9]{7,}";

    /// <summary>
    /// SQL for <paramref name="expression"/> (of DuckDB type <paramref name="sourceDuckType"/>) as <paramref name="target"/>.
    /// A value that does not fit raises a DuckDB error that <see cref="TryParseError"/> recognizes, naming <paramref name="label"/>.
    /// </summary>
    public static string ConvertSql(string expression, string sourceDuckType, DeltaType target, string label)
    {
        ArgumentNullException.ThrowIfNull(expression);
        ArgumentNullException.ThrowIfNull(sourceDuckType);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(label);
        var source = DuckTypeName.Parse(sourceDuckType);
        var targetDuck = target.ToDuckDb();
        if (source.Canonical == DuckTypeName.Parse(targetDuck).Canonical) return expression;
        if (IsWidening(source, target)) return $"CAST({expression} AS {targetDuck})";
        var error = "error(" + SqlText.Literal(Marker + Separator + label + Separator + TypeName(target) + Separator + sourceDuckType + Separator) +
                    $" || left(CAST({expression} AS VARCHAR), 200))";
        return $"(CASE WHEN {expression} IS NULL THEN NULL WHEN {Fits(expression, source, target)} THEN {Convert(expression, source, target)} ELSE {error} END)";
    }

    /// <summary>SQL that is true when <paramref name="expression"/> is NULL or converts to <paramref name="target"/> exactly (never NULL).</summary>
    public static string FitsSql(string expression, string sourceDuckType, DeltaType target)
    {
        ArgumentNullException.ThrowIfNull(expression);
        ArgumentNullException.ThrowIfNull(sourceDuckType);
        ArgumentNullException.ThrowIfNull(target);
        var source = DuckTypeName.Parse(sourceDuckType);
        if (source.Canonical == DuckTypeName.Parse(target.ToDuckDb()).Canonical || IsWidening(source, target)) return "true";
        return $"({expression} IS NULL OR {Fits(expression, source, target)})";
    }

    /// <summary>True when every value of <paramref name="sourceDuckType"/> converts to <paramref name="target"/> exactly, so no check is needed.</summary>
    public static bool IsExact(string sourceDuckType, DeltaType target)
    {
        ArgumentNullException.ThrowIfNull(sourceDuckType);
        ArgumentNullException.ThrowIfNull(target);
        var source = DuckTypeName.Parse(sourceDuckType);
        return source.Canonical == DuckTypeName.Parse(target.ToDuckDb()).Canonical || IsWidening(source, target);
    }

    /// <summary>
    /// False when no value of <paramref name="sourceDuckType"/> can become a <paramref name="target"/>: nested values of another
    /// shape (other struct fields, a list for a struct) or a nested value for a scalar column and the reverse.
    /// </summary>
    public static bool CanConvert(string sourceDuckType, DeltaType target)
    {
        ArgumentNullException.ThrowIfNull(sourceDuckType);
        ArgumentNullException.ThrowIfNull(target);
        var source = DuckTypeName.Parse(sourceDuckType);
        if (source.IsScalar && target is not (StructType or ArrayType or MapType)) return true;
        return SameShape(source, target);
    }

    /// <summary>Recognizes the error that the SQL of <see cref="ConvertSql"/> raises, in an engine error message.</summary>
    public static bool TryParseError(string? message, [NotNullWhen(true)] out StrictCastError? error)
    {
        error = null;
        var at = message?.IndexOf(Marker + Separator, StringComparison.Ordinal) ?? -1;
        if (at < 0) return false;
        var parts = message![(at + Marker.Length + 1)..].Split(Separator, 4);
        if (parts.Length < 4) return false;
        var value = parts[3];
        // DuckDB appends nothing after error()'s text in 1.5, but keep the first line only in case it does.
        var newline = value.IndexOf('\n', StringComparison.Ordinal);
        if (newline >= 0) value = value[..newline];
        error = new StrictCastError(parts[0], parts[1], parts[2], value);
        return true;
    }

    /// <summary>The type as a Delta schema names it: <c>long</c>, <c>decimal(10,2)</c>, <c>struct</c>, <c>array</c>, <c>map</c>.</summary>
    public static string TypeName(DeltaType type) => type switch
    {
        PrimitiveType p => p.Name,
        DecimalType d => string.Create(CultureInfo.InvariantCulture, $"decimal({d.Precision},{d.Scale})"),
        StructType => "struct",
        ArrayType => "array",
        MapType => "map",
        _ => type.ToString(),
    };

    // ---- rules --------------------------------------------------------------------------------------------------------------

    private static readonly Dictionary<string, int> IntegerDigits = new(StringComparer.Ordinal)
    {
        ["TINYINT"] = 3,
        ["SMALLINT"] = 5,
        ["INTEGER"] = 10,
        ["BIGINT"] = 19,
        ["HUGEINT"] = 39,
        ["UTINYINT"] = 3,
        ["USMALLINT"] = 5,
        ["UINTEGER"] = 10,
        ["UBIGINT"] = 20,
        ["UHUGEINT"] = 39,
    };

    private static readonly Dictionary<string, int> IntegerBits = new(StringComparer.Ordinal)
    {
        ["TINYINT"] = 8,
        ["SMALLINT"] = 16,
        ["INTEGER"] = 32,
        ["BIGINT"] = 64,
        ["HUGEINT"] = 128,
        ["UTINYINT"] = 8,
        ["USMALLINT"] = 16,
        ["UINTEGER"] = 32,
        ["UBIGINT"] = 64,
        ["UHUGEINT"] = 128,
    };

    private static bool IsSigned(string name) => name is "TINYINT" or "SMALLINT" or "INTEGER" or "BIGINT" or "HUGEINT";

    private static bool IsWidening(DuckTypeName source, DeltaType target)
    {
        var s = source.Name;
        switch (target)
        {
            case PrimitiveType { Name: "string" }:
                // Every scalar has an exact text form (DuckDB prints doubles in their shortest round-trip form).
                return source.IsScalar && s != "BLOB";
            case PrimitiveType { Name: "long" or "integer" or "short" or "byte" } p:
                {
                    var targetBits = p.Name switch { "long" => 64, "integer" => 32, "short" => 16, _ => 8 };
                    if (!IntegerBits.TryGetValue(s, out var bits)) return false;
                    return IsSigned(s) ? bits <= targetBits : bits < targetBits;
                }
            case PrimitiveType { Name: "double" }:
                return s is "FLOAT" || (IntegerBits.TryGetValue(s, out var b) && b <= 32);
            case PrimitiveType { Name: "float" }:
                return IntegerBits.TryGetValue(s, out var fb) && fb <= 16;
            case DecimalType d:
                if (IntegerDigits.TryGetValue(s, out var digits)) return d.Precision - d.Scale >= digits;
                return s == "DECIMAL" && d.Scale >= source.Scale && d.Precision - d.Scale >= source.Precision - source.Scale;
            case PrimitiveType { Name: "timestamp" or "timestamp_ntz" }:
                // The session time zone is UTC, so TIMESTAMP and TIMESTAMPTZ convert both ways without change.
                return s is "DATE" or "TIMESTAMP" or "TIMESTAMPTZ" or "TIMESTAMP_S" or "TIMESTAMP_MS";
            default:
                return false;
        }
    }

    private static string Fits(string x, DuckTypeName source, DeltaType target)
    {
        var t = target.ToDuckDb();
        if (source.IsText) return "coalesce(" + TextFits(source.Name == "JSON" ? $"CAST({x} AS VARCHAR)" : x, target) + ", false)";
        if (!source.IsScalar || target is StructType or ArrayType or MapType)
        {
            // Nested values convert only between types of the same shape; the round trip below then compares every leaf.
            if (!SameShape(source, target)) return "false";
        }
        return $"coalesce(TRY_CAST({x} AS {t}) IS NOT NULL AND CAST(TRY_CAST({x} AS {t}) AS {source.Text}) IS NOT DISTINCT FROM {x}, false)";
    }

    private static string Convert(string x, DuckTypeName source, DeltaType target)
    {
        var text = source.Name == "JSON" ? $"CAST({x} AS VARCHAR)" : x;
        if (source.IsText && target is PrimitiveType { Name: "boolean" }) return $"(lower(trim({text})) = 'true')";
        return $"TRY_CAST({(source.IsText ? $"trim({text})" : x)} AS {target.ToDuckDb()})";
    }

    private const string DecimalLiteral = @"\s*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?\s*";
    private const string WholeNumber = @"\s*[+-]?[0-9]+\s*";

    /// <summary>
    /// SQL for the number of fraction digits the decimal literal <paramref name="x"/> needs to be held exactly, from its digits
    /// rather than through a double: 1.50 needs 1, 1E-5 needs 5, 0.5e-4 needs 5, 1.5e1 and 100e-2 need none (a negative count).
    /// NULL for an exponent beyond BIGINT, which no decimal holds anyway.
    /// </summary>
    private static string ScaleNeeded(string x)
    {
        var fraction = $"rtrim(regexp_extract({x}, '\\.([0-9]*)', 1), '0')";
        var whole = $"regexp_extract({x}, '^\\s*[+-]?([0-9]*)', 1)";
        var exponent = $"TRY_CAST(coalesce(nullif(regexp_extract({x}, '[eE]([+-]?[0-9]+)', 1), ''), '0') AS BIGINT)";
        return $"(CASE WHEN rtrim({whole} || {fraction}, '0') = '' THEN 0 WHEN {fraction} <> '' THEN length({fraction}) - {exponent} " +
               $"ELSE length(rtrim({whole}, '0')) - length({whole}) - {exponent} END)";
    }

    private static string TextFits(string x, DeltaType target)
    {
        var t = target.ToDuckDb();
        switch (target)
        {
            case PrimitiveType { Name: "string" }:
                return "true";
            case PrimitiveType { Name: "long" or "integer" or "short" or "byte" }:
                return $"(regexp_full_match({x}, '{WholeNumber}') AND TRY_CAST(trim({x}) AS {t}) IS NOT NULL)";
            case PrimitiveType { Name: "double" or "float" } p:
                {
                    // Whole numbers must be exact: above 2^53 (double) or 2^24 (float) not every one is.
                    var exactDigits = p.Name == "double" ? 16 : 8;
                    return $"((regexp_full_match({x}, '{DecimalLiteral}') AND isfinite(TRY_CAST(trim({x}) AS {t})) " +
                           $"AND (NOT regexp_full_match({x}, '\\s*[+-]?[0-9]{{{exactDigits},}}\\s*') OR TRY_CAST(TRY_CAST(trim({x}) AS {t}) AS HUGEINT) = TRY_CAST(trim({x}) AS HUGEINT))) " +
                           $"OR regexp_full_match(lower({x}), '\\s*[+-]?(nan|inf|infinity)\\s*'))";
                }
            case DecimalType d:
                return $"(regexp_full_match({x}, '{DecimalLiteral}') AND TRY_CAST(trim({x}) AS {t}) IS NOT NULL " +
                       $"AND {ScaleNeeded(x)} <= {d.Scale.ToString(CultureInfo.InvariantCulture)})";
            case PrimitiveType { Name: "boolean" }:
                return $"(lower(trim({x})) IN ('true', 'false'))";
            case PrimitiveType { Name: "date" }:
                return $"(TRY_CAST(trim({x}) AS DATE) IS NOT NULL AND TRY_CAST(trim({x}) AS TIMESTAMP) IS NOT DISTINCT FROM CAST(TRY_CAST(trim({x}) AS DATE) AS TIMESTAMP))";
            case PrimitiveType { Name: "timestamp" }:
                return $"(TRY_CAST(trim({x}) AS TIMESTAMPTZ) IS NOT NULL AND NOT regexp_matches({x}, '{SubMicroseconds}'))";
            case PrimitiveType { Name: "timestamp_ntz" }:
                return $"(TRY_CAST(trim({x}) AS TIMESTAMP) IS NOT NULL AND NOT regexp_matches({x}, '{SubMicroseconds}') " +
                       @$"AND NOT regexp_matches({x}, '[0-9]{{2}}:[0-9]{{2}}(:[0-9]{{2}}([.,][0-9]*)?)?\s*([Zz]|[+-][0-9]{{2}}(:?[0-9]{{2}})?)\s*$'))";
            case PrimitiveType { Name: "binary" }:
                return $"(CAST(TRY_CAST({x} AS BLOB) AS VARCHAR) = {x})";
            default:
                return "false";
        }
    }

    private static bool SameShape(DuckTypeName source, DeltaType target) => (source.Name, target) switch
    {
        ("STRUCT", StructType s) => source.Children.Count == s.Fields.Count
            && source.Children.Zip(s.Fields).All(p => string.Equals(p.First.FieldName, p.Second.Name, StringComparison.OrdinalIgnoreCase) && SameShape(p.First, p.Second.Type)),
        ("LIST", ArrayType a) => SameShape(source.Children[0], a.ElementType),
        ("MAP", MapType m) => SameShape(source.Children[0], m.KeyType) && SameShape(source.Children[1], m.ValueType),
        (_, StructType or ArrayType or MapType) => false,
        _ => source.IsScalar,
    };
}

/// <summary>A DuckDB type as DESCRIBE prints it, parsed far enough to compare types and tell their kind.</summary>
internal sealed class DuckTypeName
{
    private DuckTypeName(string name, string? fieldName, List<DuckTypeName> children, int precision, int scale)
    {
        Name = name;
        FieldName = fieldName;
        Children = children;
        Precision = precision;
        Scale = scale;
    }

    /// <summary>The type's name: BIGINT, DECIMAL, TIMESTAMPTZ, VARCHAR, STRUCT, LIST, MAP, ...</summary>
    internal string Name { get; }

    /// <summary>The field name when this is a child of a STRUCT.</summary>
    internal string? FieldName { get; }

    internal List<DuckTypeName> Children { get; }

    internal int Precision { get; }

    internal int Scale { get; }

    internal bool IsScalar => Name is not ("STRUCT" or "LIST" or "MAP" or "UNION" or "ARRAY");

    internal bool IsText => Name is "VARCHAR" or "JSON";

    /// <summary>A normalized spelling: equal for equal types.</summary>
    internal string Canonical => Name switch
    {
        "DECIMAL" => string.Create(CultureInfo.InvariantCulture, $"DECIMAL({Precision},{Scale})"),
        "LIST" => Children[0].Canonical + "[]",
        "MAP" => $"MAP({Children[0].Canonical}, {Children[1].Canonical})",
        "STRUCT" => "STRUCT(" + string.Join(", ", Children.Select(c => SqlText.Identifier(c.FieldName!) + " " + c.Canonical)) + ")",
        _ => Name,
    };

    /// <summary>SQL text of the type.</summary>
    internal string Text => Canonical;

    internal static DuckTypeName Parse(string text)
    {
        var i = 0;
        var result = ParseType(text, ref i, null);
        return result;
    }

    private static DuckTypeName ParseType(string s, ref int i, string? fieldName)
    {
        SkipSpaces(s, ref i);
        var start = i;
        while (i < s.Length && (char.IsLetterOrDigit(s[i]) || s[i] == '_')) i++;
        var name = s[start..i].ToUpperInvariant();
        // Multi-word names: TIMESTAMP WITH TIME ZONE, DOUBLE PRECISION, ...
        var rest = s[i..].TrimStart();
        if (name == "TIMESTAMP" && rest.StartsWith("WITH TIME ZONE", StringComparison.OrdinalIgnoreCase))
        {
            i = s.Length - rest.Length + "WITH TIME ZONE".Length;
            name = "TIMESTAMPTZ";
        }
        name = name switch
        {
            "INT" or "INT4" or "SIGNED" => "INTEGER",
            "INT8" or "LONG" => "BIGINT",
            "INT2" or "SHORT" => "SMALLINT",
            "INT1" => "TINYINT",
            "FLOAT4" or "REAL" => "FLOAT",
            "FLOAT8" => "DOUBLE",
            "BOOL" or "LOGICAL" => "BOOLEAN",
            "STRING" or "TEXT" or "CHAR" or "BPCHAR" => "VARCHAR",
            "BYTEA" or "BINARY" or "VARBINARY" => "BLOB",
            "NUMERIC" => "DECIMAL",
            "DATETIME" => "TIMESTAMP",
            _ => name,
        };
        var children = new List<DuckTypeName>();
        int precision = 18, scale = 3;
        SkipSpaces(s, ref i);
        if (i < s.Length && s[i] == '(')
        {
            i++;
            if (name is "STRUCT" or "UNION")
            {
                while (true)
                {
                    SkipSpaces(s, ref i);
                    var field = ReadName(s, ref i);
                    children.Add(ParseType(s, ref i, field));
                    SkipSpaces(s, ref i);
                    if (i < s.Length && s[i] == ',') { i++; continue; }
                    break;
                }
            }
            else if (name is "MAP")
            {
                children.Add(ParseType(s, ref i, null));
                SkipSpaces(s, ref i);
                if (i < s.Length && s[i] == ',') i++;
                children.Add(ParseType(s, ref i, null));
            }
            else
            {
                var close = s.IndexOf(')', i);
                var args = s[i..close].Split(',', StringSplitOptions.TrimEntries);
                i = close;
                if (name == "DECIMAL")
                {
                    precision = int.Parse(args[0], CultureInfo.InvariantCulture);
                    scale = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 0;
                }
            }
            SkipSpaces(s, ref i);
            if (i < s.Length && s[i] == ')') i++;
        }
        var type = new DuckTypeName(name, fieldName, children, precision, scale);
        // Array suffixes: INTEGER[] (list) and INTEGER[3] (fixed array, treated as a list here).
        SkipSpaces(s, ref i);
        while (i < s.Length && s[i] == '[')
        {
            var close = s.IndexOf(']', i);
            i = close + 1;
            type = new DuckTypeName("LIST", fieldName, [type.WithoutField()], 18, 3);
            SkipSpaces(s, ref i);
        }
        return type;
    }

    private DuckTypeName WithoutField() => new(Name, null, Children, Precision, Scale);

    private static string ReadName(string s, ref int i)
    {
        if (i < s.Length && s[i] == '"')
        {
            var name = new StringBuilder();
            i++;
            while (i < s.Length)
            {
                if (s[i] == '"' && i + 1 < s.Length && s[i + 1] == '"')
                {
                    name.Append('"');
                    i += 2;
                    continue;
                }
                if (s[i] == '"')
                {
                    i++;
                    break;
                }
                name.Append(s[i++]);
            }
            return name.ToString();
        }
        var start = i;
        while (i < s.Length && s[i] != ' ') i++;
        return s[start..i];
    }

    private static void SkipSpaces(string s, ref int i)
    {
        while (i < s.Length && s[i] == ' ') i++;
    }
}
