using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Lakehouse.Storage.Tests;

/// <summary>
/// Builds a service SAS for a container (signed resource "c"), signed with the account key as the
/// "Create a service SAS" specification says for version 2020-12-06 and later.
/// </summary>
internal static class ServiceSas
{
    public const string Version = "2021-08-06";

    public static string ForContainer(string accountName, string accountKey, string container, string permissions, TimeSpan? validFor = null)
    {
        var start = DateTimeOffset.UtcNow.AddMinutes(-5).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        var expiry = DateTimeOffset.UtcNow.Add(validFor ?? TimeSpan.FromHours(1)).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        const string protocol = "https,http";
        string[] fields =
        [
            permissions, start, expiry, $"/blob/{accountName}/{container}",
            "", // signed identifier
            "", // signed IP
            protocol, Version,
            "c", // signed resource
            "", // snapshot time
            "", // encryption scope
            "", "", "", "", "", // rscc, rscd, rsce, rscl, rsct
        ];
        var signature = Convert.ToBase64String(HMACSHA256.HashData(Convert.FromBase64String(accountKey), Encoding.UTF8.GetBytes(string.Join('\n', fields))));
        return $"sv={Version}&sr=c&sp={permissions}&st={Uri.EscapeDataString(start)}&se={Uri.EscapeDataString(expiry)}&spr={Uri.EscapeDataString(protocol)}&sig={Uri.EscapeDataString(signature)}";
    }

    /// <summary>The signature of a SAS token, URL-decoded.</summary>
    public static string Signature(string sasToken) =>
        Uri.UnescapeDataString(sasToken.Split('&').Single(p => p.StartsWith("sig=", StringComparison.Ordinal))[4..]);
}
