using Lakehouse.Storage;

namespace Lakehouse.Serve;

/// <summary>What the server's answers may say of its lake.</summary>
internal static class ClientMessages
{
    /// <summary>
    /// <paramref name="message"/> with paths in the lake named from its root (<c>gold/alerts/_delta_log/…</c>) and the lake itself as
    /// <c>&lt;lake&gt;</c>: where the lake is on the server's disk, or which account holds it, is not for HTTP clients. The server's
    /// log keeps the whole message.
    /// </summary>
    internal static string FromLakeRoot(ILakeStorage lake, string message)
    {
        var root = lake.Location.TrimEnd('/');
        return root.Length == 0 ? message : message.Replace(root + "/", "", StringComparison.Ordinal).Replace(root, "<lake>", StringComparison.Ordinal);
    }
}
