namespace Lakehouse.Testing;

/// <summary>File helpers for tests that work on copies of corpus tables.</summary>
public static class TestFiles
{
    /// <summary>Copies a folder tree, creating <paramref name="to"/> as needed.</summary>
    public static void CopyTree(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var dir in Directory.GetDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (var file in Directory.GetFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)), overwrite: true);
    }
}
