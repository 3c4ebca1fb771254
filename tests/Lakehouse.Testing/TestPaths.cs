namespace Lakehouse.Testing;

/// <summary>Where the repository and the shared conformance corpus are, found from the test binary's folder.</summary>
public static class TestPaths
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Lakehouse.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Lakehouse.sln not found above " + AppContext.BaseDirectory);
    });

    /// <summary>The repository root (the folder holding Lakehouse.sln).</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>The shared folder beside the repository (../shared), or LAKEHOUSE_SHARED when set.</summary>
    public static string Shared => Environment.GetEnvironmentVariable("LAKEHOUSE_SHARED") is { Length: > 0 } s
        ? s
        : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>The Delta conformance corpus: ../shared/conformance/delta.</summary>
    public static string DeltaConformance => Path.Combine(Shared, "conformance", "delta");
}
