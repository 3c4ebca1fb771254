namespace Lakehouse.Preprocessing;

/// <summary>
/// How to bring a reading to its canonical unit: <c>value = raw × Scale + Offset</c> (silver keeps <c>value_raw</c> and
/// <c>unit_raw</c> beside it). Temperatures go to °F: °C is (°F, 1.8, 32), K is (°F, 1.8, −459.67), °F is (°F, 1, 0).
/// </summary>
/// <param name="Unit">The canonical unit: <c>°F</c>, <c>%</c>, <c>hPa</c> or <c>ppm</c>.</param>
/// <param name="Scale">The factor applied first.</param>
/// <param name="Offset">The offset added after scaling.</param>
public sealed record UnitConversion(string Unit, double Scale, double Offset)
{
    /// <summary>
    /// <paramref name="raw"/> × <see cref="Scale"/> + <see cref="Offset"/> in IEEE double arithmetic, the same as DuckDB's
    /// <c>raw * scale + offset</c> on DOUBLE (so 37 °C gives 98.60000000000001 in both; round when presenting).
    /// </summary>
    public double Apply(double raw) => (raw * Scale) + Offset;
}
