using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Lakehouse.Storage.Tests;

public sealed class AzureSharedKeyPolicyTests
{
    private static Request NewRequest()
    {
        var pipeline = HttpPipelineBuilder.Build(new AzureBlobClientOptions(new LakeStorageOptions()));
        return pipeline.CreateRequest();
    }

    [Fact]
    public void StringToSign_ListWithHeadersAndQuery_IsCanonical()
    {
        var request = NewRequest();
        request.Method = RequestMethod.Get;
        request.Uri.Reset(new Uri("http://127.0.0.1:10000/devstoreaccount1/mycontainer"));
        request.Uri.AppendQuery("restype", "container");
        request.Uri.AppendQuery("Comp", "list");
        request.Uri.AppendQuery("prefix", "a b/Ünï=1");
        request.Headers.SetValue("x-ms-version", "2021-08-06");
        request.Headers.SetValue("x-ms-date", "Mon, 01 Jan 2024 00:00:00 GMT");
        request.Headers.SetValue("X-MS-Meta-Owner", "  lake  ");
        request.Headers.SetValue("Content-Type", "application/xml");
        request.Headers.SetValue("If-None-Match", "*");

        var text = AzureSharedKeyPolicy.StringToSign("devstoreaccount1", request);

        string[] expected =
        [
            "GET", "", "", "", "", "application/xml", "", "", "", "*", "", "",
            "x-ms-date:Mon, 01 Jan 2024 00:00:00 GMT",
            "x-ms-meta-owner:lake",
            "x-ms-version:2021-08-06",
            "/devstoreaccount1/devstoreaccount1/mycontainer",
            "comp:list",
            "prefix:a b/Ünï=1",
            "restype:container",
        ];
        Assert.Equal(string.Join('\n', expected), text);
    }

    [Fact]
    public void StringToSign_PutWithBody_HasContentLengthAndEscapedPath()
    {
        var request = NewRequest();
        request.Method = RequestMethod.Put;
        request.Uri.Reset(new Uri("https://myacct.blob.core.windows.net/lake"));
        request.Uri.AppendPath("/" + AzureBlobClient.EscapeBlobName("p=a b/x%y.json"), escape: false);
        request.Headers.SetValue("x-ms-blob-type", "BlockBlob");
        request.Content = RequestContent.Create(Encoding.UTF8.GetBytes("hello world"));

        var text = AzureSharedKeyPolicy.StringToSign("myacct", request);

        Assert.Equal("PUT\n\n\n11\n\n\n\n\n\n\n\n\nx-ms-blob-type:BlockBlob\n/myacct/lake/p%3Da%20b/x%25y.json", text);
    }

    [Fact]
    public void StringToSign_EmptyBody_HasEmptyContentLength()
    {
        var request = NewRequest();
        request.Method = RequestMethod.Put;
        request.Uri.Reset(new Uri("https://myacct.blob.core.windows.net/lake/x"));
        request.Content = RequestContent.Create(ReadOnlyMemory<byte>.Empty);

        Assert.StartsWith("PUT\n\n\n\n", AzureSharedKeyPolicy.StringToSign("myacct", request), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("GET https://a.blob.core.windows.net/c/x?sv=1&sig=abc%2Bdef&se=2", "GET https://a.blob.core.windows.net/c/x?sv=1&sig=REDACTED&se=2")]
    [InlineData("see ?SIG=xyz", "see ?SIG=REDACTED")]
    [InlineData("no signature here", "no signature here")]
    public void RedactSas_TextWithSignature_HidesIt(string text, string expected)
    {
        Assert.Equal(expected, AzureBlobClient.RedactSas(text));
    }
}
