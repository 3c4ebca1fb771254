using Microsoft.AspNetCore.Http;

namespace Lakehouse.Serve;

/// <summary>
/// The methods of the endpoints that only read (the dashboard, its API, /metrics, /progress): GET and HEAD. HTTP asks every
/// server to take HEAD wherever it takes GET, and monitors and <c>curl -I</c> send it; mapped as GET alone it was answered 405.
/// Kestrel sends a HEAD answer's headers (Content-Type, Content-Length) and drops its body.
/// </summary>
internal static class ReadMethods
{
    internal static readonly IReadOnlyList<string> GetAndHead = [HttpMethods.Get, HttpMethods.Head];
}
