namespace Lakehouse.Pipelines.Expressions;

/// <summary>One problem found in an ADF expression before it runs.</summary>
/// <param name="Path">Where the string sits in the JSON document (e.g. <c>$.properties.activities[0].typeProperties.url</c>); empty for a lone string.</param>
/// <param name="Position">The 0-based character offset of the problem in the string value.</param>
/// <param name="Message">What is wrong, naming the function when there is one.</param>
public sealed record AdfExpressionProblem(string Path, int Position, string Message)
{
    /// <inheritdoc />
    public override string ToString() => Path.Length == 0 ? Message : $"{Path}: {Message}";
}
