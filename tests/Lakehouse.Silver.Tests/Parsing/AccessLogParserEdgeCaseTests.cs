using System.Text;
using static Lakehouse.Silver.Tests.Parsing.AccessLogRow;

namespace Lakehouse.Silver.Tests.Parsing;

/// <summary>
/// Beats-style edge cases: lines as Apache and nginx write them in their many configurations (written for this project),
/// each parsed with the built-in accesslogs definition and checked column by column.
/// </summary>
public class AccessLogParserEdgeCaseTests
{
    private const string Firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0";

    private static readonly Dictionary<string, (string Line, AccessLogRow Row)> Cases = new()
    {
        ["nginx combined"] = (
            $"""198.51.100.7 - - [01/May/2024:10:15:32 +0000] "GET /products/42?color=red&size=m HTTP/1.1" 200 5120 "https://shop.example.com/" "{Firefox}" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "198.51.100.7",
                Timestamp = Utc("2024-05-01T10:15:32Z"),
                Method = "GET",
                Url = "/products/42?color=red&size=m",
                Path = "/products/42",
                Query = "color=red&size=m",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 5120,
                Referrer = "https://shop.example.com/",
                UserAgent = Firefox,
            }),
        ["apache common log format"] = (
            """127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326""",
            new AccessLogRow
            {
                ClientIp = "127.0.0.1",
                AuthUser = "frank",
                Timestamp = Utc("2000-10-10T20:55:36Z"),
                Method = "GET",
                Url = "/apache_pb.gif",
                Path = "/apache_pb.gif",
                Protocol = "HTTP/1.0",
                Status = 200,
                Bytes = 2326,
            }),
        ["apache vhost_combined with - bytes on a leap day"] = (
            """www.example.org:443 192.0.2.44 - - [29/Feb/2024:23:59:59 +0200] "POST /login HTTP/1.1" 302 - "https://www.example.org/login" "curl/8.5.0" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "192.0.2.44",
                Timestamp = Utc("2024-02-29T21:59:59Z"),
                Method = "POST",
                Url = "/login",
                Path = "/login",
                Protocol = "HTTP/1.1",
                Status = 302,
                Referrer = "https://www.example.org/login",
                UserAgent = "curl/8.5.0",
                Vhost = "www.example.org:443",
            }),
        ["x-forwarded-for list before the ident"] = (
            """203.0.113.1, 10.0.0.2 - - [01/May/2024:00:00:01 +0000] "GET / HTTP/2.0" 200 612 "-" "Mozilla/5.0" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "203.0.113.1",
                Timestamp = Utc("2024-05-01T00:00:01Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/2.0",
                Status = 200,
                Bytes = 612,
                UserAgent = "Mozilla/5.0",
                ForwardedFor = ["203.0.113.1", "10.0.0.2"],
            }),
        ["vhost and a three-hop forwarded list without spaces"] = (
            """api.example.com:80 198.51.100.23,10.1.2.3,10.9.8.7 - - [01/May/2024:08:00:00 +0000] "DELETE /api/v1/cart/items/3 HTTP/1.1" 204 0 "-" "okhttp/4.12.0" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "198.51.100.23",
                Timestamp = Utc("2024-05-01T08:00:00Z"),
                Method = "DELETE",
                Url = "/api/v1/cart/items/3",
                Path = "/api/v1/cart/items/3",
                Protocol = "HTTP/1.1",
                Status = 204,
                Bytes = 0,
                UserAgent = "okhttp/4.12.0",
                Vhost = "api.example.com:80",
                ForwardedFor = ["198.51.100.23", "10.1.2.3", "10.9.8.7"],
            }),
        ["ipv6 client"] = (
            """2001:db8:85a3::8a2e:370:7334 - - [15/Jan/2024:06:07:08 +0100] "GET /index.html HTTP/1.1" 304 0 "-" "-" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "2001:db8:85a3::8a2e:370:7334",
                Timestamp = Utc("2024-01-15T05:07:08Z"),
                Method = "GET",
                Url = "/index.html",
                Path = "/index.html",
                Protocol = "HTTP/1.1",
                Status = 304,
                Bytes = 0,
            }),
        ["ipv6 client in brackets"] = (
            """[2001:db8::1] - - [15/Jan/2024:06:07:08 +0000] "GET /a HTTP/1.1" 200 1 "-" "-" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "2001:db8::1",
                Timestamp = Utc("2024-01-15T06:07:08Z"),
                Method = "GET",
                Url = "/a",
                Path = "/a",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 1,
            }),
        ["ipv6 client in brackets with a port"] = (
            """[2001:db8::1]:51234 - - [15/Jan/2024:06:07:08 +0000] "GET /a HTTP/1.1" 200 1""",
            new AccessLogRow
            {
                ClientIp = "2001:db8::1",
                Timestamp = Utc("2024-01-15T06:07:08Z"),
                Method = "GET",
                Url = "/a",
                Path = "/a",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 1,
            }),
        ["ipv4 client with a port"] = (
            """192.0.2.10:40022 - - [15/Jan/2024:06:07:08 +0000] "GET /a HTTP/1.1" 200 1""",
            new AccessLogRow
            {
                ClientIp = "192.0.2.10",
                Timestamp = Utc("2024-01-15T06:07:08Z"),
                Method = "GET",
                Url = "/a",
                Path = "/a",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 1,
            }),
        ["vhost with a bracketed ipv6 client"] = (
            """shop.example.com:8443 [2a02:1810::5] alice bob [01/May/2024:10:00:00 -0000] "HEAD / HTTP/1.1" 200 - "-" "Go-http-client/1.1" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "2a02:1810::5",
                Ident = "alice",
                AuthUser = "bob",
                Timestamp = Utc("2024-05-01T10:00:00Z"),
                Method = "HEAD",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/1.1",
                Status = 200,
                UserAgent = "Go-http-client/1.1",
                Vhost = "shop.example.com:8443",
            }),
        ["ipv6 vhost"] = (
            """[::1]:8080 203.0.113.5 - - [01/May/2024:10:00:00 +0000] "GET /health HTTP/1.1" 200 2 "-" "kube-probe/1.29" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "203.0.113.5",
                Timestamp = Utc("2024-05-01T10:00:00Z"),
                Method = "GET",
                Url = "/health",
                Path = "/health",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 2,
                UserAgent = "kube-probe/1.29",
                Vhost = "[::1]:8080",
            }),
        ["dash request"] = (
            """198.51.100.9 - - [01/May/2024:10:00:00 +0000] "-" 400 0 "-" "-" """.TrimEnd(),
            new AccessLogRow { ClientIp = "198.51.100.9", Timestamp = Utc("2024-05-01T10:00:00Z"), Status = 400, Bytes = 0 }),
        ["empty request"] = (
            """198.51.100.9 - - [01/May/2024:10:00:00 +0000] "" 408 0 "-" "-" """.TrimEnd(),
            new AccessLogRow { ClientIp = "198.51.100.9", Timestamp = Utc("2024-05-01T10:00:00Z"), Status = 408, Bytes = 0 }),
        ["http/0.9 request: method and target only"] = (
            """198.51.100.9 - - [01/May/2024:10:00:00 +0000] "GET /robots.txt" 200 68""",
            new AccessLogRow
            {
                ClientIp = "198.51.100.9",
                Timestamp = Utc("2024-05-01T10:00:00Z"),
                Method = "GET",
                Url = "/robots.txt",
                Path = "/robots.txt",
                Status = 200,
                Bytes = 68,
            }),
        ["tls handshake on the http port: kept as written in url"] = (
            """192.0.2.77 - - [01/May/2024:10:00:00 +0000] "\x16\x03\x01\x00\xF4\x01\x00\x00\xF0\x03\x03" 400 157 "-" "-" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "192.0.2.77",
                Timestamp = Utc("2024-05-01T10:00:00Z"),
                Url = @"\x16\x03\x01\x00\xF4\x01\x00\x00\xF0\x03\x03",
                Status = 400,
                Bytes = 157,
            }),
        ["a lone word in the request: url only"] = (
            """192.0.2.77 - - [01/May/2024:10:00:00 +0000] "HELLO" 400 0""",
            new AccessLogRow { ClientIp = "192.0.2.77", Timestamp = Utc("2024-05-01T10:00:00Z"), Url = "HELLO", Status = 400, Bytes = 0 }),
        ["not a method in front: url only"] = (
            """192.0.2.77 - - [01/May/2024:10:00:00 +0000] "/etc/passwd HTTP/1.1" 400 0""",
            new AccessLogRow { ClientIp = "192.0.2.77", Timestamp = Utc("2024-05-01T10:00:00Z"), Url = "/etc/passwd HTTP/1.1", Status = 400, Bytes = 0 }),
        ["escaped quotes in request and user agent"] = (
            """192.0.2.5 - - [01/May/2024:10:00:00 +0000] "GET /search?q=\"red shoes\" HTTP/1.1" 200 10 "-" "Mozilla/5.0 (compatible; \"SiteAuditor\"/2.1)" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "192.0.2.5",
                Timestamp = Utc("2024-05-01T10:00:00Z"),
                Method = "GET",
                Url = "/search?q=\"red shoes\"",
                Path = "/search",
                Query = "q=\"red shoes\"",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 10,
                UserAgent = "Mozilla/5.0 (compatible; \"SiteAuditor\"/2.1)",
            }),
        ["escaped backslash closing the referrer"] = (
            """192.0.2.5 - - [01/May/2024:10:00:00 +0000] "GET / HTTP/1.1" 200 10 "https://ex.com/a\\" "UA \"x\"" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "192.0.2.5",
                Timestamp = Utc("2024-05-01T10:00:00Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 10,
                Referrer = "https://ex.com/a\\",
                UserAgent = "UA \"x\"",
            }),
        ["unescaped quote inside the request (old apache)"] = (
            """192.0.2.5 - - [01/May/2024:10:00:00 +0000] "GET /a"b HTTP/1.0" 404 5""",
            new AccessLogRow
            {
                ClientIp = "192.0.2.5",
                Timestamp = Utc("2024-05-01T10:00:00Z"),
                Method = "GET",
                Url = "/a\"b",
                Path = "/a\"b",
                Protocol = "HTTP/1.0",
                Status = 404,
                Bytes = 5,
            }),
        ["nginx with request and upstream times appended"] = (
            """203.0.113.9 - - [02/May/2024:23:59:59 +0000] "POST /api/v1/cart/items HTTP/2.0" 201 1804 "https://shop.example.com/p/1" "Mozilla/5.0" 0.045 0.040""",
            new AccessLogRow
            {
                ClientIp = "203.0.113.9",
                Timestamp = Utc("2024-05-02T23:59:59Z"),
                Method = "POST",
                Url = "/api/v1/cart/items",
                Path = "/api/v1/cart/items",
                Protocol = "HTTP/2.0",
                Status = 201,
                Bytes = 1804,
                Referrer = "https://shop.example.com/p/1",
                UserAgent = "Mozilla/5.0",
            }),
        ["quoted cookies and key=value fields after the user agent"] = (
            """203.0.113.9 - - [02/May/2024:23:59:59 +0000] "GET / HTTP/1.1" 200 1 "-" "UA" "session=abc; theme=dark" rt=0.002 uct="0.000" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "203.0.113.9",
                Timestamp = Utc("2024-05-02T23:59:59Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 1,
                UserAgent = "UA",
            }),
        ["common format with a trailing unquoted field"] = (
            """10.0.0.1 - - [02/May/2024:12:00:00 +0000] "GET /status HTTP/1.1" 200 2326 0.004""",
            new AccessLogRow
            {
                ClientIp = "10.0.0.1",
                Timestamp = Utc("2024-05-02T12:00:00Z"),
                Method = "GET",
                Url = "/status",
                Path = "/status",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 2326,
            }),
        ["ident and user present"] = (
            """192.0.2.1 ident42 j.smith [02/May/2024:12:00:00 +0000] "PUT /files/a.txt HTTP/1.1" 201 0""",
            new AccessLogRow
            {
                ClientIp = "192.0.2.1",
                Ident = "ident42",
                AuthUser = "j.smith",
                Timestamp = Utc("2024-05-02T12:00:00Z"),
                Method = "PUT",
                Url = "/files/a.txt",
                Path = "/files/a.txt",
                Protocol = "HTTP/1.1",
                Status = 201,
                Bytes = 0,
            }),
        ["apache empty user name"] = (
            """192.0.2.1 - "" [02/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 401 381""",
            new AccessLogRow
            {
                ClientIp = "192.0.2.1",
                AuthUser = "",
                Timestamp = Utc("2024-05-02T12:00:00Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/1.1",
                Status = 401,
                Bytes = 381,
            }),
        ["percent-encoding kept as sent"] = (
            """192.0.2.1 - - [02/May/2024:12:00:00 +0000] "GET /caf%C3%A9/men%20shoes?q=a%2Bb&x= HTTP/1.1" 200 9""",
            new AccessLogRow
            {
                ClientIp = "192.0.2.1",
                Timestamp = Utc("2024-05-02T12:00:00Z"),
                Method = "GET",
                Url = "/caf%C3%A9/men%20shoes?q=a%2Bb&x=",
                Path = "/caf%C3%A9/men%20shoes",
                Query = "q=a%2Bb&x=",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 9,
            }),
        ["empty query after '?'"] = (
            """192.0.2.1 - - [02/May/2024:12:00:00 +0000] "GET /a? HTTP/1.1" 200 9""",
            new AccessLogRow
            {
                ClientIp = "192.0.2.1",
                Timestamp = Utc("2024-05-02T12:00:00Z"),
                Method = "GET",
                Url = "/a?",
                Path = "/a",
                Query = "",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 9,
            }),
        ["split at the first '?'"] = (
            """192.0.2.1 - - [02/May/2024:12:00:00 +0000] "GET /a?b=1?c=2 HTTP/1.1" 200 9""",
            new AccessLogRow
            {
                ClientIp = "192.0.2.1",
                Timestamp = Utc("2024-05-02T12:00:00Z"),
                Method = "GET",
                Url = "/a?b=1?c=2",
                Path = "/a",
                Query = "b=1?c=2",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 9,
            }),
        ["absolute target of a proxy request"] = (
            """192.0.2.1 - - [02/May/2024:12:00:00 +0000] "GET http://example.com:8080/p/q?x=1 HTTP/1.1" 200 9""",
            new AccessLogRow
            {
                ClientIp = "192.0.2.1",
                Timestamp = Utc("2024-05-02T12:00:00Z"),
                Method = "GET",
                Url = "http://example.com:8080/p/q?x=1",
                Path = "/p/q",
                Query = "x=1",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 9,
            }),
        ["absolute target without a path"] = (
            """192.0.2.1 - - [02/May/2024:12:00:00 +0000] "GET http://example.com HTTP/1.0" 200 9""",
            new AccessLogRow
            {
                ClientIp = "192.0.2.1",
                Timestamp = Utc("2024-05-02T12:00:00Z"),
                Method = "GET",
                Url = "http://example.com",
                Path = "/",
                Protocol = "HTTP/1.0",
                Status = 200,
                Bytes = 9,
            }),
        ["connect with an authority target"] = (
            """192.0.2.1 - - [02/May/2024:12:00:00 +0000] "CONNECT example.com:443 HTTP/1.1" 200 0""",
            new AccessLogRow
            {
                ClientIp = "192.0.2.1",
                Timestamp = Utc("2024-05-02T12:00:00Z"),
                Method = "CONNECT",
                Url = "example.com:443",
                Path = "example.com:443",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 0,
            }),
        ["ssdp method with a hyphen and an asterisk target"] = (
            """192.0.2.1 - - [02/May/2024:12:00:00 +0000] "M-SEARCH * HTTP/1.1" 405 0""",
            new AccessLogRow
            {
                ClientIp = "192.0.2.1",
                Timestamp = Utc("2024-05-02T12:00:00Z"),
                Method = "M-SEARCH",
                Url = "*",
                Path = "*",
                Protocol = "HTTP/1.1",
                Status = 405,
                Bytes = 0,
            }),
        ["unescaped spaces inside the target"] = (
            """192.0.2.1 - - [02/May/2024:12:00:00 +0000] "GET /a b c?d e HTTP/1.1" 400 0""",
            new AccessLogRow
            {
                ClientIp = "192.0.2.1",
                Timestamp = Utc("2024-05-02T12:00:00Z"),
                Method = "GET",
                Url = "/a b c?d e",
                Path = "/a b c",
                Query = "d e",
                Protocol = "HTTP/1.1",
                Status = 400,
                Bytes = 0,
            }),
        ["fraction of a second and an offset with a colon"] = (
            """127.0.0.1 - - [10/Oct/2000:13:55:36.123 -07:00] "GET / HTTP/1.0" 200 1""",
            new AccessLogRow
            {
                ClientIp = "127.0.0.1",
                Timestamp = Utc("2000-10-10T20:55:36.123Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/1.0",
                Status = 200,
                Bytes = 1,
            }),
        ["negative offset crossing into the next year"] = (
            """127.0.0.1 - - [31/Dec/2023:23:30:00 -0100] "GET / HTTP/1.0" 200 1""",
            new AccessLogRow
            {
                ClientIp = "127.0.0.1",
                Timestamp = Utc("2024-01-01T00:30:00Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/1.0",
                Status = 200,
                Bytes = 1,
            }),
        ["half-hour offset crossing into the previous year, lower-case month"] = (
            """127.0.0.1 - - [01/jan/2024:00:30:00 +0530] "GET / HTTP/1.0" 200 1""",
            new AccessLogRow
            {
                ClientIp = "127.0.0.1",
                Timestamp = Utc("2023-12-31T19:00:00Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/1.0",
                Status = 200,
                Bytes = 1,
            }),
        ["iso-8601 timestamp in brackets (nginx $time_iso8601)"] = (
            """127.0.0.1 - - [2024-05-01T12:00:00+02:00] "GET / HTTP/1.1" 200 1""",
            new AccessLogRow
            {
                ClientIp = "127.0.0.1",
                Timestamp = Utc("2024-05-01T10:00:00Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 1,
            }),
        ["trailing CR LF"] = (
            "127.0.0.1 - - [01/May/2024:12:00:00 +0000] \"GET / HTTP/1.1\" 200 1 \"-\" \"UA\"\r\n",
            new AccessLogRow
            {
                ClientIp = "127.0.0.1",
                Timestamp = Utc("2024-05-01T12:00:00Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 1,
                UserAgent = "UA",
            }),
        ["raw UTF-8 in the user agent and referrer"] = (
            """127.0.0.1 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "https://bücher.example/straße" "Käse-Browser/1.0 ✓" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "127.0.0.1",
                Timestamp = Utc("2024-05-01T12:00:00Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 1,
                Referrer = "https://bücher.example/straße",
                UserAgent = "Käse-Browser/1.0 ✓",
            }),
        ["utf-8 escaped as \\xhh (apache) is decoded"] = (
            """127.0.0.1 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "caf\xc3\xa9\tbot" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "127.0.0.1",
                Timestamp = Utc("2024-05-01T12:00:00Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 1,
                UserAgent = "café\tbot",
            }),
        ["a latin-1 byte escaped in the target stays as written"] = (
            """127.0.0.1 - - [01/May/2024:12:00:00 +0000] "GET /caf\xe9?q=\"x\" HTTP/1.1" 404 1""",
            new AccessLogRow
            {
                ClientIp = "127.0.0.1",
                Timestamp = Utc("2024-05-01T12:00:00Z"),
                Method = "GET",
                Url = @"/caf\xe9?q=\""x\""",
                Path = @"/caf\xe9",
                Query = @"q=\""x\""",
                Protocol = "HTTP/1.1",
                Status = 404,
                Bytes = 1,
            }),
        ["status 499 and a size past 32 bits"] = (
            """127.0.0.1 - - [01/May/2024:12:00:00 +0000] "GET /big.iso HTTP/1.1" 499 1234567890123 "-" "wget/1.21" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "127.0.0.1",
                Timestamp = Utc("2024-05-01T12:00:00Z"),
                Method = "GET",
                Url = "/big.iso",
                Path = "/big.iso",
                Protocol = "HTTP/1.1",
                Status = 499,
                Bytes = 1234567890123,
                UserAgent = "wget/1.21",
            }),
        ["http/2 and http/3 protocol names"] = (
            """127.0.0.1 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/3" 200 1""",
            new AccessLogRow
            {
                ClientIp = "127.0.0.1",
                Timestamp = Utc("2024-05-01T12:00:00Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/3",
                Status = 200,
                Bytes = 1,
            }),
        ["byte order mark and runs of spaces between fields"] = (
            "\uFEFF127.0.0.1  -  -  [01/May/2024:12:00:00 +0000]  \"GET / HTTP/1.1\"  200  1  \"-\"  \"UA\"",
            new AccessLogRow
            {
                ClientIp = "127.0.0.1",
                Timestamp = Utc("2024-05-01T12:00:00Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 1,
                UserAgent = "UA",
            }),
        ["hostname client (HostnameLookups On)"] = (
            """crawl-66-249-66-1.googlebot.com - - [01/May/2024:12:00:00 +0000] "GET /sitemap.xml HTTP/1.1" 200 1 "-" "Googlebot/2.1" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "crawl-66-249-66-1.googlebot.com",
                Timestamp = Utc("2024-05-01T12:00:00Z"),
                Method = "GET",
                Url = "/sitemap.xml",
                Path = "/sitemap.xml",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 1,
                UserAgent = "Googlebot/2.1",
            }),
        ["forwarded list with an ipv6 first hop and a port"] = (
            """2001:db8::7, 192.0.2.1:4431 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 1""",
            new AccessLogRow
            {
                ClientIp = "2001:db8::7",
                Timestamp = Utc("2024-05-01T12:00:00Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 1,
                ForwardedFor = ["2001:db8::7", "192.0.2.1:4431"],
            }),
        ["nginx $host prefix without a port"] = (
            """shop.example.com 203.0.113.7 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "-" "UA" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "203.0.113.7",
                Timestamp = Utc("2024-05-01T12:00:00Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 1,
                UserAgent = "UA",
                Vhost = "shop.example.com",
            }),
        ["forwarded list with an empty entry"] = (
            """unknown, , 198.51.100.2 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 1""",
            new AccessLogRow
            {
                ClientIp = "unknown",
                Timestamp = Utc("2024-05-01T12:00:00Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 1,
                ForwardedFor = ["unknown", "198.51.100.2"],
            }),
        ["referrer without a user agent"] = (
            """127.0.0.1 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "https://a.example/" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "127.0.0.1",
                Timestamp = Utc("2024-05-01T12:00:00Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 1,
                Referrer = "https://a.example/",
            }),
        ["empty referrer is kept empty, not null"] = (
            """127.0.0.1 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 1 "" "" """.TrimEnd(),
            new AccessLogRow
            {
                ClientIp = "127.0.0.1",
                Timestamp = Utc("2024-05-01T12:00:00Z"),
                Method = "GET",
                Url = "/",
                Path = "/",
                Protocol = "HTTP/1.1",
                Status = 200,
                Bytes = 1,
                Referrer = "",
                UserAgent = "",
            }),
    };

    public static TheoryData<string> CaseNames => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void TryParse_EdgeCaseLine_FillsEveryColumn(string name)
    {
        var (line, row) = Cases[name];
        var (ok, values, error) = Parse(line);
        Assert.True(ok, $"{name}: {error}");
        Assert.Null(error);
        var mismatches = row.Mismatches(values);
        Assert.True(mismatches.Count == 0, $"{name}:\n" + string.Join("\n", mismatches));
    }

    [Fact]
    public void Cases_CoverEnoughVariants_AtLeast25()
    {
        Assert.True(Cases.Count >= 25, $"{Cases.Count} cases");
        Assert.Equal(Cases.Count, Cases.Values.Select(c => c.Line).Distinct().Count());
    }

    [Fact]
    public void TryParse_Bytes_SameAsFromString()
    {
        // The same line as bytes with a trailing LF only, and as a slice of a larger buffer.
        var (line, row) = Cases["nginx combined"];
        var buffer = Encoding.UTF8.GetBytes("XXXX" + line + "\nYYYY");
        var (ok, values, _) = Parse(buffer.AsSpan(4, buffer.Length - 8).ToArray());
        Assert.True(ok);
        Assert.Empty(row.Mismatches(values));
    }
}
