namespace Lakehouse.Sql.Tests;

public sealed class SqlStatementsTests
{
    [Theory]
    [InlineData("SELECT 1;", new[] { "SELECT 1" })]
    [InlineData("SELECT 1; ;\n-- done;\n/* ; */", new[] { "SELECT 1" })]
    [InlineData("  -- nothing\n ;", new string[0])]
    [InlineData("SELECT 1; DROP VIEW x", new[] { "SELECT 1", " DROP VIEW x" })]
    [InlineData("select 'a;''b'; select 2", new[] { "select 'a;''b'", " select 2" })]
    [InlineData("select E'\\';' ; select e'\\\\'; select 3", new[] { "select E'\\';' ", " select e'\\\\'", " select 3" })]
    [InlineData("select \"a;\"\"b\" from t; select 2", new[] { "select \"a;\"\"b\" from t", " select 2" })]
    [InlineData("select $$;$$, $t$ ; $x$ ; $t$; select 2", new[] { "select $$;$$, $t$ ; $x$ ; $t$", " select 2" })]
    [InlineData("select $1; select $name; select 3", new[] { "select $1", " select $name", " select 3" })]
    [InlineData("select 1 AS a$b$; select 2", new[] { "select 1 AS a$b$", " select 2" })]
    [InlineData("select 1 /* ; /* ; */ ; */; select 2 -- ; \n", new[] { "select 1 /* ; /* ; */ ; */", " select 2 -- ; \n" })]
    [InlineData("select 'never closed; select 2", new[] { "select 'never closed; select 2" })]
    public void Split_SemicolonsInsideStringsNamesDollarTextAndComments_DoNotEndAStatement(string text, string[] expected)
    {
        Assert.Equal(expected, SqlStatements.Split(text));
    }
}
