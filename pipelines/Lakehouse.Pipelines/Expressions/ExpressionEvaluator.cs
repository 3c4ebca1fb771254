namespace Lakehouse.Pipelines.Expressions;

/// <summary>Evaluates a parsed node; recursion is bounded by the parser's depth limit.</summary>
internal static class ExpressionEvaluator
{
    internal static object? Evaluate(ExpressionNode node, ExpressionContext context) => node switch
    {
        LiteralNode literal => literal.Value,
        CallNode call => call.Function.Body(new ExpressionCall(call, context)),
        AccessNode access => Access(access, context),
        _ => throw new InvalidOperationException($"unknown node {node.GetType()}"),
    };

    private static object? Access(AccessNode node, ExpressionContext context)
    {
        var target = Evaluate(node.Target, context);
        var key = node.Name is { } name ? name : Evaluate(node.Index!, context);
        var shown = node.Name is not null ? $"property '{node.Name}'" : $"[{ExpressionValues.Show(key)}]";
        switch (target, key)
        {
            case (null, _):
                return node.Safe ? null : throw ExpressionParser.Error(node.Position, $"cannot read {shown} of null (use '?.' or '?[' to allow null)");
            case (Dictionary<string, object?> obj, string property):
                if (obj.TryGetValue(property, out var value))
                {
                    return value;
                }
                foreach (var (candidate, item) in obj)
                {
                    if (candidate.Equals(property, StringComparison.OrdinalIgnoreCase))
                    {
                        return item;
                    }
                }
                if (node.Safe)
                {
                    return null;
                }
                var available = string.Join(", ", obj.Keys.Take(20).Select(k => $"'{k}'"));
                throw ExpressionParser.Error(node.Position,
                    $"property '{property}' does not exist; available properties: {(available.Length == 0 ? "none" : available)}");
            case (List<object?> array, long index):
                if (index >= 0 && index < array.Count)
                {
                    return array[(int)index];
                }
                return node.Safe ? null : throw ExpressionParser.Error(node.Position, $"index {index} is outside the array of length {array.Count}");
            default:
                throw ExpressionParser.Error(node.Position,
                    $"cannot read {shown} of {ExpressionFunction.Article(ExpressionValues.KindOf(target))}");
        }
    }
}
