using Lakehouse.Pipelines.Expressions;
using static Lakehouse.Pipelines.Tests.Expressions.ExpressionTestContext;

namespace Lakehouse.Pipelines.Tests.Expressions;

/// <summary>
/// Each supported function against the examples of Microsoft's reference, "Expressions and functions in Azure Data Factory
/// and Azure Synapse Analytics", https://learn.microsoft.com/azure/data-factory/control-flow-expression-language-functions
/// (checked against the page's source, MicrosoftDocs/azure-docs articles/data-factory/control-flow-expression-language-functions.md),
/// section "Function reference": each comment names the function's entry and gives the page's example and result;
/// the expected values are those results, written as JSON. Where the page's own example is inconsistent (a result that does
/// not follow from its input, or a malformed timestamp), the comment says so and the test asserts the consistent value.
/// Examples marked "not on the page" are this project's own.
/// </summary>
public sealed class FunctionExampleTests
{
    [Theory]
    // add: add(1, 1.5) returns 2.5
    [InlineData("@add(1, 1.5)", "2.5")]
    // sub: sub(10.3, .3) returns 10
    [InlineData("@sub(10.3, .3)", "10")]
    // mul: mul(1, 2) returns 2; mul(1.5, 2) returns 3
    [InlineData("@mul(1, 2)", "2")]
    [InlineData("@mul(1.5, 2)", "3")]
    // div: div(10, 5) returns 2; div(11, 5) returns 2 (integers give an integer result)
    [InlineData("@div(10, 5)", "2")]
    [InlineData("@div(11, 5)", "2")]
    // not on the page (Logic Apps' page for the same engine has them): a float argument gives a float result, div(11, 5.0) and div(11.0, 5) return 2.2
    [InlineData("@div(11, 5.0)", "2.2")]
    [InlineData("@div(11.0, 5)", "2.2")]
    // mod: mod(3, 2) returns 1
    [InlineData("@mod(3, 2)", "1")]
    // range: range(1, 4) returns [1, 2, 3, 4]
    [InlineData("@range(1, 4)", "[1,2,3,4]")]
    public void Math_DocumentedExamples_ReturnDocumentedResults(string expression, string expected) =>
        Assert.Equal(expected, Eval(expression));

    [Theory]
    // concat: concat('Hello', 'World') returns "HelloWorld"
    [InlineData("@concat('Hello', 'World')", "\"HelloWorld\"")]
    // "Escaping single quote character": @concat('Baba', '''s ', 'book store') returns "Baba's book store"
    [InlineData("@concat('Baba', '''s ', 'book store')", "\"Baba\\u0027s book store\"")]
    // toLower: toLower('Hello World') returns "hello world"
    [InlineData("@toLower('Hello World')", "\"hello world\"")]
    // toUpper: toUpper('Hello World') returns "HELLO WORLD"
    [InlineData("@toUpper('Hello World')", "\"HELLO WORLD\"")]
    // trim: trim(' Hello World  ') returns "Hello World"
    [InlineData("@trim(' Hello World  ')", "\"Hello World\"")]
    // substring: substring('hello world', 6, 5) returns "world"
    [InlineData("@substring('hello world', 6, 5)", "\"world\"")]
    // replace: replace('the old string', 'old', 'new') returns "the new string"
    [InlineData("@replace('the old string', 'old', 'new')", "\"the new string\"")]
    // split: split('a_b_c', '_') returns ["a", "b", "c"]
    [InlineData("@split('a_b_c', '_')", "[\"a\",\"b\",\"c\"]")]
    // join: join(createArray('a', 'b', 'c'), '.') returns "a.b.c"
    [InlineData("@join(createArray('a', 'b', 'c'), '.')", "\"a.b.c\"")]
    // startsWith: startsWith('hello world', 'hello') returns true; startsWith('hello world', 'greetings') returns false
    [InlineData("@startsWith('hello world', 'hello')", "true")]
    [InlineData("@startsWith('hello world', 'greetings')", "false")]
    // endsWith: endsWith('hello world', 'world') returns true; endsWith('hello world', 'universe') returns false
    [InlineData("@endsWith('hello world', 'world')", "true")]
    [InlineData("@endsWith('hello world', 'universe')", "false")]
    // guid: the page's GUID "c2ecc88d-88c8-4096-912c-d6f2e2b138ce" (default format "D", from the fixed generator);
    // guid('P') returns "(c2ecc88d-88c8-4096-912c-d6f2e2b138ce)"
    [InlineData("@guid()", "\"c2ecc88d-88c8-4096-912c-d6f2e2b138ce\"")]
    [InlineData("@guid('P')", "\"(c2ecc88d-88c8-4096-912c-d6f2e2b138ce)\"")]
    public void Strings_DocumentedExamples_ReturnDocumentedResults(string expression, string expected) =>
        Assert.Equal(expected, Eval(expression));

    [Theory]
    // length: length('abcd') returns 4; length(createArray(0, 1, 2, 3)) returns 4
    [InlineData("@length('abcd')", "4")]
    [InlineData("@length(createArray(0, 1, 2, 3))", "4")]
    // empty: empty('') returns true; empty('abc') returns false
    [InlineData("@empty('')", "true")]
    [InlineData("@empty('abc')", "false")]
    // contains: contains('hello world', 'world') returns true; contains('hello world', 'universe') returns false
    [InlineData("@contains('hello world', 'world')", "true")]
    [InlineData("@contains('hello world', 'universe')", "false")]
    // createArray: createArray('h', 'e', 'l', 'l', 'o') returns ["h", "e", "l", "l", "o"]
    [InlineData("@createArray('h', 'e', 'l', 'l', 'o')", "[\"h\",\"e\",\"l\",\"l\",\"o\"]")]
    // first: first('hello') returns "h"; first(createArray(0, 1, 2)) returns 0
    [InlineData("@first('hello')", "\"h\"")]
    [InlineData("@first(createArray(0, 1, 2))", "0")]
    // last: last('abcd') returns "d"; last(createArray(0, 1, 2, 3)) returns 3
    [InlineData("@last('abcd')", "\"d\"")]
    [InlineData("@last(createArray(0, 1, 2, 3))", "3")]
    // union: union(createArray(1, 2, 3), createArray(1, 2, 10, 101)) returns [1, 2, 3, 10, 101]
    [InlineData("@union(createArray(1, 2, 3), createArray(1, 2, 10, 101))", "[1,2,3,10,101]")]
    // not on the page: the first of equal items is kept, equal as equals() has them (strings in any case, 1 and 1.0, objects in any key order)
    [InlineData("@union(createArray('A', 1, json('{\"a\":1,\"b\":[1,2]}'), null), createArray('a', 1.0, json('{\"b\":[1,2],\"a\":1}'), json('{\"b\":[2,1],\"a\":1}'), null, 2))",
        "[\"A\",1,{\"a\":1,\"b\":[1,2]},null,{\"b\":[2,1],\"a\":1},2]")]
    // coalesce: coalesce(null, true, false) returns true; coalesce(null, 'hello', 'world') returns "hello"; coalesce(null, null, null) returns null
    [InlineData("@coalesce(null, true, false)", "true")]
    [InlineData("@coalesce(null, 'hello', 'world')", "\"hello\"")]
    [InlineData("@coalesce(null, null, null)", "null")]
    public void Collections_DocumentedExamples_ReturnDocumentedResults(string expression, string expected) =>
        Assert.Equal(expected, Eval(expression));

    [Theory]
    // equals: equals(true, 1) returns true; equals('abc', 'abcd') returns false
    [InlineData("@equals(true, 1)", "true")]
    // not on the page: the same with the Boolean converted first, and a number other than 0 or 1.
    [InlineData("@equals(bool(1), true)", "true")]
    [InlineData("@equals(true, 2)", "false")]
    [InlineData("@equals('abc', 'abcd')", "false")]
    // if: if(equals(1, 1), 'yes', 'no') returns "yes"
    [InlineData("@if(equals(1, 1), 'yes', 'no')", "\"yes\"")]
    // doc section "Dynamic content editor": @{if(equals(1, 2), 'Blob', 'Table' )} gives Table; @{toUpper('myData')} gives MYDATA
    [InlineData("@{if(equals(1, 2), 'Blob', 'Table' )}", "\"Table\"")]
    [InlineData("@{toUpper('myData')}", "\"MYDATA\"")]
    // and: and(true, true) true; and(false, true) false; and(false, false) false;
    // and(equals(1, 1), equals(2, 2)) true; and(equals(1, 1), equals(1, 2)) false; and(equals(1, 2), equals(1, 3)) false
    [InlineData("@and(true, true)", "true")]
    [InlineData("@and(false, true)", "false")]
    [InlineData("@and(false, false)", "false")]
    [InlineData("@and(equals(1, 1), equals(2, 2))", "true")]
    [InlineData("@and(equals(1, 1), equals(1, 2))", "false")]
    [InlineData("@and(equals(1, 2), equals(1, 3))", "false")]
    // or: or(true, false) true; or(false, false) false; or(equals(1, 1), equals(1, 2)) true; or(equals(1, 2), equals(1, 3)) false
    [InlineData("@or(true, false)", "true")]
    [InlineData("@or(false, false)", "false")]
    [InlineData("@or(equals(1, 1), equals(1, 2))", "true")]
    [InlineData("@or(equals(1, 2), equals(1, 3))", "false")]
    // not: not(false) true; not(true) false; not(equals(1, 2)) true; not(equals(1, 1)) false
    [InlineData("@not(false)", "true")]
    [InlineData("@not(true)", "false")]
    [InlineData("@not(equals(1, 2))", "true")]
    [InlineData("@not(equals(1, 1))", "false")]
    // greater: greater(10, 5) true; greater('apple', 'banana') false
    [InlineData("@greater(10, 5)", "true")]
    [InlineData("@greater('apple', 'banana')", "false")]
    // greaterOrEquals: greaterOrEquals(5, 5) true; greaterOrEquals('apple', 'banana') false
    [InlineData("@greaterOrEquals(5, 5)", "true")]
    [InlineData("@greaterOrEquals('apple', 'banana')", "false")]
    // less: less(5, 10) true; less('banana', 'apple') false
    [InlineData("@less(5, 10)", "true")]
    [InlineData("@less('banana', 'apple')", "false")]
    // lessOrEquals: lessOrEquals(10, 10) true; lessOrEquals('apply', 'apple') false
    [InlineData("@lessOrEquals(10, 10)", "true")]
    [InlineData("@lessOrEquals('apply', 'apple')", "false")]
    public void Logic_DocumentedExamples_ReturnDocumentedResults(string expression, string expected) =>
        Assert.Equal(expected, Eval(expression));

    [Theory]
    // json: json('[1, 2, 3]') returns [1, 2, 3]; json('{"fullName": "Sophia Owen"}') returns { "fullName": "Sophia Owen" }
    // (the page's third example converts xml(...), a function this evaluator does not support)
    [InlineData("@json('[1, 2, 3]')", "[1,2,3]")]
    [InlineData("@json('{\"fullName\": \"Sophia Owen\"}')", "{\"fullName\":\"Sophia Owen\"}")]
    // string: string(10) returns "10". The page's second example, string( { "name": "Sophie Owen" } ), passes an object
    // literal, which the expression language has no syntax for; the test passes the same JSON as a string instead.
    [InlineData("@string(10)", "\"10\"")]
    [InlineData("@string('{ \"name\": \"Sophie Owen\" }')", "\"{ \\u0022name\\u0022: \\u0022Sophie Owen\\u0022 }\"")]
    // int: int('10') returns 10
    [InlineData("@int('10')", "10")]
    // float: float('10.333') returns 10.333
    [InlineData("@float('10.333')", "10.333")]
    // bool: bool(1) returns true; bool(0) returns false
    [InlineData("@bool(1)", "true")]
    [InlineData("@bool(0)", "false")]
    public void Conversion_DocumentedExamples_ReturnDocumentedResults(string expression, string expected) =>
        Assert.Equal(expected, Eval(expression));

    [Theory]
    // addDays: addDays('2018-03-15T13:00:00Z', 10) is shown returning "2018-03-25T00:00:0000000Z", which is inconsistent twice
    // (the 13:00 is lost and the seconds are malformed): the consistent "o" result is "2018-03-25T13:00:00.0000000Z".
    [InlineData("@addDays('2018-03-15T13:00:00Z', 10)", "2018-03-25T13:00:00.0000000Z")]
    // addDays('2018-03-15T00:00:00Z', -5) is shown as "2018-03-10T00:00:0000000Z" (malformed seconds; "o" gives the one below)
    [InlineData("@addDays('2018-03-15T00:00:00Z', -5)", "2018-03-10T00:00:00.0000000Z")]
    // addHours: addHours('2018-03-15T00:00:00Z', 10) and addHours('2018-03-15T15:00:00Z', -5) are both shown as
    // "2018-03-15T10:00:0000000Z" (malformed seconds; "o" gives the value below)
    [InlineData("@addHours('2018-03-15T00:00:00Z', 10)", "2018-03-15T10:00:00.0000000Z")]
    [InlineData("@addHours('2018-03-15T15:00:00Z', -5)", "2018-03-15T10:00:00.0000000Z")]
    // addMinutes: addMinutes('2018-03-15T00:10:00Z', 10) returns "2018-03-15T00:20:00.0000000Z";
    // addMinutes('2018-03-15T00:20:00Z', -5) returns "2018-03-15T00:15:00.0000000Z"
    [InlineData("@addMinutes('2018-03-15T00:10:00Z', 10)", "2018-03-15T00:20:00.0000000Z")]
    [InlineData("@addMinutes('2018-03-15T00:20:00Z', -5)", "2018-03-15T00:15:00.0000000Z")]
    // addSeconds: addSeconds('2018-03-15T00:00:00Z', 10) returns "2018-03-15T00:00:10.0000000Z";
    // addSeconds('2018-03-15T00:00:30Z', -5) returns "2018-03-15T00:00:25.0000000Z"
    [InlineData("@addSeconds('2018-03-15T00:00:00Z', 10)", "2018-03-15T00:00:10.0000000Z")]
    [InlineData("@addSeconds('2018-03-15T00:00:30Z', -5)", "2018-03-15T00:00:25.0000000Z")]
    // not on the page: crossing midnight backwards.
    [InlineData("@addSeconds('2018-03-15T00:00:00Z', -5)", "2018-03-14T23:59:55.0000000Z")]
    // startOfDay: startOfDay('2018-03-15T13:30:30Z') returns "2018-03-15T00:00:00.0000000Z"
    [InlineData("@startOfDay('2018-03-15T13:30:30Z')", "2018-03-15T00:00:00.0000000Z")]
    // formatDateTime: formatDateTime('03/15/2018 12:00:00', 'yyyy-MM-ddTHH:mm:ss') returns "2018-03-15T12:00:00"
    [InlineData("@formatDateTime('03/15/2018 12:00:00', 'yyyy-MM-ddTHH:mm:ss')", "2018-03-15T12:00:00")]
    // not on the page: the default format "o" for a timestamp without a zone.
    [InlineData("@formatDateTime('03/15/2018')", "2018-03-15T00:00:00.0000000")]
    // utcNow: utcNow() returns "2018-04-15T13:00:00.0000000Z" (the page's instant, from the fixed clock)
    [InlineData("@utcNow()", "2018-04-15T13:00:00.0000000Z")]
    // utcNow('D') returns "Sunday, April 15, 2018" (ADF's en-US date patterns)
    [InlineData("@utcNow('D')", "Sunday, April 15, 2018")]
    // not on the page: format strings as the files use them, and an offset converted to UTC.
    [InlineData("@formatDateTime(addDays(utcnow(), -1), 'yyyy-MM-dd')", "2018-04-14")]
    [InlineData("@formatDateTime('2018-03-15T01:30:00+02:00')", "2018-03-14T23:30:00.0000000Z")]
    public void Dates_DocumentedExamples_ReturnDocumentedResults(string expression, string expected) =>
        Assert.Equal(expected, AdfExpression.Parse(expression).EvaluateToString(Create()));

    [Theory]
    // not on the page (the ADF page has no variables entry): variables('numItems') returns the declared value
    [InlineData("@variables('numItems')", "20")]
    // doc section "Expressions": "@pipeline().parameters.myNumber" returns 42 as a number
    // (pipeline, activity, variables, item and triggerBody have no entry in the page's function reference; the examples
    // here come from its "Expressions" and "Examples" sections, or are marked as this project's own)
    [InlineData("@pipeline().parameters.myNumber", "42")]
    // not on the page: the system variables of the run.
    [InlineData("@pipeline().RunId", "\"2a7f0c1e-0000-4000-8000-000000000001\"")]
    [InlineData("@pipeline().Pipeline", "\"medallion\"")]
    [InlineData("@pipeline().TriggerTime", "\"2026-11-30T06:00:00.0000000Z\"")]
    // doc section "Expressions": "@activity('Web1').output or @activity('Web1').output.data"
    [InlineData("@activity('Web1').output.data", "{\"rows\":3}")]
    // not on the page: the activity's status.
    [InlineData("@activity('Web1').status", "\"Succeeded\"")]
    // doc section "Complex expression example": @activity('activityName').output.subfield1.subfield2[pipeline().parameters.subfield3].subfield4
    [InlineData("@activity('Web1').output.subfield1.subfield2[pipeline().parameters.subfield3].subfield4", "\"deep\"")]
    // not on the page: the BlobEventsTrigger payload the files pass on, @triggerBody().folderPath and fileName
    [InlineData("@triggerBody().folderPath", "\"landing/weblogs\"")]
    [InlineData("@triggerBody().fileName", "\"part-0001.json\"")]
    public void RunFunctions_DocumentedExamples_ReturnDocumentedResults(string expression, string expected) =>
        Assert.Equal(expected, Eval(expression));

    [Fact]
    public void Item_ForEachOverRange_ReturnsEachItem()
    {
        // doc section "Expressions": if items is the array [1, 2, 3], @item() returns 1 in the first iteration, 2 in the second, 3 in the third.
        var items = Eval("@createArray(1, 2, 3)");
        Assert.Equal("[1,2,3]", items);
        var item = AdfExpression.Parse("@item()");
        var seen = new List<string>();
        foreach (var value in new[] { 1, 2, 3 })
        {
            seen.Add(item.Evaluate(new ExpressionContext { HasItem = true, Item = value })!.ToJsonString());
        }
        Assert.Equal(["1", "2", "3"], seen);
        // doc section "Expressions": @range(0,10) iterates 10 times from 0 to 9.
        Assert.Equal("[0,1,2,3,4,5,6,7,8,9]", Eval("@range(0,10)"));
    }
}
