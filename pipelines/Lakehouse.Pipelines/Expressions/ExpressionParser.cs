using System.Globalization;
using System.Text;
using Lakehouse.Core;

namespace Lakehouse.Pipelines.Expressions;

/// <summary>
/// Recursive-descent parser of the ADF expression language over one JSON string value. Positions in errors are 0-based
/// offsets into that value. Nesting (calls, property and index access) is bounded by <see cref="MaxDepth"/> so hostile
/// input gets an error, never a stack overflow.
/// </summary>
internal sealed class ExpressionParser
{
    internal const int MaxDepth = 256;

    private readonly string _text;
    private int _pos;
    private int _nesting;

    private ExpressionParser(string text, int start)
    {
        _text = text;
        _pos = start;
    }

    /// <summary>Splits a JSON string value into literal text and expressions (the '@', '@@' and '@{…}' rules).</summary>
    internal static AdfExpression.Template ParseTemplate(string value)
    {
        if (value.Length > 0 && value[0] == '@')
        {
            if (value.Length > 1 && value[1] == '@')
            {
                return new AdfExpression.Template(value[1..], null, null);
            }
            if (value.Length == 1 || value[1] != '{')
            {
                var parser = new ExpressionParser(value, 1);
                parser.SkipSpace();
                if (parser.AtEnd)
                {
                    throw Error(1, "the expression after '@' is empty");
                }
                var node = parser.ParseExpression();
                parser.SkipSpace();
                if (!parser.AtEnd)
                {
                    throw Error(parser._pos, $"unexpected {Describe(value[parser._pos])} after the end of the expression");
                }
                return new AdfExpression.Template(null, node, null);
            }
        }
        if (!value.Contains("@{", StringComparison.Ordinal))
        {
            return new AdfExpression.Template(value, null, null);
        }
        var parts = new List<object>();
        var literal = new StringBuilder();
        var i = 0;
        while (i < value.Length)
        {
            if (value[i] == '@' && i + 2 < value.Length && value[i + 1] == '@' && value[i + 2] == '{')
            {
                literal.Append("@{");
                i += 3;
            }
            else if (value[i] == '@' && i + 1 < value.Length && value[i + 1] == '{')
            {
                if (literal.Length > 0)
                {
                    parts.Add(literal.ToString());
                    literal.Clear();
                }
                var parser = new ExpressionParser(value, i + 2);
                parser.SkipSpace();
                if (parser.AtEnd)
                {
                    throw Error(i, "the interpolation '@{' is not closed with '}'");
                }
                if (parser.Peek == '}')
                {
                    throw Error(i, "the interpolation '@{…}' is empty");
                }
                parts.Add(parser.ParseExpression());
                parser.SkipSpace();
                if (parser.AtEnd)
                {
                    throw Error(i, "the interpolation '@{' is not closed with '}'");
                }
                if (parser.Peek != '}')
                {
                    throw Error(parser._pos, $"unexpected {Describe(parser.Peek)} in the interpolation starting at position {i}; expected '}}'");
                }
                i = parser._pos + 1;
            }
            else
            {
                literal.Append(value[i]);
                i++;
            }
        }
        if (literal.Length > 0)
        {
            parts.Add(literal.ToString());
        }
        return new AdfExpression.Template(null, null, parts);
    }

    internal static LakehouseException Error(int position, string message) =>
        new(LakehouseErrorReason.InvalidInput, $"ADF expression error at position {position}: {message}{(message.EndsWith('.') ? "" : ".")}");

    private bool AtEnd => _pos >= _text.Length;

    private char Peek => _text[_pos];

    private void SkipSpace()
    {
        while (!AtEnd && char.IsWhiteSpace(Peek))
        {
            _pos++;
        }
    }

    private ExpressionNode ParseExpression()
    {
        if (++_nesting > MaxDepth)
        {
            throw Error(_pos, $"the expression nests deeper than {MaxDepth} levels");
        }
        SkipSpace();
        var node = ParsePrimary();
        while (true)
        {
            SkipSpace();
            if (AtEnd)
            {
                break;
            }
            var start = _pos;
            var safe = false;
            if (Peek == '?' && _pos + 1 < _text.Length && _text[_pos + 1] is '.' or '[')
            {
                safe = true;
                _pos++;
            }
            if (Peek == '.')
            {
                _pos++;
                SkipSpace();
                var name = ReadIdentifier() ?? throw Error(_pos, "expected a property name after '.'");
                node = Access(start, node, name, null, safe);
            }
            else if (Peek == '[')
            {
                _pos++;
                var index = ParseExpression();
                SkipSpace();
                if (AtEnd || Peek != ']')
                {
                    throw Error(AtEnd ? _pos : _pos, $"expected ']' to close the '[' at position {start}");
                }
                _pos++;
                node = Access(start, node, null, index, safe);
            }
            else
            {
                break;
            }
        }
        _nesting--;
        return node;
    }

    private static AccessNode Access(int position, ExpressionNode target, string? name, ExpressionNode? index, bool safe)
    {
        var depth = 1 + Math.Max(target.Depth, index?.Depth ?? 0);
        if (depth > MaxDepth)
        {
            throw Error(position, $"the expression nests deeper than {MaxDepth} levels");
        }
        return new AccessNode(position, target, name, index, safe, depth);
    }

    private ExpressionNode ParsePrimary()
    {
        if (AtEnd)
        {
            throw Error(_pos, "the expression ends where a value was expected");
        }
        var start = _pos;
        var c = Peek;
        if (c == '\'')
        {
            return new LiteralNode(start, ReadString());
        }
        if (char.IsAsciiDigit(c) || c == '.' || ((c == '-' || c == '+') && _pos + 1 < _text.Length && (char.IsAsciiDigit(_text[_pos + 1]) || _text[_pos + 1] == '.')))
        {
            return new LiteralNode(start, ReadNumber());
        }
        var name = ReadIdentifier() ?? throw Error(start, $"unexpected {Describe(c)} where a value was expected");
        SkipSpace();
        if (AtEnd || Peek != '(')
        {
            if (name.Equals("true", StringComparison.OrdinalIgnoreCase))
            {
                return new LiteralNode(start, true);
            }
            if (name.Equals("false", StringComparison.OrdinalIgnoreCase))
            {
                return new LiteralNode(start, false);
            }
            if (name.Equals("null", StringComparison.OrdinalIgnoreCase))
            {
                return new LiteralNode(start, null);
            }
            throw Error(start, $"'{name}' is not a value; a function call needs parentheses, e.g. '{name}()'");
        }
        _pos++;
        if (!ExpressionFunctions.TryGet(name, out var function))
        {
            throw Error(start, $"unknown function '{name}'");
        }
        var arguments = new List<ExpressionNode>();
        SkipSpace();
        if (!AtEnd && Peek == ')')
        {
            _pos++;
        }
        else
        {
            while (true)
            {
                arguments.Add(ParseExpression());
                SkipSpace();
                if (AtEnd)
                {
                    throw Error(_pos, $"function '{name}' at position {start}: the argument list is not closed with ')'");
                }
                if (Peek == ',')
                {
                    _pos++;
                    continue;
                }
                if (Peek == ')')
                {
                    _pos++;
                    break;
                }
                throw Error(_pos, $"function '{name}' at position {start}: unexpected {Describe(Peek)} in the argument list; expected ',' or ')'");
            }
        }
        var args = arguments.ToArray();
        function.CheckStatically(name, start, args);
        var depth = 1 + (args.Length == 0 ? 0 : args.Max(a => a.Depth));
        return new CallNode(start, name, function, args, depth);
    }

    private string? ReadIdentifier()
    {
        var start = _pos;
        while (!AtEnd && (char.IsLetterOrDigit(Peek) || Peek == '_' || Peek == '$'))
        {
            _pos++;
        }
        return _pos == start ? null : _text[start.._pos];
    }

    private string ReadString()
    {
        var start = _pos;
        _pos++;
        var sb = new StringBuilder();
        while (true)
        {
            var next = _text.IndexOf('\'', _pos);
            if (next < 0)
            {
                throw Error(start, "the string literal is not closed with a quote (write '' for a quote inside a string)");
            }
            sb.Append(_text, _pos, next - _pos);
            _pos = next + 1;
            if (!AtEnd && Peek == '\'')
            {
                sb.Append('\'');
                _pos++;
                continue;
            }
            return sb.ToString();
        }
    }

    private object ReadNumber()
    {
        var start = _pos;
        if (Peek is '-' or '+')
        {
            _pos++;
        }
        var isFloat = false;
        while (!AtEnd && char.IsAsciiDigit(Peek))
        {
            _pos++;
        }
        if (!AtEnd && Peek == '.')
        {
            isFloat = true;
            _pos++;
            while (!AtEnd && char.IsAsciiDigit(Peek))
            {
                _pos++;
            }
        }
        if (!AtEnd && Peek is 'e' or 'E')
        {
            isFloat = true;
            _pos++;
            if (!AtEnd && Peek is '-' or '+')
            {
                _pos++;
            }
            while (!AtEnd && char.IsAsciiDigit(Peek))
            {
                _pos++;
            }
        }
        var text = _text[start.._pos];
        if (!isFloat && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return integer;
        }
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var real) && double.IsFinite(real))
        {
            return real;
        }
        throw Error(start, $"'{text}' is not a number");
    }

    private static string Describe(char c) => char.IsControl(c) ? $"character U+{(int)c:X4}" : $"'{c}'";
}
