using Lakehouse.Core;

namespace Lakehouse.Pipelines.Expressions;

/// <summary>
/// One function of the language: how many arguments it takes, what kinds each accepts (the last entry repeats for
/// variadic functions), what it returns, and its body. Arity and literal argument kinds are checked when the expression
/// is parsed; the kinds of computed arguments when it runs.
/// </summary>
internal sealed class ExpressionFunction(int minArgs, int maxArgs, ValueKinds[] parameters, ValueKinds returns, Func<ExpressionCall, object?> body, bool lazy = false)
{
    internal const int Variadic = int.MaxValue;

    public int MinArgs { get; } = minArgs;
    public int MaxArgs { get; } = maxArgs;
    public ValueKinds Returns { get; } = returns;
    public Func<ExpressionCall, object?> Body { get; } = body;

    /// <summary>Arguments are evaluated only when the body asks for them (if, and, or).</summary>
    public bool Lazy { get; } = lazy;

    public ValueKinds Accepts(int index) => parameters.Length == 0 ? ValueKinds.Any : parameters[Math.Min(index, parameters.Length - 1)];

    public void CheckStatically(string name, int position, ExpressionNode[] arguments)
    {
        if (arguments.Length < MinArgs || arguments.Length > MaxArgs)
        {
            var expected = MinArgs == MaxArgs ? $"{MinArgs}" : MaxArgs == Variadic ? $"at least {MinArgs}" : $"{MinArgs} to {MaxArgs}";
            throw ExpressionParser.Error(position,
                $"function '{name}' takes {expected} argument{(expected == "1" ? "" : "s")}, got {arguments.Length}");
        }
        for (var i = 0; i < arguments.Length; i++)
        {
            var accepts = Accepts(i);
            if ((arguments[i].StaticKinds & accepts) == 0)
            {
                throw ExpressionParser.Error(arguments[i].Position,
                    $"function '{name}' at position {position}: argument {i + 1} must be {Article(accepts)}, got {Article(arguments[i].StaticKinds)}");
            }
        }
    }

    internal static string Article(ValueKinds kinds)
    {
        var name = ExpressionValues.KindName(kinds);
        return kinds == ValueKinds.Null ? name : (name[0] is 'a' or 'i' or 'o' ? "an " : "a ") + name;
    }
}

/// <summary>One call while it runs: its arguments (evaluated once, on demand for lazy functions) and the context.</summary>
internal sealed class ExpressionCall
{
    private readonly CallNode _node;
    private readonly object?[] _values;
    private readonly bool[] _done;

    internal ExpressionCall(CallNode node, ExpressionContext context)
    {
        _node = node;
        Context = context;
        _values = new object?[node.Arguments.Length];
        _done = new bool[node.Arguments.Length];
        if (!node.Function.Lazy)
        {
            for (var i = 0; i < _values.Length; i++)
            {
                _ = Arg(i);
            }
        }
    }

    public ExpressionContext Context { get; }

    public int Count => _values.Length;

    public object? Arg(int index)
    {
        if (!_done[index])
        {
            var value = ExpressionEvaluator.Evaluate(_node.Arguments[index], Context);
            var accepts = _node.Function.Accepts(index);
            if ((ExpressionValues.KindOf(value) & accepts) == 0)
            {
                // A null is its own value: "got null", not "got null null".
                var got = value is null ? "null" : $"{ExpressionFunction.Article(ExpressionValues.KindOf(value))} {ExpressionValues.Show(value)}";
                throw Fail($"argument {index + 1} must be {ExpressionFunction.Article(accepts)}, got {got}");
            }
            _values[index] = value;
            _done[index] = true;
        }
        return _values[index];
    }

    public string String(int index) => (string)Arg(index)!;

    public long Integer(int index) => (long)Arg(index)!;

    public bool Boolean(int index) => (bool)Arg(index)!;

    public List<object?> Array(int index) => (List<object?>)Arg(index)!;

    public string? OptionalString(int index) => index < Count ? String(index) : null;

    public LakehouseException Fail(string message) =>
        ExpressionParser.Error(_node.Position, $"function '{_node.Name}': {message}");
}
