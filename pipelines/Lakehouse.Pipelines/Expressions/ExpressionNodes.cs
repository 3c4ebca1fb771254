namespace Lakehouse.Pipelines.Expressions;

/// <summary>The kinds a value can have; a set of them is what a function accepts or returns.</summary>
[Flags]
internal enum ValueKinds
{
    None = 0,
    Null = 1,
    String = 2,
    Integer = 4,
    Float = 8,
    Boolean = 16,
    Array = 32,
    Object = 64,
    Number = Integer | Float,
    Any = Null | String | Integer | Float | Boolean | Array | Object,
}

/// <summary>A node of a parsed expression; <see cref="Depth"/> bounds recursion when it is evaluated.</summary>
internal abstract class ExpressionNode(int position, int depth)
{
    public int Position { get; } = position;
    public int Depth { get; } = depth;
    public abstract ValueKinds StaticKinds { get; }
}

internal sealed class LiteralNode(int position, object? value) : ExpressionNode(position, 1)
{
    public object? Value { get; } = value;
    public override ValueKinds StaticKinds => ExpressionValues.KindOf(Value);
}

internal sealed class CallNode(int position, string name, ExpressionFunction function, ExpressionNode[] arguments, int depth)
    : ExpressionNode(position, depth)
{
    /// <summary>The name as written (functions are matched case-insensitively).</summary>
    public string Name { get; } = name;
    public ExpressionFunction Function { get; } = function;
    public ExpressionNode[] Arguments { get; } = arguments;
    public override ValueKinds StaticKinds => Function.Returns;
}

/// <summary><c>target.name</c>, <c>target[index]</c>, and their safe forms <c>?.</c> and <c>?[</c>.</summary>
internal sealed class AccessNode(int position, ExpressionNode target, string? name, ExpressionNode? index, bool safe, int depth)
    : ExpressionNode(position, depth)
{
    public ExpressionNode Target { get; } = target;
    public string? Name { get; } = name;
    public ExpressionNode? Index { get; } = index;
    public bool Safe { get; } = safe;
    public override ValueKinds StaticKinds => ValueKinds.Any;
}
