using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using K = Lakehouse.Pipelines.Expressions.ValueKinds;

namespace Lakehouse.Pipelines.Expressions;

/// <summary>The functions the evaluator supports, by case-insensitive name, with ADF's documented behaviour.</summary>
internal static class ExpressionFunctions
{
    private const int Many = ExpressionFunction.Variadic;
    private const int MaxRange = 100_000;

    /// <summary>
    /// ADF formats dates the way en-US does (utcNow('D') is "Sunday, April 15, 2018"). The build runs with invariant
    /// globalization, so the en-US patterns are set here on a copy of the invariant culture's (same names and AM/PM).
    /// </summary>
    private static readonly DateTimeFormatInfo UsEnglishDates = CreateUsEnglishDates();

    private static readonly Dictionary<string, ExpressionFunction> Functions = Build();

    internal static IEnumerable<string> Names => Functions.Keys;

    internal static bool TryGet(string name, [MaybeNullWhen(false)] out ExpressionFunction function) =>
        Functions.TryGetValue(name, out function);

    private static Dictionary<string, ExpressionFunction> Build()
    {
        var f = new Dictionary<string, ExpressionFunction>(StringComparer.OrdinalIgnoreCase);
        void Add(string name, int min, int max, K[] parameters, K returns, Func<ExpressionCall, object?> body, bool lazy = false) =>
            f.Add(name, new ExpressionFunction(min, max, parameters, returns, body, lazy));

        // Strings
        Add("concat", 1, Many, [K.Any], K.String, c => string.Concat(Enumerable.Range(0, c.Count).Select(i => ExpressionValues.ToText(c.Arg(i)))));
        Add("toLower", 1, 1, [K.String], K.String, c => c.String(0).ToLowerInvariant());
        Add("toUpper", 1, 1, [K.String], K.String, c => c.String(0).ToUpperInvariant());
        Add("trim", 1, 1, [K.String], K.String, c => c.String(0).Trim());
        Add("substring", 2, 3, [K.String, K.Integer, K.Integer], K.String, Substring);
        Add("replace", 3, 3, [K.String], K.String, c => c.String(1).Length == 0
            ? throw c.Fail("argument 2 (the text to replace) must not be empty")
            : c.String(0).Replace(c.String(1), c.String(2), StringComparison.Ordinal));
        Add("split", 2, 2, [K.String], K.Array, c => c.String(0).Split(c.String(1)).Select(s => (object?)s).ToList());
        Add("join", 2, 2, [K.Array, K.String], K.String, c => string.Join(c.String(1), c.Array(0).Select(ExpressionValues.ToText)));
        Add("startsWith", 2, 2, [K.String], K.Boolean, c => c.String(0).StartsWith(c.String(1), StringComparison.OrdinalIgnoreCase));
        Add("endsWith", 2, 2, [K.String], K.Boolean, c => c.String(0).EndsWith(c.String(1), StringComparison.OrdinalIgnoreCase));
        Add("guid", 0, 1, [K.String], K.String, Guid);

        // Collections
        Add("length", 1, 1, [K.String | K.Array | K.Object], K.Integer, c => c.Arg(0) switch
        {
            string s => (long)s.Length,
            List<object?> a => (long)a.Count,
            Dictionary<string, object?> o => (long)o.Count,
            _ => null,
        });
        Add("empty", 1, 1, [K.Null | K.String | K.Array | K.Object], K.Boolean, c => c.Arg(0) switch
        {
            null => true,
            string s => s.Length == 0,
            List<object?> a => a.Count == 0,
            Dictionary<string, object?> o => o.Count == 0,
            _ => false,
        });
        Add("contains", 2, 2, [K.String | K.Array | K.Object, K.Any], K.Boolean, Contains);
        Add("createArray", 1, Many, [K.Any], K.Array, c => Enumerable.Range(0, c.Count).Select(c.Arg).ToList());
        Add("first", 1, 1, [K.String | K.Array], K.Any, c => c.Arg(0) switch
        {
            string s => s.Length == 0 ? null : s[..1],
            List<object?> a => a.Count == 0 ? null : a[0],
            _ => null,
        });
        Add("last", 1, 1, [K.String | K.Array], K.Any, c => c.Arg(0) switch
        {
            string s => s.Length == 0 ? null : s[^1..],
            List<object?> a => a.Count == 0 ? null : a[^1],
            _ => null,
        });
        Add("union", 2, Many, [K.Array | K.Object], K.Array | K.Object, Union);
        Add("range", 2, 2, [K.Integer], K.Array, Range);

        // Logic and comparison
        Add("equals", 2, 2, [K.Any], K.Boolean, EqualsFunction);
        Add("if", 3, 3, [K.Boolean, K.Any, K.Any], K.Any, c => c.Boolean(0) ? c.Arg(1) : c.Arg(2), lazy: true);
        Add("and", 2, Many, [K.Boolean], K.Boolean, c => Enumerable.Range(0, c.Count).All(c.Boolean), lazy: true);
        Add("or", 2, Many, [K.Boolean], K.Boolean, c => Enumerable.Range(0, c.Count).Any(c.Boolean), lazy: true);
        Add("not", 1, 1, [K.Boolean], K.Boolean, c => !c.Boolean(0));
        Add("greater", 2, 2, [K.Number | K.String], K.Boolean, c => Compare(c) > 0);
        Add("greaterOrEquals", 2, 2, [K.Number | K.String], K.Boolean, c => Compare(c) >= 0);
        Add("less", 2, 2, [K.Number | K.String], K.Boolean, c => Compare(c) < 0);
        Add("lessOrEquals", 2, 2, [K.Number | K.String], K.Boolean, c => Compare(c) <= 0);
        Add("coalesce", 1, Many, [K.Any], K.Any, c => Enumerable.Range(0, c.Count).Select(c.Arg).FirstOrDefault(v => v is not null));

        // Conversion
        Add("json", 1, 1, [K.String], K.Any, Json);
        Add("string", 1, 1, [K.Any], K.String, c => ExpressionValues.ToText(c.Arg(0)));
        Add("int", 1, 1, [K.String | K.Number | K.Boolean], K.Integer, Int);
        Add("float", 1, 1, [K.String | K.Number], K.Float, Float);
        Add("bool", 1, 1, [K.String | K.Number | K.Boolean], K.Boolean, Bool);

        // Math
        Add("add", 2, 2, [K.Number], K.Number, c => Arithmetic(c, (x, y) => checked(x + y), (x, y) => x + y));
        Add("sub", 2, 2, [K.Number], K.Number, c => Arithmetic(c, (x, y) => checked(x - y), (x, y) => x - y));
        Add("mul", 2, 2, [K.Number], K.Number, c => Arithmetic(c, (x, y) => checked(x * y), (x, y) => x * y));
        Add("div", 2, 2, [K.Number], K.Number, c => Arithmetic(c, (x, y) => y == 0 ? throw c.Fail("division by zero") : x / y,
            (x, y) => y == 0 ? throw c.Fail("division by zero") : x / y));
        Add("mod", 2, 2, [K.Number], K.Number, c => Arithmetic(c, (x, y) => y == 0 ? throw c.Fail("division by zero") : x % y,
            (x, y) => y == 0 ? throw c.Fail("division by zero") : x % y));

        // Dates
        Add("utcNow", 0, 1, [K.String], K.String, c => Format(c, c.Context.Clock.GetUtcNow().UtcDateTime, 0));
        Add("formatDateTime", 1, 2, [K.String], K.String, c => Format(c, Timestamp(c, 0), 1));
        Add("addDays", 2, 3, [K.String, K.Integer, K.String], K.String, c => Shift(c, t => t.AddDays(c.Integer(1))));
        Add("addHours", 2, 3, [K.String, K.Integer, K.String], K.String, c => Shift(c, t => t.AddHours(c.Integer(1))));
        Add("addMinutes", 2, 3, [K.String, K.Integer, K.String], K.String, c => Shift(c, t => t.AddMinutes(c.Integer(1))));
        Add("addSeconds", 2, 3, [K.String, K.Integer, K.String], K.String, c => Shift(c, t => t.AddSeconds(c.Integer(1))));
        Add("startOfDay", 1, 2, [K.String], K.String, c => Format(c, Timestamp(c, 0).Date, 1));

        // The run
        Add("pipeline", 0, 0, [], K.Object, Pipeline);
        Add("activity", 1, 1, [K.String], K.Object, c => c.Context.Activities.TryGetValue(c.String(0), out var result)
            ? ExpressionValues.FromNode(result)
            : throw c.Fail($"activity '{c.String(0)}' has no result in this run (it does not exist or has not run yet)"));
        Add("variables", 1, 1, [K.String], K.Any, c => c.Context.Variables.TryGetValue(c.String(0), out var value)
            ? ExpressionValues.FromNode(value)
            : throw c.Fail($"variable '{c.String(0)}' is not declared in the pipeline"));
        Add("item", 0, 0, [], K.Any, c => c.Context.HasItem
            ? ExpressionValues.FromNode(c.Context.Item)
            : throw c.Fail("item() is only available inside a ForEach activity"));
        Add("triggerBody", 0, 0, [], K.Any, c => c.Context.TriggerBody is { } body
            ? ExpressionValues.FromNode(body)
            : throw c.Fail("this run was not started by a trigger with a body"));
        return f;
    }

    private static DateTimeFormatInfo CreateUsEnglishDates()
    {
        var info = (DateTimeFormatInfo)CultureInfo.InvariantCulture.DateTimeFormat.Clone();
        info.ShortDatePattern = "M/d/yyyy";
        info.LongDatePattern = "dddd, MMMM d, yyyy";
        info.ShortTimePattern = "h:mm tt";
        info.LongTimePattern = "h:mm:ss tt";
        info.FullDateTimePattern = "dddd, MMMM d, yyyy h:mm:ss tt";
        info.MonthDayPattern = "MMMM d";
        info.YearMonthPattern = "MMMM yyyy";
        return DateTimeFormatInfo.ReadOnly(info);
    }

    private static object? Substring(ExpressionCall c)
    {
        var text = c.String(0);
        var start = c.Integer(1);
        var length = c.Count > 2 ? c.Integer(2) : text.Length - start;
        if (start < 0 || start > text.Length || length < 0 || start + length > text.Length)
        {
            throw c.Fail($"start {start} and length {length} are outside the text of length {text.Length}");
        }
        return text.Substring((int)start, (int)length);
    }

    private static object? Guid(ExpressionCall c)
    {
        var format = c.OptionalString(0) ?? "D";
        if (format.Length != 1 || !"NDBPX".Contains(char.ToUpperInvariant(format[0]), StringComparison.Ordinal))
        {
            throw c.Fail($"'{format}' is not a GUID format (N, D, B, P or X)");
        }
        return c.Context.NewGuid().ToString(format, CultureInfo.InvariantCulture);
    }

    private static object? Contains(ExpressionCall c) => c.Arg(0) switch
    {
        string s => c.Arg(1) is string part ? s.Contains(part, StringComparison.Ordinal) : throw c.Fail("argument 2 must be a string when argument 1 is a string"),
        List<object?> a => a.Any(item => ExpressionValues.AreEqual(item, c.Arg(1))),
        Dictionary<string, object?> o => c.Arg(1) is string key ? o.ContainsKey(key) : throw c.Fail("argument 2 must be a string (a key) when argument 1 is an object"),
        _ => false,
    };

    private static object? Union(ExpressionCall c)
    {
        if (c.Arg(0) is List<object?>)
        {
            var result = new List<object?>();
            // A set, not a search of the result per item: two arrays of 100,000 items took 23 s.
            var seen = new HashSet<object?>(ExpressionValues.Comparer.Instance);
            for (var i = 0; i < c.Count; i++)
            {
                if (c.Arg(i) is not List<object?> array)
                {
                    throw c.Fail($"argument {i + 1} must be an array like argument 1");
                }
                foreach (var item in array)
                {
                    if (seen.Add(item))
                    {
                        result.Add(item);
                    }
                }
            }
            return result;
        }
        var merged = new Dictionary<string, object?>(StringComparer.Ordinal);
        for (var i = 0; i < c.Count; i++)
        {
            if (c.Arg(i) is not Dictionary<string, object?> obj)
            {
                throw c.Fail($"argument {i + 1} must be an object like argument 1");
            }
            foreach (var (key, value) in obj)
            {
                merged[key] = value;
            }
        }
        return merged;
    }

    private static object? Range(ExpressionCall c)
    {
        var start = c.Integer(0);
        var count = c.Integer(1);
        if (count < 0 || count > MaxRange)
        {
            throw c.Fail($"count {count} must be between 0 and {MaxRange}");
        }
        if (start > long.MaxValue - count)
        {
            throw c.Fail($"start {start} plus count {count} overflows");
        }
        var result = new List<object?>((int)count);
        for (var i = 0L; i < count; i++)
        {
            result.Add(start + i);
        }
        return result;
    }

    private static int Compare(ExpressionCall c)
    {
        var (a, b) = (c.Arg(0), c.Arg(1));
        return (a, b) switch
        {
            (string x, string y) => string.CompareOrdinal(x, y),
            (long x, long y) => x.CompareTo(y),
            (long or double, long or double) => Convert.ToDouble(a, CultureInfo.InvariantCulture).CompareTo(Convert.ToDouble(b, CultureInfo.InvariantCulture)),
            _ => throw c.Fail($"cannot compare {ExpressionFunction.Article(ExpressionValues.KindOf(a))} with {ExpressionFunction.Article(ExpressionValues.KindOf(b))}"),
        };
    }

    // ADF documents equals(true, 1) as true: a Boolean equals the number 1 (true) or 0 (false).
    private static object? EqualsFunction(ExpressionCall c)
    {
        var (left, right) = (c.Arg(0), c.Arg(1));
        return (left, right) switch
        {
            (bool flag, long or double) => Convert.ToDouble(right, CultureInfo.InvariantCulture) == (flag ? 1 : 0),
            (long or double, bool flag) => Convert.ToDouble(left, CultureInfo.InvariantCulture) == (flag ? 1 : 0),
            _ => ExpressionValues.AreEqual(left, right),
        };
    }

    private static object? Json(ExpressionCall c)
    {
        try
        {
            // A key given twice is refused here rather than when the object is first read, where it failed with a bare "An item
            // with the same key has already been added".
            return ExpressionValues.FromNode(JsonNode.Parse(c.String(0), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false }));
        }
        catch (JsonException e)
        {
            throw c.Fail(e.LineNumber is { } line
                ? $"argument 1 is not valid JSON (line {line + 1}, byte {e.BytePositionInLine + 1})"
                : $"argument 1 is not valid JSON: {e.Message}");
        }
    }

    private static object? Int(ExpressionCall c) => c.Arg(0) switch
    {
        long l => l,
        double d when d == Math.Truncate(d) && d >= long.MinValue && d <= long.MaxValue => (long)d,
        bool b => b ? 1L : 0L,
        string s when long.TryParse(s.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => l,
        var v => throw c.Fail($"{ExpressionValues.Show(v)} is not an integer"),
    };

    private static object? Float(ExpressionCall c) => c.Arg(0) switch
    {
        long l => (double)l,
        double d => d,
        string s when double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) => d,
        var v => throw c.Fail($"{ExpressionValues.Show(v)} is not a number"),
    };

    private static object? Bool(ExpressionCall c) => c.Arg(0) switch
    {
        bool b => b,
        long l => l != 0,
        double d => d != 0,
        string s when s.Equals("true", StringComparison.OrdinalIgnoreCase) => true,
        string s when s.Equals("false", StringComparison.OrdinalIgnoreCase) => false,
        var v => throw c.Fail($"{ExpressionValues.Show(v)} is not a boolean ('true' or 'false')"),
    };

    private static object? Arithmetic(ExpressionCall c, Func<long, long, long> integer, Func<double, double, double> real)
    {
        var (a, b) = (c.Arg(0), c.Arg(1));
        try
        {
            if (a is long x && b is long y)
            {
                return integer(x, y);
            }
            var result = real(Convert.ToDouble(a, CultureInfo.InvariantCulture), Convert.ToDouble(b, CultureInfo.InvariantCulture));
            return double.IsFinite(result) ? result : throw c.Fail("the result is not a finite number");
        }
        catch (OverflowException)
        {
            throw c.Fail("the result overflows a 64-bit integer");
        }
    }

    private static DateTime Timestamp(ExpressionCall c, int index)
    {
        var text = c.String(index);
        if (!DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind | DateTimeStyles.AllowWhiteSpaces, out var value))
        {
            throw c.Fail($"argument {index + 1} {ExpressionValues.Show(text)} is not a timestamp");
        }
        return value.Kind == DateTimeKind.Local
            ? DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AllowWhiteSpaces).UtcDateTime
            : value;
    }

    private static string Format(ExpressionCall c, DateTime value, int formatIndex)
    {
        var format = c.OptionalString(formatIndex) ?? "o";
        try
        {
            return value.ToString(format, UsEnglishDates);
        }
        catch (FormatException)
        {
            throw c.Fail($"'{format}' is not a valid date and time format");
        }
    }

    private static string Shift(ExpressionCall c, Func<DateTime, DateTime> shift)
    {
        var value = Timestamp(c, 0);
        try
        {
            return Format(c, shift(value), 2);
        }
        catch (ArgumentOutOfRangeException)
        {
            throw c.Fail("the result is outside the range of dates");
        }
    }

    private static object? Pipeline(ExpressionCall c)
    {
        var ctx = c.Context;
        var parameters = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (name, value) in ctx.Parameters)
        {
            parameters[name] = ExpressionValues.FromNode(value);
        }
        return new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["DataFactory"] = ctx.DataFactory,
            ["Pipeline"] = ctx.PipelineName,
            ["RunId"] = ctx.RunId,
            ["TriggerType"] = ctx.TriggerType,
            ["TriggerName"] = ctx.TriggerName,
            ["TriggerTime"] = ctx.TriggerTime.UtcDateTime.ToString("o", CultureInfo.InvariantCulture),
            ["parameters"] = parameters,
        };
    }
}
