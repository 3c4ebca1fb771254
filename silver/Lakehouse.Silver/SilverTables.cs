namespace Lakehouse.Silver;

/// <summary>Where silver's tables live in the lake (DESIGN.md, "Names that tests, scripts and users rely on").</summary>
public static class SilverTables
{
    /// <summary>The quality metrics of every run: <c>silver/_quality</c> (a dataset name cannot start with '_', so it never collides).</summary>
    public const string Quality = "silver/_quality";

    /// <summary><c>bronze/&lt;dataset&gt;</c>.</summary>
    public static string Bronze(string dataset) => "bronze/" + dataset;

    /// <summary><c>silver/&lt;dataset&gt;</c>.</summary>
    public static string Silver(string dataset) => "silver/" + dataset;

    /// <summary><c>silver/&lt;dataset&gt;_quarantine</c>.</summary>
    public static string Quarantine(string dataset) => "silver/" + dataset + "_quarantine";
}
