using System.Text.Json.Nodes;
using Lakehouse.Core;
using Lakehouse.Pipelines.Expressions;
using static Lakehouse.Pipelines.Tests.Expressions.ExpressionTestContext;

namespace Lakehouse.Pipelines.Tests.Expressions;

/// <summary>Errors name the function and the position; hostile input gets an error, never a hang or a stack overflow.</summary>
public sealed class ExpressionErrorTests
{
    private static string ParseError(string value) =>
        Assert.Throws<LakehouseException>(() => AdfExpression.Parse(value)).Message;

    private static string EvalError(string value) =>
        Assert.Throws<LakehouseException>(() => AdfExpression.Parse(value).Evaluate(Create())).Message;

    [Theory]
    [InlineData("@fooBar(1)", "ADF expression error at position 1: unknown function 'fooBar'.")]
    [InlineData("@concat('a', noSuch())", "ADF expression error at position 13: unknown function 'noSuch'.")]
    [InlineData("@addDays('2018-03-15T00:00:00Z')", "ADF expression error at position 1: function 'addDays' takes 2 to 3 arguments, got 1.")]
    [InlineData("@not(true, false)", "ADF expression error at position 1: function 'not' takes 1 argument, got 2.")]
    [InlineData("@and(true)", "ADF expression error at position 1: function 'and' takes at least 2 arguments, got 1.")]
    [InlineData("@addDays('2018-03-15', 'ten')", "ADF expression error at position 23: function 'addDays' at position 1: argument 2 must be an integer, got a string.")]
    [InlineData("@toLower(createArray(1))", "ADF expression error at position 9: function 'toLower' at position 1: argument 1 must be a string, got an array.")]
    [InlineData("@if('yes', 1, 2)", "ADF expression error at position 4: function 'if' at position 1: argument 1 must be a boolean, got a string.")]
    [InlineData("@pipeline", "ADF expression error at position 1: 'pipeline' is not a value; a function call needs parentheses, e.g. 'pipeline()'.")]
    [InlineData("@", "ADF expression error at position 1: the expression after '@' is empty.")]
    [InlineData("@concat('a') extra", "ADF expression error at position 13: unexpected 'e' after the end of the expression.")]
    [InlineData("@concat('abc", "ADF expression error at position 8: the string literal is not closed with a quote (write '' for a quote inside a string).")]
    [InlineData("@concat('a'", "ADF expression error at position 11: function 'concat' at position 1: the argument list is not closed with ')'.")]
    [InlineData("a @{concat('x')", "ADF expression error at position 2: the interpolation '@{' is not closed with '}'.")]
    [InlineData("a @{} b", "ADF expression error at position 2: the interpolation '@{…}' is empty.")]
    [InlineData("a @{", "ADF expression error at position 2: the interpolation '@{' is not closed with '}'.")]
    [InlineData("a @{  ", "ADF expression error at position 2: the interpolation '@{' is not closed with '}'.")]
    [InlineData("@createArray(1, 2)[0", "ADF expression error at position 20: expected ']' to close the '[' at position 18.")]
    [InlineData("@concat('a';'b')", "ADF expression error at position 11: function 'concat' at position 1: unexpected ';' in the argument list; expected ',' or ')'.")]
    public void Parse_BadExpression_FailsNamingFunctionAndPosition(string value, string expected) =>
        Assert.Equal(expected, ParseError(value));

    [Theory]
    [InlineData("@toLower(pipeline().parameters.myNumber)", "ADF expression error at position 1: function 'toLower': argument 1 must be a string, got an integer 42.")]
    [InlineData("@toLower(pipeline().parameters.nothing)", "ADF expression error at position 1: function 'toLower': argument 1 must be a string, got null.")]
    [InlineData("@pipeline().parameters.missing", "ADF expression error at position 22: property 'missing' does not exist; available properties: 'myNumber', 'myString', 'firstName', 'lastName', 'subfield3', 'nothing'.")]
    [InlineData("@pipeline().parameters.nothing.x", "ADF expression error at position 30: cannot read property 'x' of null (use '?.' or '?[' to allow null).")]
    [InlineData("@activity('Nope').output", "ADF expression error at position 1: function 'activity': activity 'Nope' has no result in this run (it does not exist or has not run yet).")]
    [InlineData("@variables('nope')", "ADF expression error at position 1: function 'variables': variable 'nope' is not declared in the pipeline.")]
    [InlineData("@item()", "ADF expression error at position 1: function 'item': item() is only available inside a ForEach activity.")]
    [InlineData("@div(1, 0)", "ADF expression error at position 1: function 'div': division by zero.")]
    [InlineData("@add(9223372036854775807, 1)", "ADF expression error at position 1: function 'add': the result overflows a 64-bit integer.")]
    [InlineData("@int('ten')", "ADF expression error at position 1: function 'int': 'ten' is not an integer.")]
    [InlineData("@addDays('not a date', 1)", "ADF expression error at position 1: function 'addDays': argument 1 'not a date' is not a timestamp.")]
    [InlineData("@json('{bad')", "ADF expression error at position 1: function 'json': argument 1 is not valid JSON (line 1, byte 2).")]
    // A key given twice failed with a bare ArgumentException ("An item with the same key has already been added") when the object was read.
    [InlineData("@json('{\"a\": 1, \"a\": 2}').a", "ADF expression error at position 1: function 'json': argument 1 is not valid JSON: Duplicate property 'a' encountered during deserialization.")]
    [InlineData("@substring('abc', 2, 5)", "ADF expression error at position 1: function 'substring': start 2 and length 5 are outside the text of length 3.")]
    [InlineData("@createArray(1)[3]", "ADF expression error at position 15: index 3 is outside the array of length 1.")]
    [InlineData("@greater(1, 'a')", "ADF expression error at position 1: function 'greater': cannot compare an integer with a string.")]
    [InlineData("@range(0, 1000000)", "ADF expression error at position 1: function 'range': count 1000000 must be between 0 and 100000.")]
    public void Evaluate_BadValues_FailsNamingFunctionAndPosition(string value, string expected) =>
        Assert.Equal(expected, EvalError(value));

    [Theory]
    [InlineData(100_000)]
    [InlineData(300)]
    public void Parse_DeepNesting_FailsWithDepthError(int depth)
    {
        var nested = "@" + string.Concat(Enumerable.Repeat("not(", depth)) + "true" + new string(')', depth);
        Assert.StartsWith("ADF expression error at position ", ParseError(nested));
        Assert.EndsWith("the expression nests deeper than 256 levels.", ParseError(nested));

        var chain = "@pipeline()" + string.Concat(Enumerable.Repeat(".a", depth));
        Assert.EndsWith("the expression nests deeper than 256 levels.", ParseError(chain));

        var brackets = "@createArray(1)" + string.Concat(Enumerable.Repeat("[createArray(0)", depth)) + "[0" + new string(']', depth + 1);
        Assert.EndsWith("the expression nests deeper than 256 levels.", ParseError(brackets));
    }

    [Fact]
    public void Evaluate_NestingJustUnderTheLimit_Works()
    {
        var nested = "@" + string.Concat(Enumerable.Repeat("not(", 200)) + "true" + new string(')', 200);
        Assert.Equal("true", Eval(nested));
    }

    [Fact]
    public void Evaluate_HugeStrings_AreHandledInLinearTime()
    {
        var big = new string('x', 2_000_000);
        Assert.Equal("2000001", Eval($"@length(concat('{big}', 'y'))"));
        Assert.Equal("1000000", Eval($"@length(replace('{big.Replace("x", "''", StringComparison.Ordinal)[..1_000_000]}', '''', 'ab'))"));
        var interpolated = string.Concat(Enumerable.Repeat("a@{'b'}", 100_000));
        Assert.Equal(200_000, AdfExpression.Parse(interpolated).EvaluateToString(Create()).Length);
    }

    [Fact]
    public void Check_BadValue_ReturnsProblemsInsteadOfThrowing()
    {
        Assert.Empty(AdfExpression.Check("@concat('a', 'b')"));
        var problem = Assert.Single(AdfExpression.Check("@concat('a', fooBar())"));
        Assert.Equal(13, problem.Position);
        Assert.Equal("ADF expression error at position 13: unknown function 'fooBar'.", problem.Message);
    }

    [Fact]
    public void CheckDocument_Pipeline_ReportsEachBadStringWithItsJsonPath()
    {
        var pipeline = JsonNode.Parse("""
        {
          "name": "medallion",
          "properties": {
            "activities": [
              { "name": "bronze", "type": "Custom", "typeProperties": { "command": "lakehouse bronze ingest --date @{formatDateTime(pipeline().parameters.date, 'yyyy-MM-dd')}" } },
              { "name": "notify", "type": "WebActivity", "typeProperties": { "url": "@concat('http://x/', noSuchFunction())", "body": { "run id": "@pipeline(1)" } } }
            ],
            "parameters": { "date": { "type": "string", "defaultValue": "@@not-an-expression" } }
          }
        }
        """);
        var problems = AdfExpression.CheckDocument(pipeline);
        Assert.Equal(2, problems.Count);
        Assert.Equal("$.properties.activities[1].typeProperties.url: ADF expression error at position 21: unknown function 'noSuchFunction'.", problems[0].ToString());
        Assert.Equal("$.properties.activities[1].typeProperties.body['run id']: ADF expression error at position 1: function 'pipeline' takes 0 arguments, got 1.", problems[1].ToString());
    }

    [Fact]
    public void CheckDocument_UndeclaredReferences_AreReportedBeforeTheRun()
    {
        var pipeline = JsonNode.Parse("""
        {
          "name": "backfill",
          "properties": {
            "parameters": { "fromDate": { "type": "string" } },
            "variables": { "done": { "type": "Array" } },
            "activities": [
              { "name": "days", "type": "ForEach", "typeProperties": {
                  "items": "@range(0, pipeline().parameters.dayCount)",
                  "activities": [ { "name": "silver", "type": "Custom", "typeProperties": { "command": "@{pipeline().parameters.fromDate} @{activity('bronze').output}" } } ] } },
              { "name": "note", "type": "AppendVariable", "dependsOn": [ { "activity": "days", "dependencyConditions": [ "Completed" ] } ], "typeProperties": { "variableName": "done",
                  "value": "@concat(string(variables('done')), string(variables('missing')), string(activity('Days')), string(variables('Done')))" } }
            ]
          }
        }
        """);
        var problems = AdfExpression.CheckDocument(pipeline).Select(p => p.ToString()).ToArray();
        Assert.Equal(
        [
            "$.properties.activities[0].typeProperties.items: ADF expression error at position 31: the pipeline has no parameter 'dayCount'.",
            "$.properties.activities[0].typeProperties.activities[0].typeProperties.command: ADF expression error at position 36: function 'activity': the pipeline has no activity 'bronze'.",
            "$.properties.activities[1].typeProperties.value: ADF expression error at position 42: function 'variables': variable 'missing' is not declared in the pipeline.",
            // Passed in another casing, then failed the run: the runner reads variables by their exact name.
            "$.properties.activities[1].typeProperties.value: ADF expression error at position 98: function 'variables': variable 'Done' is not declared in the pipeline (it declares 'done': variable names are case-sensitive).",
        ], problems);
    }

    /// <summary>
    /// ADF reads an activity's output only in what depends on it; the runner gave it to any activity that happened to start after it
    /// ended, so a pipeline that forgot a dependsOn passed or failed by timing. Each reference of an activity that is not an ancestor
    /// is reported; the ancestors (through dependsOn chains and containers, in any casing) and an Until's own activities in its
    /// expression are not.
    /// </summary>
    [Fact]
    public void CheckDocument_ActivityOutputOfANonAncestor_IsReportedNamingBothActivities()
    {
        var pipeline = JsonNode.Parse("""
        {
          "name": "outputs",
          "properties": {
            "activities": [
              { "name": "First", "type": "Wait", "typeProperties": { "waitTimeInSeconds": 1 } },
              { "name": "Second", "type": "Wait", "dependsOn": [ { "activity": "First", "dependencyConditions": [ "Succeeded" ] } ],
                "typeProperties": { "waitTimeInSeconds": "@activity('first').output.waitTimeInSeconds" } },
              { "name": "Third", "type": "Wait", "dependsOn": [ { "activity": "Second", "dependencyConditions": [ "Completed" ] } ],
                "typeProperties": { "waitTimeInSeconds": "@activity('First').output.waitTimeInSeconds" } },
              { "name": "Parallel", "type": "Wait", "typeProperties": { "waitTimeInSeconds": "@activity('First').output.waitTimeInSeconds" } },
              { "name": "Loop", "type": "ForEach", "dependsOn": [ { "activity": "Third", "dependencyConditions": [ "Succeeded" ] } ],
                "typeProperties": { "items": "@createArray(activity('Third').output)", "activities": [
                  { "name": "Inner", "type": "Wait", "typeProperties": { "waitTimeInSeconds": "@add(activity('First').output.waitTimeInSeconds, activity('Parallel').output.waitTimeInSeconds)" } } ] } },
              { "name": "Again", "type": "Until", "typeProperties": {
                  "expression": { "value": "@equals(activity('Probe').output.waitTimeInSeconds, 1)", "type": "Expression" },
                  "activities": [ { "name": "Probe", "type": "Wait", "typeProperties": { "waitTimeInSeconds": "@activity('Again').output.iterations" } } ] } },
              { "name": "After", "type": "Wait", "dependsOn": [ { "activity": "Loop", "dependencyConditions": [ "Succeeded" ] } ],
                "typeProperties": { "waitTimeInSeconds": "@activity('Inner').output.waitTimeInSeconds" } }
            ]
          }
        }
        """);

        var problems = AdfExpression.CheckDocument(pipeline).Select(p => p.ToString()).ToArray();

        const string Why = "so its output is not there when '{1}' runs (an activity reads the output of what it depends on, directly or through others, "
            + "or what the ForEach, IfCondition, Until or Switch holding it depends on).";
        string Problem(string path, int position, string activity, string reader) =>
            $"{path}: ADF expression error at position {position}: function 'activity': activity '{activity}' is not an ancestor of activity '{reader}', "
            + Why.Replace("{1}", reader, StringComparison.Ordinal);
        Assert.Equal(
        [
            Problem("$.properties.activities[3].typeProperties.waitTimeInSeconds", 1, "First", "Parallel"),
            Problem("$.properties.activities[4].typeProperties.activities[0].typeProperties.waitTimeInSeconds", 49, "Parallel", "Inner"),
            Problem("$.properties.activities[5].typeProperties.activities[0].typeProperties.waitTimeInSeconds", 1, "Again", "Probe"),
            Problem("$.properties.activities[6].typeProperties.waitTimeInSeconds", 1, "Inner", "After"),
        ], problems);
    }

    [Fact]
    public void SupportedFunctions_List_HoldsEveryFunctionOfTheBrief()
    {
        string[] required =
        [
            "concat", "formatDateTime", "utcNow", "addDays", "addHours", "addMinutes", "addSeconds", "startOfDay", "equals", "if",
            "and", "or", "not", "greater", "greaterOrEquals", "less", "lessOrEquals", "length", "empty", "contains", "createArray",
            "json", "string", "int", "float", "bool", "coalesce", "toLower", "toUpper", "substring", "replace", "split", "join",
            "trim", "startsWith", "endsWith", "add", "sub", "mul", "div", "mod", "first", "last", "union", "range", "guid",
            "pipeline", "activity", "item", "variables", "triggerBody",
        ];
        Assert.Equal(required.Order(StringComparer.Ordinal), AdfExpression.SupportedFunctions);
    }
}
