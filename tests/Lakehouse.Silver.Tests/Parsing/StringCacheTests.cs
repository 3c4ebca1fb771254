using System.Text;
using Lakehouse.Datasets;
using Lakehouse.Datasets.Simulation;
using Lakehouse.Silver.Parsing;

namespace Lakehouse.Silver.Tests.Parsing;

public class StringCacheTests
{
    [Fact]
    public void Get_SameBytesTwice_SameInstance()
    {
        var cache = new StringCache(16);
        var first = cache.Get("Mozilla/5.0 (X11)"u8);
        Assert.Equal("Mozilla/5.0 (X11)", first);
        Assert.Same(first, cache.Get(Encoding.UTF8.GetBytes("Mozilla/5.0 (X11)")));
    }

    [Fact]
    public void Get_ManyValuesInFewSlots_AlwaysTheRightText()
    {
        var cache = new StringCache(2); // every value collides with others
        for (var round = 0; round < 3; round++)
        {
            for (var i = 0; i < 100; i++)
                Assert.Equal($"/img/{i}.webp", cache.Get(Encoding.UTF8.GetBytes($"/img/{i}.webp")));
        }
    }

    [Theory]
    [InlineData("Käse-Browser/1.0 ✓")]
    [InlineData("")]
    public void Get_NonAsciiOrEmpty_DecodedText(string text)
    {
        var cache = new StringCache(4);
        Assert.Equal(text, cache.Get(Encoding.UTF8.GetBytes(text)));
        Assert.Equal(text, cache.Get(Encoding.UTF8.GetBytes(text)));
    }

    [Fact]
    public void Get_LongValue_NotCachedButRight()
    {
        var cache = new StringCache(4);
        var text = new string('a', 300);
        var first = cache.Get(Encoding.UTF8.GetBytes(text));
        var second = cache.Get(Encoding.UTF8.GetBytes(text));
        Assert.Equal(text, second);
        Assert.NotSame(first, second);
    }

    [Fact]
    public void Constructor_NotAPowerOfTwo_Throws() => Assert.Throws<ArgumentOutOfRangeException>(() => new StringCache(12));

    [Fact]
    public void TryParse_OneParserOnFourThreads_SameValuesAsOneThread()
    {
        var lines = EventSimulator.Generate("accesslogs", new SimulatorOptions { Seed = 3, Events = 20_000 }).Select(e => e.Payload).ToArray();
        var definition = DatasetCatalog.BuiltIn.Get("accesslogs");
        var expected = lines.Select(line =>
        {
            var values = new object?[15];
            Assert.True(TextLineParsers.For(definition).TryParse(line, values, out _));
            return Render(values);
        }).ToArray();
        var shared = TextLineParsers.For(definition);
        var mismatches = 0;
        Parallel.For(0, 4, new ParallelOptions { MaxDegreeOfParallelism = 4 }, worker =>
        {
            var values = new object?[15];
            for (var i = 0; i < lines.Length; i++)
            {
                var k = (i + (worker * 5_000)) % lines.Length; // the threads work on different lines at the same time
                if (!shared.TryParse(lines[k], values, out _) || Render(values) != expected[k]) Interlocked.Increment(ref mismatches);
            }
        });
        Assert.Equal(0, mismatches);
    }

    private static string Render(object?[] values) => string.Join("|", values.Select(AccessLogRow.Show));
}
