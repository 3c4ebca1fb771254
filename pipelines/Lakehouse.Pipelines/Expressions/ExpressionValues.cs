using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Lakehouse.Pipelines.Expressions;

/// <summary>
/// Values while an expression runs: null, string, long, double, bool, <see cref="List{T}"/> of values (arrays) and
/// <see cref="Dictionary{TKey, TValue}"/> of string to value (objects, insertion-ordered). Never mutated once built.
/// </summary>
internal static class ExpressionValues
{
    internal static ValueKinds KindOf(object? value) => value switch
    {
        null => ValueKinds.Null,
        string => ValueKinds.String,
        long => ValueKinds.Integer,
        double => ValueKinds.Float,
        bool => ValueKinds.Boolean,
        List<object?> => ValueKinds.Array,
        Dictionary<string, object?> => ValueKinds.Object,
        _ => throw new InvalidOperationException($"not an expression value: {value.GetType()}"),
    };

    internal static string KindName(ValueKinds kinds)
    {
        var names = new List<string>();
        foreach (var (kind, name) in new[]
        {
            (ValueKinds.Null, "null"), (ValueKinds.String, "string"), (ValueKinds.Integer, "integer"), (ValueKinds.Float, "float"),
            (ValueKinds.Boolean, "boolean"), (ValueKinds.Array, "array"), (ValueKinds.Object, "object"),
        })
        {
            if ((kinds & kind) != 0)
            {
                names.Add(name);
            }
        }
        return kinds == ValueKinds.Number ? "number" : string.Join(" or ", names);
    }

    internal static object? FromNode(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonArray array:
                var list = new List<object?>(array.Count);
                foreach (var item in array)
                {
                    list.Add(FromNode(item));
                }
                return list;
            case JsonObject obj:
                var dict = new Dictionary<string, object?>(StringComparer.Ordinal);
                foreach (var (key, item) in obj)
                {
                    dict[key] = FromNode(item);
                }
                return dict;
            default:
                var value = node.AsValue();
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String:
                        return value.GetValue<string>();
                    case JsonValueKind.True:
                        return true;
                    case JsonValueKind.False:
                        return false;
                    case JsonValueKind.Null:
                        return null;
                    default:
                        if (value.TryGetValue<long>(out var l))
                        {
                            return l;
                        }
                        if (value.TryGetValue<int>(out var i))
                        {
                            return (long)i;
                        }
                        if (value.TryGetValue<JsonElement>(out var e) && e.TryGetInt64(out var el))
                        {
                            return el;
                        }
                        // Any other CLR number (float, decimal, …): its JSON text is a number.
                        return double.Parse(value.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
                }
        }
    }

    internal static JsonNode? ToNode(object? value) => value switch
    {
        null => null,
        string s => JsonValue.Create(s),
        long l => JsonValue.Create(l),
        double d => JsonValue.Create(d),
        bool b => JsonValue.Create(b),
        List<object?> list => new JsonArray(list.Select(ToNode).ToArray()),
        Dictionary<string, object?> dict => new JsonObject(dict.Select(p => KeyValuePair.Create(p.Key, ToNode(p.Value)))),
        _ => throw new InvalidOperationException($"not an expression value: {value.GetType()}"),
    };

    /// <summary>The text of a value as <c>string()</c> and <c>@{…}</c> write it: booleans as True/False, containers as JSON.</summary>
    internal static string ToText(object? value) => value switch
    {
        null => "",
        string s => s,
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "True" : "False",
        _ => ToNode(value)!.ToJsonString(),
    };

    /// <summary>A short rendering of a value for an error message (long strings cut).</summary>
    internal static string Show(object? value)
    {
        var text = value switch
        {
            null => "null",
            string s => "'" + s + "'",
            _ => ToText(value),
        };
        return text.Length > 60 ? string.Concat(text.AsSpan(0, 57), "...") : text;
    }

    internal static bool AreEqual(object? a, object? b)
    {
        switch (a, b)
        {
            case (null, null):
                return true;
            case (null, _) or (_, null):
                return false;
            case (long x, long y):
                return x == y;
            case (long or double, long or double):
                return Convert.ToDouble(a, CultureInfo.InvariantCulture) == Convert.ToDouble(b, CultureInfo.InvariantCulture);
            case (string x, string y):
                return string.Equals(x, y, StringComparison.OrdinalIgnoreCase);
            case (bool x, bool y):
                return x == y;
            case (List<object?> x, List<object?> y):
                if (x.Count != y.Count)
                {
                    return false;
                }
                for (var i = 0; i < x.Count; i++)
                {
                    if (!AreEqual(x[i], y[i]))
                    {
                        return false;
                    }
                }
                return true;
            case (Dictionary<string, object?> x, Dictionary<string, object?> y):
                if (x.Count != y.Count)
                {
                    return false;
                }
                foreach (var (key, item) in x)
                {
                    if (!y.TryGetValue(key, out var other) || !AreEqual(item, other))
                    {
                        return false;
                    }
                }
                return true;
            default:
                return false;
        }
    }

    /// <summary>Values compared as <see cref="AreEqual"/> compares them, with a hash that agrees (numbers by value, strings in any case).</summary>
    internal sealed class Comparer : IEqualityComparer<object?>
    {
        internal static readonly Comparer Instance = new();

        public new bool Equals(object? x, object? y) => AreEqual(x, y);

        public int GetHashCode(object? obj) => obj switch
        {
            null => 0,
            long l => ((double)l).GetHashCode(),
            double d => d.GetHashCode(),
            string s => StringComparer.OrdinalIgnoreCase.GetHashCode(s),
            bool b => b ? 1 : 2,
            List<object?> list => list.Aggregate(list.Count, (hash, item) => HashCode.Combine(hash, GetHashCode(item))),
            // In any key order, as AreEqual compares objects.
            Dictionary<string, object?> map => map.Aggregate(map.Count, (hash, pair) => hash ^ HashCode.Combine(StringComparer.Ordinal.GetHashCode(pair.Key), GetHashCode(pair.Value))),
            _ => 3,
        };
    }
}
