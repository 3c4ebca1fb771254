using System.Buffers;
using System.Globalization;
using System.Text;
using Lakehouse.Core;
using Lakehouse.Datasets;

namespace Lakehouse.Silver.Parsing;

/// <summary>
/// Apache/nginx access log lines (format <c>access_log</c>), parsed from the bytes without regular expressions:
/// <code>[vhost:port] client[, proxy…] ident user [dd/Mon/yyyy:HH:mm:ss ±hhmm] "request" status bytes ["referrer" "user agent"] [anything…]</code>
/// </summary>
/// <remarks>
/// <para>Fields before the timestamp are separated by spaces. Three are client, ident and user; a fourth in front is the virtual
/// host (Apache <c>vhost_combined</c>'s <c>%v:%p</c>, nginx <c>$host</c>), accepted only when the client after it is an IP address
/// or a list of them (four fields with a name as client are refused: more likely a user name with a space than a vhost). The
/// client may be an X-Forwarded-For list (<c>203.0.113.1, 10.0.0.2</c>, as nginx writes <c>$http_x_forwarded_for</c> or
/// <c>$proxy_add_x_forwarded_for</c> there): <c>forwarded_for</c> holds its entries as written (empty ones dropped) and
/// <c>client_ip</c> the first (the originating client, as proxies append; it is whatever the first hop claimed).
/// <c>forwarded_for</c> is empty when the field is a single address (a one-entry X-Forwarded-For cannot be told apart). <c>client_ip</c> loses IPv6 brackets and a port
/// (<c>[2001:db8::1]:443</c> → <c>2001:db8::1</c>, <c>203.0.113.1:5123</c> → <c>203.0.113.1</c>); a client of <c>-</c> is refused
/// (the column is not nullable). <c>-</c> is null for ident and user.</para>
/// <para>The timestamp is <c>[dd/Mon/yyyy:HH:mm:ss ±hhmm]</c> (optionally with a fraction <c>.fff</c> after the seconds, an offset
/// <c>±hh:mm</c>, or no offset, which is UTC) or ISO-8601 in brackets (nginx <c>$time_iso8601</c>); it is converted to UTC.</para>
/// <para>Quoted fields may hold escapes (<c>\"</c>, <c>\\</c>, <c>\xhh</c>; see <see cref="LogEscapes"/>). The request ends at the
/// first unescaped quote followed by a space and the status, so an unescaped quote inside a request (old Apache) still parses.
/// A request <c>METHOD TARGET PROTOCOL</c> (protocol starting <c>HTTP/</c>) or <c>METHOD TARGET</c> (HTTP/0.9; protocol null)
/// fills method, url, path, query; anything else inside the quotes (a TLS handshake, binary junk, a lone word) is kept whole in
/// <c>url</c> with method, path, query and protocol null; <c>"-"</c> and <c>""</c> leave all five null. The path is the target
/// before the first '?', the query what follows it (null without '?'); an absolute target (<c>http://host/p?q</c>, a proxy
/// request) has path <c>/p</c>. Percent-encoding is kept as sent.</para>
/// <para>The status is three digits; the size is digits up to 9223372036854775807 (a larger one is out of range) or <c>-</c> (null). Referrer and user agent are optional (common log
/// format: null); <c>-</c> is null. Anything after the user agent (request and upstream times, cookies) is ignored, and so is
/// anything after the size that does not start with a quote.</para>
/// </remarks>
internal sealed class AccessLogParser : ITextLineParser
{
    private const string Prefix = "access log: ";
    private const string ClfShape = "[dd/Mon/yyyy:HH:mm:ss ±hhmm]";
    private static readonly object[] BoxedIntegers = [.. Enumerable.Range(0, 1000).Select(i => (object)(long)i)];
    private static readonly (byte[] Bytes, string Text)[] Methods =
        [.. new[] { "GET", "POST", "HEAD", "PUT", "DELETE", "OPTIONS", "PATCH", "CONNECT", "TRACE" }.Select(m => (Encoding.ASCII.GetBytes(m), m))];
    private static readonly (byte[] Bytes, string Text)[] Protocols =
        [.. new[] { "HTTP/1.1", "HTTP/2.0", "HTTP/1.0", "HTTP/2", "HTTP/3", "HTTP/3.0", "HTTP/0.9" }.Select(m => (Encoding.ASCII.GetBytes(m), m))];

    private static readonly SearchValues<byte> AddressBytes = SearchValues.Create("0123456789abcdefABCDEF.:[], "u8);

    private readonly Field[] _fields;
    private readonly DatasetColumnType[] _types;
    private readonly bool _needsRequest;
    private readonly StringCache _clients = new();
    private readonly StringCache _paths = new();
    private readonly StringCache _referrers = new();
    private readonly StringCache _agents = new();
    private readonly StringCache _vhosts = new(16);

    /// <summary>Prepares the parser for <paramref name="columns"/> (any of <see cref="AccessLogColumns.Names"/>, in any order).</summary>
    /// <exception cref="LakehouseException">(InvalidInput) A column is not an access log field, or has a type its field cannot take.</exception>
    internal AccessLogParser(string dataset, IReadOnlyList<DatasetColumn> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        _fields = new Field[columns.Count];
        _types = new DatasetColumnType[columns.Count];
        for (var i = 0; i < columns.Count; i++)
        {
            var column = columns[i];
            var index = IndexOf(column.Name);
            if (index < 0)
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Dataset '{dataset}': column '{column.Name}' is not a field of the access_log format ({string.Join(", ", AccessLogColumns.Names)}).");
            var field = (Field)index;
            var allowed = Allowed(field);
            if (!allowed.Contains(column.Type))
                throw new LakehouseException(LakehouseErrorReason.InvalidInput,
                    $"Dataset '{dataset}': column '{column.Name}' of the access_log format can be {string.Join(" or ", allowed.Select(DatasetColumnTypes.NameOf))}, not {column.TypeName}.");
            _fields[i] = field;
            _types[i] = column.Type;
            _needsRequest |= field is Field.Method or Field.Url or Field.Path or Field.Query or Field.Protocol;
        }
    }

    /// <summary>The access log fields, in the order of <see cref="AccessLogColumns.Names"/>.</summary>
    private enum Field : byte
    {
        ClientIp, Ident, AuthUser, Timestamp, Method, Url, Path, Query, Protocol, Status, Bytes, Referrer, UserAgent, Vhost, ForwardedFor,
    }

    /// <inheritdoc/>
    public bool TryParse(ReadOnlySpan<byte> line, object?[] values, out string? error)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Length != _fields.Length)
            throw new ArgumentException($"{values.Length} value slots for {_fields.Length} columns.", nameof(values));
        line = TextLine.TrimEnd(line);
        Parsed parsed = default;
        error = TextLine.Check(line) is { } bad ? Prefix + bad : Parse(line, out parsed);
        if (error is not null)
        {
            Array.Clear(values);
            return false;
        }
        Fill(line, parsed, values);
        return true;
    }

    /// <summary>Where each field of a line is (byte ranges of the line), and the values parsed on the way.</summary>
    private struct Parsed
    {
        internal Piece Vhost;
        internal Piece Host;
        internal bool HostIsList;
        internal Piece Client;
        internal Piece Ident;
        internal Piece User;
        internal DateTime Timestamp;
        internal Piece Request;
        internal bool RequestEscaped;
        internal int Status;
        internal long Bytes; // -1 for '-'
        internal Piece Referrer;
        internal bool ReferrerEscaped;
        internal Piece Agent;
        internal bool AgentEscaped;
    }

    /// <summary>A byte range; <see cref="Null"/> for an absent value.</summary>
    private readonly record struct Piece(int Start, int Length)
    {
        internal static readonly Piece Null = new(0, -1);

        /// <summary>The path "/", which an absolute target without one has (it is not in the text).</summary>
        internal static readonly Piece Root = new(-1, 1);

        internal bool IsNull => Length < 0;

        internal int End => Start + Length;

        internal static Piece Between(int start, int end) => new(start, end - start);
    }

    private static string? Parse(ReadOnlySpan<byte> line, out Parsed p)
    {
        p = default;
        p.Vhost = p.Referrer = p.Agent = Piece.Null;
        var pos = SkipSpaces(line, line.StartsWith("\uFEFF"u8) ? 3 : 0);
        if (pos == line.Length) return Prefix + (line.Length == 0 ? "the line is empty" : "the line is blank");

        // [vhost] client ident user: up to four space-separated fields before the timestamp; "a, b" is one field (a list).
        Span<Piece> fields = stackalloc Piece[4];
        var count = 0;
        var listField = -1;
        while (true)
        {
            if (pos == line.Length) return $"{Prefix}the line ends at byte {pos}, before the timestamp {ClfShape}";
            if (line[pos] == (byte)'[' && LooksLikeTimestamp(line, pos)) break;
            var end = TokenEnd(line, pos);
            if (count == fields.Length)
                return $"{Prefix}expected the timestamp {ClfShape} after the client, ident and user, found '{TextLine.Quote(line[pos..end])}' (byte {pos})";
            var start = pos;
            var isList = line[(end - 1)] == (byte)',' || line[pos..end].Contains((byte)',');
            while (true)
            {
                var next = SkipSpaces(line, end);
                if (next == line.Length || (line[end - 1] != (byte)',' && line[next] != (byte)',') || (line[next] == (byte)'[' && LooksLikeTimestamp(line, next))) break;
                isList = true;
                end = TokenEnd(line, next);
            }
            if (isList) listField = count;
            fields[count++] = Piece.Between(start, end);
            pos = SkipSpaces(line, end);
        }
        if (count < 3)
            return $"{Prefix}expected the client, ident and user before the timestamp (byte {pos}), found {count} field{(count == 1 ? "" : "s")}";
        if (count == 4)
        {
            // Four fields: a virtual host in front, as long as the client is an IP address (or a list of them). Otherwise the
            // line is more likely a user name with a space in it, and guessing would shift every field.
            var client = line.Slice(fields[1].Start, fields[1].Length);
            if (client.IndexOfAnyExcept(AddressBytes) >= 0)
                return $"{Prefix}four fields before the timestamp are vhost, client, ident and user, but the client '{TextLine.Quote(client)}' is not an IP address (byte {fields[1].Start})";
            p.Vhost = fields[0];
        }
        p.Host = fields[count - 3];
        p.HostIsList = listField == count - 3;
        p.Ident = fields[count - 2];
        p.User = fields[count - 1];
        p.Client = Address(line, p.HostIsList ? FirstOfList(line, p.Host) : p.Host);
        if (p.Client.Length == 0) return $"{Prefix}the client address list '{TextLine.Quote(line.Slice(p.Host.Start, p.Host.Length))}' holds no address (byte {p.Host.Start})";
        if (line.Slice(p.Client.Start, p.Client.Length).SequenceEqual("-"u8)) return $"{Prefix}the client address is '-' (byte {p.Client.Start})";

        // [timestamp]
        var open = pos;
        var window = line[open..Math.Min(line.Length, open + 64)];
        var close = window.IndexOf((byte)']');
        if (close < 0)
        {
            var shown = window.IndexOf((byte)'"') is var q and > 0 ? window[..q].TrimEnd((byte)' ') : window;
            return $"{Prefix}the timestamp '{TextLine.Quote(shown)}' has no closing ']' (byte {open})";
        }
        close += open;
        var stamp = line[open..(close + 1)];
        if (!TryTimestamp(line[(open + 1)..close], out p.Timestamp, out var at, out var range))
        {
            return range is null
                ? $"{Prefix}the timestamp '{TextLine.Quote(stamp)}' is not {ClfShape} (byte {open + 1 + at})"
                : $"{Prefix}the timestamp '{TextLine.Quote(stamp)}' {range} (byte {open})";
        }

        // "request"
        pos = SkipSpaces(line, close + 1);
        if (pos == line.Length) return $"{Prefix}the line ends at byte {pos}, after the timestamp; expected the request in quotes";
        if (line[pos] != (byte)'"')
            return $"{Prefix}expected '\"' opening the request after the timestamp, found '{TextLine.Quote(line[pos..TokenEnd(line, pos)])}' (byte {pos})";
        var requestEnd = FindClose(line, pos + 1, request: true, out p.RequestEscaped);
        if (requestEnd < 0) return $"{Prefix}the request opened at byte {pos} has no closing quote followed by the status";
        p.Request = Piece.Between(pos + 1, requestEnd);

        // status (FindClose saw a digit there)
        pos = SkipSpaces(line, requestEnd + 1);
        var statusEnd = TokenEnd(line, pos);
        var status = line[pos..statusEnd];
        if (status.Length != 3 || !IsDigits(status))
            return $"{Prefix}the status '{TextLine.Quote(status)}' is not a 3-digit number (byte {pos})";
        p.Status = ((status[0] - '0') * 100) + ((status[1] - '0') * 10) + (status[2] - '0');

        // bytes
        pos = SkipSpaces(line, statusEnd);
        if (pos == line.Length) return $"{Prefix}the line ends at byte {pos}, after the status; expected the response size (a number or -)";
        var bytesEnd = TokenEnd(line, pos);
        var size = line[pos..bytesEnd];
        if (size.SequenceEqual("-"u8)) p.Bytes = -1;
        else if (!IsDigits(size))
            return $"{Prefix}the response size '{TextLine.Quote(size)}' is not a number or '-' (byte {pos})";
        else if (!TryParseDigits(size, out p.Bytes))
            return $"{Prefix}the response size '{TextLine.Quote(size)}' is out of range for a 64-bit integer (byte {pos})";

        // ["referrer" ["user agent"]] [anything]
        pos = SkipSpaces(line, bytesEnd);
        if (pos < line.Length && line[pos] == (byte)'"')
        {
            var referrerEnd = FindClose(line, pos + 1, request: false, out p.ReferrerEscaped);
            if (referrerEnd < 0) return $"{Prefix}the referrer opened at byte {pos} has no closing quote";
            p.Referrer = Piece.Between(pos + 1, referrerEnd);
            pos = SkipSpaces(line, referrerEnd + 1);
            if (pos < line.Length && line[pos] == (byte)'"')
            {
                var agentEnd = FindClose(line, pos + 1, request: false, out p.AgentEscaped);
                if (agentEnd < 0) return $"{Prefix}the user agent opened at byte {pos} has no closing quote";
                p.Agent = Piece.Between(pos + 1, agentEnd);
            }
        }
        return null;
    }

    /// <summary>'[' then d/ or dd/ (common log format) or dddd- (ISO-8601): a bracketed IPv6 address never looks like that.</summary>
    private static bool LooksLikeTimestamp(ReadOnlySpan<byte> line, int open)
    {
        var s = line[(open + 1)..];
        if (s.Length < 2 || !IsDigit(s[0])) return false;
        if (s[1] == (byte)'/' || (s.Length > 2 && IsDigit(s[1]) && s[2] == (byte)'/')) return true;
        return s.Length > 4 && IsDigit(s[1]) && IsDigit(s[2]) && IsDigit(s[3]) && s[4] == (byte)'-';
    }

    /// <summary>
    /// The closing quote of a quoted field whose text starts at <paramref name="start"/>: the first quote not escaped by a
    /// backslash and followed by the end of the line or a space (for the request: spaces and a digit, the status). When there
    /// is none, backslashes are taken literally (old Apache did not escape) and the search is repeated. -1 when there is none.
    /// </summary>
    private static int FindClose(ReadOnlySpan<byte> line, int start, bool request, out bool escaped)
    {
        escaped = false;
        var i = start;
        while (i < line.Length)
        {
            var k = line[i..].IndexOfAny((byte)'"', (byte)'\\');
            if (k < 0) break;
            i += k;
            if (line[i] == (byte)'\\')
            {
                escaped = true;
                i += 2;
                continue;
            }
            if (Closes(line, i, request)) return i;
            i++;
        }
        if (!escaped) return -1;
        escaped = false;
        for (i = start; i < line.Length; i++)
        {
            var k = line[i..].IndexOf((byte)'"');
            if (k < 0) return -1;
            i += k;
            if (Closes(line, i, request)) return i;
        }
        return -1;
    }

    private static bool Closes(ReadOnlySpan<byte> line, int quote, bool request)
    {
        var next = quote + 1;
        if (!request) return next == line.Length || line[next] == (byte)' ';
        if (next == line.Length || line[next] != (byte)' ') return false;
        next = SkipSpaces(line, next);
        return next < line.Length && IsDigit(line[next]);
    }

    /// <summary>
    /// The text between the brackets: <c>dd/Mon/yyyy:HH:mm:ss[.f…][ ±hhmm|±hh:mm]</c> or ISO-8601. False with the offset of the
    /// first byte that does not fit (<paramref name="at"/>), or with <paramref name="range"/> saying which part does not exist.
    /// </summary>
    private static bool TryTimestamp(ReadOnlySpan<byte> s, out DateTime utc, out int at, out string? range)
    {
        utc = default;
        range = null;
        if (s.Length > 4 && s[4] == (byte)'-')
        {
            // ISO-8601 (nginx $time_iso8601), decoded as UTF-8 (the line is valid UTF-8: TextLine.Check) so that a message shows the
            // text as written; read a byte at a time, U+2212 showed as 'â' and two C1 control characters. An offset's minus is '-'
            // only, as before: access logs write no other, and JSON timestamps do not take U+2212 either. The text between the
            // brackets is at most 64 bytes, and UTF-8 never decodes to more characters than it has bytes.
            at = 0;
            Span<char> chars = stackalloc char[s.Length];
            chars = chars[..Encoding.UTF8.GetChars(s, chars)];
            if (TimestampFormat.TryParseIso8601(chars, out utc, out var problem, asciiMinus: true)) return true;
            range = problem!.Replace($"'{TextLine.Quote(chars)}' ", "", StringComparison.Ordinal);
            return false;
        }
        var i = 0;
        if (!Number(s, ref i, 1, 2, out var day) || !Expect(s, ref i, (byte)'/')) return Fail(i, out at);
        if (i + 3 > s.Length || MonthOf(s.Slice(i, 3)) is not (> 0 and var month)) return Fail(i, out at);
        i += 3;
        if (!Expect(s, ref i, (byte)'/') || !Number(s, ref i, 4, 4, out var year) || !Expect(s, ref i, (byte)':')
            || !Number(s, ref i, 2, 2, out var hour) || !Expect(s, ref i, (byte)':') || !Number(s, ref i, 2, 2, out var minute)
            || !Expect(s, ref i, (byte)':') || !Number(s, ref i, 2, 2, out var second))
            return Fail(i, out at);
        long fraction = 0;
        if (i < s.Length && s[i] == (byte)'.')
        {
            i++;
            var digits = 0;
            while (i < s.Length && IsDigit(s[i]) && digits < 9)
            {
                if (digits < 7) fraction = (fraction * 10) + (s[i] - '0');
                digits++;
                i++;
            }
            if (digits == 0) return Fail(i, out at);
            for (; digits < 7; digits++) fraction *= 10;
        }
        var offset = 0;
        if (i < s.Length)
        {
            if (s[i] != (byte)' ') return Fail(i, out at);
            i = SkipSpaces(s, i);
            if (i == s.Length || s[i] is not ((byte)'+' or (byte)'-')) return Fail(i, out at);
            var sign = s[i++] == (byte)'+' ? 1 : -1;
            if (!Number(s, ref i, 2, 2, out var hh) || hh > 23) return Fail(i, out at);
            if (i < s.Length && s[i] == (byte)':') i++;
            if (!Number(s, ref i, 2, 2, out var mm) || mm > 59) return Fail(i, out at);
            if (i != s.Length) return Fail(i, out at);
            offset = sign * ((hh * 60) + mm);
        }
        at = 0;
        range = TimestampFormat.ToUtc(year, month, day, hour, minute, second, fraction, offset, out utc);
        return range is null;

        static bool Fail(int i, out int at)
        {
            at = i;
            return false;
        }
    }

    private static int MonthOf(ReadOnlySpan<byte> m) => ((m[0] | 0x20) << 16 | (m[1] | 0x20) << 8 | (m[2] | 0x20)) switch
    {
        ('j' << 16) | ('a' << 8) | 'n' => 1,
        ('f' << 16) | ('e' << 8) | 'b' => 2,
        ('m' << 16) | ('a' << 8) | 'r' => 3,
        ('a' << 16) | ('p' << 8) | 'r' => 4,
        ('m' << 16) | ('a' << 8) | 'y' => 5,
        ('j' << 16) | ('u' << 8) | 'n' => 6,
        ('j' << 16) | ('u' << 8) | 'l' => 7,
        ('a' << 16) | ('u' << 8) | 'g' => 8,
        ('s' << 16) | ('e' << 8) | 'p' => 9,
        ('o' << 16) | ('c' << 8) | 't' => 10,
        ('n' << 16) | ('o' << 8) | 'v' => 11,
        ('d' << 16) | ('e' << 8) | 'c' => 12,
        _ => 0,
    };

    private void Fill(ReadOnlySpan<byte> line, in Parsed p, object?[] values)
    {
        // The request's pieces are cut from its decoded bytes (escapes resolved) when it has escapes.
        byte[]? rented = null;
        var request = line.Slice(p.Request.Start, p.Request.Length);
        if (_needsRequest && p.RequestEscaped)
        {
            rented = ArrayPool<byte>.Shared.Rent(request.Length);
            var n = LogEscapes.Decode(request, rented);
            if (n >= 0) request = rented.AsSpan(0, n);
        }
        try
        {
            var parts = _needsRequest ? RequestParts.Of(request) : default;
            for (var i = 0; i < _fields.Length; i++)
            {
                values[i] = _fields[i] switch
                {
                    Field.ClientIp => Text(line, p.Client, _clients),
                    Field.Ident => Dash(line, p.Ident),
                    Field.AuthUser => Dash(line, p.User),
                    Field.Timestamp => p.Timestamp,
                    Field.Method => parts.Method.IsNull ? null : Known(request.Slice(parts.Method.Start, parts.Method.Length), Methods),
                    Field.Url => parts.Url == parts.Path ? Text(request, parts.Path, _paths) : Text(request, parts.Url), // no query: one string
                    Field.Path => Text(request, parts.Path, _paths),
                    Field.Query => Text(request, parts.Query),
                    Field.Protocol => parts.Protocol.IsNull ? null : Known(request.Slice(parts.Protocol.Start, parts.Protocol.Length), Protocols),
                    Field.Status => Integer(p.Status, _types[i]),
                    Field.Bytes => p.Bytes < 0 ? null : Integer(p.Bytes, _types[i]),
                    Field.Referrer => Quoted(line, p.Referrer, p.ReferrerEscaped, _referrers),
                    Field.UserAgent => Quoted(line, p.Agent, p.AgentEscaped, _agents),
                    Field.Vhost => Text(line, p.Vhost, _vhosts),
                    Field.ForwardedFor => _types[i] == DatasetColumnType.String
                        ? (p.HostIsList ? Text(line, p.Host) : null)
                        : (p.HostIsList ? SplitList(line.Slice(p.Host.Start, p.Host.Length)) : Array.Empty<string>()),
                    _ => null,
                };
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>Method, url, path, query and protocol as ranges of the (decoded) request text.</summary>
    private readonly record struct RequestParts(Piece Method, Piece Url, Piece Path, Piece Query, Piece Protocol)
    {
        private static readonly RequestParts None = new(Piece.Null, Piece.Null, Piece.Null, Piece.Null, Piece.Null);

        internal static RequestParts Of(ReadOnlySpan<byte> r)
        {
            if (r.IsEmpty || r.SequenceEqual("-"u8)) return None;
            var garbage = None with { Url = new Piece(0, r.Length) };
            var space = r.IndexOf((byte)' ');
            if (space <= 0 || !IsMethod(r[..space])) return garbage;
            var targetStart = SkipSpaces(r, space);
            if (targetStart == r.Length) return garbage;
            var targetEnd = r.Length;
            var protocol = Piece.Null;
            var last = r.LastIndexOf((byte)' ');
            if (last >= targetStart && r[(last + 1)..].StartsWith("HTTP/"u8))
            {
                protocol = Piece.Between(last + 1, r.Length);
                targetEnd = last;
                while (targetEnd > targetStart && r[targetEnd - 1] == (byte)' ') targetEnd--;
            }
            var target = r[targetStart..targetEnd];
            var question = target.IndexOf((byte)'?');
            var pathEnd = question < 0 ? target.Length : question;
            var path = Piece.Between(targetStart, targetStart + pathEnd);
            var scheme = target[0] == (byte)'/' ? -1 : target[..pathEnd].IndexOf("://"u8);
            if (scheme > 0 && IsScheme(target[..scheme]))
            {
                // An absolute target (a proxy request): the path starts after the authority; an empty one is "/".
                var slash = target[(scheme + 3)..pathEnd].IndexOf((byte)'/');
                path = slash < 0 ? Piece.Root : Piece.Between(targetStart + scheme + 3 + slash, targetStart + pathEnd);
            }
            var query = question < 0 ? Piece.Null : Piece.Between(targetStart + question + 1, targetEnd);
            return new RequestParts(new Piece(0, space), Piece.Between(targetStart, targetEnd), path, query, protocol);
        }

        /// <summary>An HTTP method: a letter, then letters, digits, '-' or '_' (at most 32).</summary>
        private static bool IsMethod(ReadOnlySpan<byte> m)
        {
            if (m.Length > 32 || !char.IsAsciiLetter((char)m[0])) return false;
            foreach (var b in m)
                if (!char.IsAsciiLetterOrDigit((char)b) && b is not ((byte)'-' or (byte)'_')) return false;
            return true;
        }

        private static bool IsScheme(ReadOnlySpan<byte> s)
        {
            if (!char.IsAsciiLetter((char)s[0])) return false;
            foreach (var b in s)
                if (!char.IsAsciiLetterOrDigit((char)b) && b is not ((byte)'+' or (byte)'-' or (byte)'.')) return false;
            return true;
        }
    }

    private static string? Text(ReadOnlySpan<byte> s, Piece piece) =>
        piece.IsNull ? null : piece == Piece.Root ? "/" : Encoding.UTF8.GetString(s.Slice(piece.Start, piece.Length));

    private static string? Text(ReadOnlySpan<byte> s, Piece piece, StringCache cache) =>
        piece.IsNull ? null : piece == Piece.Root ? "/" : cache.Get(s.Slice(piece.Start, piece.Length));

    /// <summary>Ident and user: '-' is null; a quoted value (Apache writes <c>""</c> for an empty user) loses its quotes.</summary>
    private static string? Dash(ReadOnlySpan<byte> line, Piece piece)
    {
        var s = line.Slice(piece.Start, piece.Length);
        if (s.SequenceEqual("-"u8)) return null;
        if (s.Length >= 2 && s[0] == (byte)'"' && s[^1] == (byte)'"') s = s[1..^1];
        return Encoding.UTF8.GetString(s);
    }

    /// <summary>Referrer and user agent: null when absent or '-'; escapes decoded.</summary>
    private static string? Quoted(ReadOnlySpan<byte> line, Piece piece, bool escaped, StringCache cache)
    {
        if (piece.IsNull) return null;
        var s = line.Slice(piece.Start, piece.Length);
        return s.SequenceEqual("-"u8) ? null : escaped ? LogEscapes.ToText(s, escaped) : cache.Get(s);
    }

    private static string Known(ReadOnlySpan<byte> s, (byte[] Bytes, string Text)[] known)
    {
        foreach (var (bytes, text) in known)
            if (s.SequenceEqual(bytes)) return text;
        return Encoding.UTF8.GetString(s);
    }

    private static object Integer(long value, DatasetColumnType type) => type switch
    {
        DatasetColumnType.Number => (double)value,
        DatasetColumnType.String => value.ToString(CultureInfo.InvariantCulture),
        _ => value < BoxedIntegers.Length ? BoxedIntegers[value] : value,
    };

    /// <summary>The first address of a list "a, b, c" (empty entries skipped); empty when it has none.</summary>
    private static Piece FirstOfList(ReadOnlySpan<byte> line, Piece list)
    {
        var s = line.Slice(list.Start, list.Length);
        foreach (var range in s.Split((byte)','))
        {
            var (offset, length) = range.GetOffsetAndLength(s.Length);
            var item = s.Slice(offset, length);
            var lead = item.Length - item.TrimStart((byte)' ').Length;
            item = item.Trim((byte)' ');
            if (!item.IsEmpty) return new Piece(list.Start + offset + lead, item.Length);
        }
        return new Piece(list.Start, 0);
    }

    /// <summary>An address without IPv6 brackets or a port: <c>[2001:db8::1]:443</c> → <c>2001:db8::1</c>, <c>192.0.2.1:80</c> → <c>192.0.2.1</c>.</summary>
    private static Piece Address(ReadOnlySpan<byte> line, Piece piece)
    {
        var s = line.Slice(piece.Start, piece.Length);
        if (s.Length > 2 && s[0] == (byte)'[')
        {
            var close = s.IndexOf((byte)']');
            if (close > 1) return new Piece(piece.Start + 1, close - 1);
        }
        var colon = s.IndexOf((byte)':');
        if (colon > 0 && s.LastIndexOf((byte)':') == colon && s[..colon].Contains((byte)'.')) return new Piece(piece.Start, colon);
        return piece;
    }

    private static string[] SplitList(ReadOnlySpan<byte> list)
    {
        var items = new List<string>(4);
        foreach (var range in list.Split((byte)','))
        {
            var item = list[range].Trim((byte)' ');
            if (!item.IsEmpty) items.Add(Encoding.UTF8.GetString(item));
        }
        return [.. items];
    }

    private static int IndexOf(string name)
    {
        for (var i = 0; i < AccessLogColumns.Names.Count; i++)
            if (string.Equals(AccessLogColumns.Names[i], name, StringComparison.OrdinalIgnoreCase)) return i;
        return -1;
    }

    /// <summary>The column types a field can be read as: its own, or text (and number for the integer fields).</summary>
    private static DatasetColumnType[] Allowed(Field field) => field switch
    {
        Field.Timestamp => [DatasetColumnType.Timestamp],
        Field.Status or Field.Bytes => [DatasetColumnType.Integer, DatasetColumnType.Number, DatasetColumnType.String],
        Field.ForwardedFor => [DatasetColumnType.StringList, DatasetColumnType.String],
        _ => [DatasetColumnType.String],
    };

    private static int SkipSpaces(ReadOnlySpan<byte> s, int i)
    {
        while (i < s.Length && s[i] == (byte)' ') i++;
        return i;
    }

    private static int TokenEnd(ReadOnlySpan<byte> s, int i)
    {
        var space = s[i..].IndexOf((byte)' ');
        return space < 0 ? s.Length : i + space;
    }

    private static bool IsDigit(byte b) => (uint)(b - '0') <= 9;

    private static bool IsDigits(ReadOnlySpan<byte> s) => !s.IsEmpty && s.IndexOfAnyExceptInRange((byte)'0', (byte)'9') < 0;

    /// <summary>Digits as a long, any number of them (leading zeros too); false when the value is beyond <see cref="long.MaxValue"/>.</summary>
    private static bool TryParseDigits(ReadOnlySpan<byte> s, out long value)
    {
        value = 0;
        foreach (var b in s)
        {
            var digit = b - '0';
            if (value > (long.MaxValue - digit) / 10) return false;
            value = (value * 10) + digit;
        }
        return true;
    }

    private static bool Number(ReadOnlySpan<byte> s, ref int i, int min, int max, out int value)
    {
        value = 0;
        var n = 0;
        while (n < max && i < s.Length && IsDigit(s[i]))
        {
            value = (value * 10) + (s[i] - '0');
            n++;
            i++;
        }
        return n >= min;
    }

    private static bool Expect(ReadOnlySpan<byte> s, ref int i, byte b)
    {
        if (i < s.Length && s[i] == b)
        {
            i++;
            return true;
        }
        return false;
    }
}
