using System.Globalization;
using Lakehouse.Testing;

namespace Lakehouse.Preprocessing.Tests;

public sealed class UnitsTests(EngineFixture fixture) : IClassFixture<EngineFixture>
{
    private static readonly UnitConversion FromF = new("°F", 1, 0);
    private static readonly UnitConversion FromC = new("°F", 1.8, 32);
    private static readonly UnitConversion FromK = new("°F", 1.8, -459.67);

    public static TheoryData<string?, string?, double, double> Cases => new()
    {
        // Temperatures, as the simulator sends them and as others do.
        { "F", "°F", 1, 0 }, { "°F", "°F", 1, 0 }, { "f", "°F", 1, 0 }, { " °f ", "°F", 1, 0 }, { "\u2109", "°F", 1, 0 }, { "degF", "°F", 1, 0 },
        { "deg F", "°F", 1, 0 }, { "degrees F", "°F", 1, 0 }, { "Fahrenheit", "°F", 1, 0 }, { "FAHRENHEIT", "°F", 1, 0 }, { "ºF", "°F", 1, 0 },
        { "Â°F", "°F", 1, 0 },
        { "C", "°F", 1.8, 32 }, { "°C", "°F", 1.8, 32 }, { "c", "°F", 1.8, 32 }, { "\u2103", "°F", 1.8, 32 }, { "celsius", "°F", 1.8, 32 },
        { "Celsius", "°F", 1.8, 32 }, { "degrees Celsius", "°F", 1.8, 32 }, { "deg C", "°F", 1.8, 32 }, { "centigrade", "°F", 1.8, 32 },
        { "˚C", "°F", 1.8, 32 }, { "Â°C", "°F", 1.8, 32 }, { "\t°C\r\n", "°F", 1.8, 32 },
        { "K", "°F", 1.8, -459.67 }, { "kelvin", "°F", 1.8, -459.67 }, { "\u212A", "°F", 1.8, -459.67 }, { "°K", "°F", 1.8, -459.67 },
        // Other units: canonical spelling, most unchanged.
        { "%", "%", 1, 0 }, { "percent", "%", 1, 0 }, { "%RH", "%", 1, 0 }, { "% rh", "%", 1, 0 }, { "pct", "%", 1, 0 },
        { "hPa", "hPa", 1, 0 }, { "HPA", "hPa", 1, 0 }, { "mbar", "hPa", 1, 0 }, { "mb", "hPa", 1, 0 }, { "millibars", "hPa", 1, 0 },
        { "Pa", "hPa", 0.01, 0 }, { "kPa", "hPa", 10, 0 }, { "bar", "hPa", 1000, 0 }, { "atm", "hPa", 1013.25, 0 }, { "inHg", "hPa", 33.8639, 0 },
        { "mmHg", "hPa", 1.33322387415, 0 }, { "psi", "hPa", 68.9475729318, 0 },
        { "ppm", "ppm", 1, 0 }, { "PPM", "ppm", 1, 0 }, { "ppmv", "ppm", 1, 0 }, { "ppb", "ppm", 0.001, 0 },
        // Unknown.
        { null, null, 0, 0 }, { "", null, 0, 0 }, { " ", null, 0, 0 }, { "°", null, 0, 0 }, { "lux", null, 0, 0 }, { "V", null, 0, 0 },
        { "CC", null, 0, 0 }, { "degrees", null, 0, 0 }, { "°X", null, 0, 0 }, { "Â", null, 0, 0 }, { "C°", null, 0, 0 },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Normalize_Table_ReturnsExpected(string? unit, string? canonical, double scale, double offset)
    {
        var result = Units.Normalize(unit);
        if (canonical is null) Assert.Null(result);
        else Assert.Equal(new UnitConversion(canonical, scale, offset), result);
    }

    [Theory]
    [InlineData("C", 0, 32)]
    [InlineData("C", 100, 212)]
    [InlineData("C", -40, -40)]
    [InlineData("C", 20, 68)]
    [InlineData("C", 37, 98.60000000000001)]      // IEEE doubles, as DuckDB computes them too
    [InlineData("°C", 2.5, 36.5)]
    [InlineData("F", 71.3, 71.3)]
    [InlineData("°F", -40, -40)]
    [InlineData("K", 0, -459.67)]
    [InlineData("K", 233.15, -40)]
    [InlineData("K", 273.15, 31.999999999999943)]
    [InlineData("%", 45.5, 45.5)]
    [InlineData("mbar", 1013.25, 1013.25)]
    [InlineData("kPa", 101.325, 1013.25)]
    [InlineData("ppb", 450_000, 450)]
    public void Apply_KnownValues_AreExact(string unit, double raw, double expected) =>
        Assert.Equal(expected, Units.Normalize(unit)!.Apply(raw));

    [Fact]
    public void Normalize_SimulatorUnits_AllKnown()
    {
        Assert.Equal(FromF, Units.Normalize("F"));
        Assert.Equal(FromF, Units.Normalize("°F"));
        Assert.Equal(FromC, Units.Normalize("C"));
        Assert.Equal(FromC, Units.Normalize("°C"));
        Assert.Equal(FromK, Units.Normalize("K"));
        Assert.Equal("%", Units.Normalize("%")!.Unit);
        Assert.Equal("hPa", Units.Normalize("hPa")!.Unit);
        Assert.Equal("ppm", Units.Normalize("ppm")!.Unit);
        Assert.Equal("°F", Units.Fahrenheit);
    }

    [Fact]
    public void Apply_InDuckDb_GivesTheSameDoubles()
    {
        double[] raws = [0, 100, -40, 37, 36.6, 21.37, -17.78, 98.6, 233.15, 1013.25, 0.1, 1e-9, 12345.678];
        var conversions = new[] { "C", "F", "K", "kPa", "inHg", "mmHg", "psi", "ppb" }.Select(u => Units.Normalize(u)!).ToList();
        var rows = new List<string>();
        var expected = new List<double>();
        foreach (var c in conversions)
        {
            foreach (var raw in raws)
            {
                rows.Add($"({rows.Count.ToString(CultureInfo.InvariantCulture)}, {D(raw)}, {D(c.Scale)}, {D(c.Offset)})");
                expected.Add(c.Apply(raw));
            }
        }
        // All in DOUBLE: DECIMAL arithmetic (DuckDB types a literal 1.8 as DECIMAL) would give 98.6 where doubles give 98.60000000000001.
        var sql = "SELECT CAST(raw AS DOUBLE) * CAST(scale AS DOUBLE) + CAST(\"offset\" AS DOUBLE) FROM (VALUES "
            + string.Join(", ", rows) + ") AS t(n, raw, scale, \"offset\") ORDER BY n";
        using var lease = fixture.Engine.Lease();
        using var result = lease.Connection.Query(sql);
        var i = 0;
        while (result.Read())
        {
            Assert.Equal(BitConverter.DoubleToInt64Bits(expected[i]), BitConverter.DoubleToInt64Bits(result.GetDouble(0)));
            i++;
        }
        Assert.Equal(expected.Count, i);

        static string D(double d) => "'" + d.ToString("R", CultureInfo.InvariantCulture) + "'";
    }

    [Fact]
    public void Normalize_HostileInput_NeverThrows()
    {
        Assert.Null(Units.Normalize(new string('C', 100_000)));
        Assert.Null(Units.Normalize("\0"));
        Assert.Equal(FromC, Units.Normalize("\0C\0"));
        Assert.Null(Units.Normalize("\uD800C"));
        Assert.Null(Units.Normalize("°\uDC00"));
        Assert.Equal(FromC, Units.Normalize(new string(' ', 100_000) + "C"));
    }
}
