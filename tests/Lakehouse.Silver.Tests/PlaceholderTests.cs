namespace Lakehouse.Silver.Tests;

public class PlaceholderTests
{
    [Fact]
    public void LayerName_IsSilver() => Assert.Equal("Lakehouse.Silver", LayerInfo.Name);
}
