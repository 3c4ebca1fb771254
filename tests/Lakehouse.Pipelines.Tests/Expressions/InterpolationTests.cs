using Lakehouse.Pipelines.Expressions;
using static Lakehouse.Pipelines.Tests.Expressions.ExpressionTestContext;

namespace Lakehouse.Pipelines.Tests.Expressions;

/// <summary>
/// The '@', '@@' and '@{…}' rules, with the tables of the "Expressions" section of Microsoft's page
/// (control-flow-expression-language-functions), where myNumber is 42 and myString is foo.
/// </summary>
public sealed class InterpolationTests
{
    [Theory]
    // "parameters" returns the characters 'parameters'; "parameters[1]" returns 'parameters[1]'
    [InlineData("parameters", "parameters")]
    [InlineData("parameters[1]", "parameters[1]")]
    // "@@" returns a 1 character string that contains '@'; " @" returns a 2 character string that contains ' @'
    [InlineData("@@", "@")]
    [InlineData(" @", " @")]
    // "@{pipeline().parameters.myString}" returns foo as a string; "@{pipeline().parameters.myNumber}" returns 42 as a string
    [InlineData("@{pipeline().parameters.myString}", "foo")]
    [InlineData("@{pipeline().parameters.myNumber}", "42")]
    // "Answer is: @{pipeline().parameters.myNumber}" returns the string Answer is: 42
    [InlineData("Answer is: @{pipeline().parameters.myNumber}", "Answer is: 42")]
    // "@concat('Answer is: ', string(pipeline().parameters.myNumber))" returns the string Answer is: 42
    [InlineData("@concat('Answer is: ', string(pipeline().parameters.myNumber))", "Answer is: 42")]
    // "Answer is: @@{pipeline().parameters.myNumber}" returns the string Answer is: @{pipeline().parameters.myNumber}
    [InlineData("Answer is: @@{pipeline().parameters.myNumber}", "Answer is: @{pipeline().parameters.myNumber}")]
    // "First Name: @{pipeline().parameters.firstName} Last Name: @{pipeline().parameters.lastName}"
    [InlineData("First Name: @{pipeline().parameters.firstName} Last Name: @{pipeline().parameters.lastName}", "First Name: Sophia Last Name: Owen")]
    // A '}' inside a string literal does not close the interpolation; null interpolates as nothing; booleans as True/False.
    [InlineData("x@{concat('}', '{')}y", "x}{y")]
    [InlineData("[@{pipeline().parameters.nothing}]", "[]")]
    [InlineData("@{equals(1, 1)}", "True")]
    [InlineData("list=@{createArray(1, 'a')}", "list=[1,\"a\"]")]
    [InlineData("an@email.com", "an@email.com")]
    public void Evaluate_DocumentedStrings_ReturnDocumentedText(string value, string expected)
    {
        var result = AdfExpression.Parse(value).Evaluate(Create());
        Assert.Equal(expected, result!.GetValue<string>());
    }

    [Fact]
    public void Evaluate_WholeExpression_KeepsTheJsonType()
    {
        // "@pipeline().parameters.myNumber" returns 42 as a number; "@pipeline().parameters.myString" returns foo as a string.
        Assert.Equal("42", Eval("@pipeline().parameters.myNumber"));
        Assert.Equal("\"foo\"", Eval("@pipeline().parameters.myString"));
        Assert.Equal("\"foo\"", Eval("@ pipeline().parameters.myString "));
    }

    [Theory]
    [InlineData("@pipeline().parameters.x", true)]
    [InlineData("a @{pipeline().RunId}", true)]
    [InlineData("@@literal", false)]
    [InlineData("plain", false)]
    [InlineData("an@email.com", false)]
    public void IsExpression_Values_TellExpressionsFromLiterals(string value, bool expected)
    {
        Assert.Equal(expected, AdfExpression.IsExpression(value));
        Assert.Equal(!expected, AdfExpression.Parse(value).IsLiteral);
    }

    [Theory]
    [InlineData("@TOLOWER('A')", "\"a\"")]
    [InlineData("@utcnow('yyyy')", "\"2018\"")]
    [InlineData("@Concat('a', 1, 2.5, true, null)", "\"a12.5True\"")]
    public void Parse_FunctionNames_AreCaseInsensitive(string value, string expected) => Assert.Equal(expected, Eval(value));

    [Theory]
    [InlineData("@activity('Web1').output?.nope?.x", "null")]
    [InlineData("@pipeline()?.parameters?.missing", "null")]
    [InlineData("@pipeline().parameters.nothing?.x", "null")]
    [InlineData("@createArray(1, 2)?[5]", "null")]
    [InlineData("@createArray(1, 2)[1]", "2")]
    [InlineData("@json('{\"a\": {\"b-c\": 7}}')['a']['b-c']", "7")]
    [InlineData("@pipeline().PARAMETERS.MYNUMBER", "42")]
    public void Evaluate_PropertyAndIndexAccess_FollowsPaths(string value, string expected) => Assert.Equal(expected, Eval(value));

    [Fact]
    public void Evaluate_ParametersOfAnyNumberType_ReadAsNumbers()
    {
        var context = new ExpressionContext
        {
            Parameters = new Dictionary<string, System.Text.Json.Nodes.JsonNode?>
            {
                ["d"] = 1.25m,
                ["f"] = 0.5f,
                ["l"] = 5_000_000_000L,
                ["parsed"] = System.Text.Json.Nodes.JsonNode.Parse("2.0"),
            },
        };
        Assert.Equal("1.75", Eval("@add(pipeline().parameters.d, pipeline().parameters.f)", context));
        Assert.Equal("5000000001", Eval("@add(pipeline().parameters.l, 1)", context));
        Assert.Equal("2.5", Eval("@add(pipeline().parameters.parsed, 0.5)", context));
    }

    [Fact]
    public void Evaluate_IfBranchNotTaken_IsNotEvaluated()
    {
        // The untaken branch would divide by zero; if() evaluates only the branch it returns.
        Assert.Equal("1", Eval("@if(true, 1, div(1, 0))"));
        Assert.Equal("false", Eval("@and(false, equals(div(1, 0), 1))"));
    }
}
