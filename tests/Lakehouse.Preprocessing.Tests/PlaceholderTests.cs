namespace Lakehouse.Preprocessing.Tests;

public class PlaceholderTests
{
    [Fact]
    public void ModuleName_IsPreprocessing() => Assert.Equal("Lakehouse.Preprocessing", ModuleInfo.Name);
}
