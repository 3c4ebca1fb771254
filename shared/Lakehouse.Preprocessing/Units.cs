using System.Collections.Frozen;
using System.Text;

namespace Lakehouse.Preprocessing;

/// <summary>
/// Sensor unit → canonical unit and conversion. A pure, thread-safe function of its input; never throws.
/// </summary>
/// <remarks>
/// <para>The unit is trimmed as <see cref="TextCleaning.Clean"/> does, then compared ignoring ASCII case and spaces, with
/// <c>º</c> (ordinal indicator) and <c>˚</c> (ring) read as <c>°</c> and a mojibake <c>Â°</c> (UTF-8 read as Latin-1) as
/// <c>°</c>. Accepted spellings and what they give:</para>
/// <list type="table">
/// <item><term>°F ×1 +0</term><description><c>F</c>, <c>°F</c>, <c>℉</c>, <c>degF</c>, <c>deg F</c>, <c>degrees F</c>, <c>Fahrenheit</c>, <c>degrees Fahrenheit</c></description></item>
/// <item><term>°F ×1.8 +32</term><description><c>C</c>, <c>°C</c>, <c>℃</c>, <c>degC</c>, <c>deg C</c>, <c>degrees C</c>, <c>Celsius</c>, <c>degrees Celsius</c>, <c>centigrade</c></description></item>
/// <item><term>°F ×1.8 −459.67</term><description><c>K</c>, <c>°K</c>, <c>K</c> (U+212A), <c>kelvin</c>, <c>kelvins</c></description></item>
/// <item><term>% ×1 +0</term><description><c>%</c>, <c>percent</c>, <c>pct</c>, <c>%RH</c>, <c>RH</c>, <c>% RH</c>, <c>percent RH</c></description></item>
/// <item><term>hPa</term><description><c>hPa</c>, <c>mbar</c>, <c>mb</c>, <c>millibar(s)</c> ×1; <c>Pa</c> ×0.01; <c>kPa</c> ×10; <c>bar</c> ×1000;
/// <c>atm</c> ×1013.25; <c>inHg</c> ×33.8639; <c>mmHg</c> ×1.33322387415; <c>psi</c> ×68.9475729318</description></item>
/// <item><term>ppm</term><description><c>ppm</c>, <c>ppmv</c> ×1; <c>ppb</c> ×0.001</description></item>
/// </list>
/// <para>Anything else (blank, <c>lux</c>, <c>V</c>, a typo) is unknown: null, and silver keeps the reading as sent.</para>
/// </remarks>
public static class Units
{
    /// <summary>The canonical temperature unit (the seed's alert thresholds are in °F).</summary>
    public const string Fahrenheit = "°F";

    private static readonly FrozenDictionary<string, UnitConversion> Table = Build();

    /// <summary>The conversion of <paramref name="unit"/> to its canonical unit; null when the unit is unknown, null or blank.</summary>
    public static UnitConversion? Normalize(string? unit)
    {
        var text = TextCleaning.Clean(unit);
        return text is null || text.Length > 64 ? null : Table.GetValueOrDefault(Key(text));
    }

    /// <summary>ASCII lower case, spaces removed, º ˚ and Â° read as °.</summary>
    private static string Key(string unit)
    {
        var sb = new StringBuilder(unit.Length);
        for (var i = 0; i < unit.Length; i++)
        {
            var c = unit[i];
            if (c == 'Â' && i + 1 < unit.Length && unit[i + 1] is '°' or 'º' or '˚') continue;
            if (c == ' ' || TextCleaning.IsTrimmed(c)) continue;
            sb.Append(c switch
            {
                'º' or '˚' => '°',
                _ when char.IsAsciiLetterUpper(c) => (char)(c | 0x20),
                _ => c,
            });
        }
        return sb.ToString();
    }

    private static FrozenDictionary<string, UnitConversion> Build()
    {
        var table = new Dictionary<string, UnitConversion>(StringComparer.Ordinal);
        void Add(UnitConversion conversion, params string[] spellings)
        {
            foreach (var spelling in spellings) table.Add(Key(spelling), conversion);
        }
        Add(new(Fahrenheit, 1, 0), "F", "°F", "\u2109", "degF", "degreeF", "degreesF", "Fahrenheit", "degreesFahrenheit", "degreeFahrenheit");
        Add(new(Fahrenheit, 1.8, 32), "C", "°C", "\u2103", "degC", "degreeC", "degreesC", "Celsius", "degreesCelsius", "degreeCelsius", "centigrade");
        Add(new(Fahrenheit, 1.8, -459.67), "K", "°K", "\u212A", "kelvin", "kelvins");
        Add(new("%", 1, 0), "%", "percent", "pct", "%RH", "RH", "percentRH");
        Add(new("hPa", 1, 0), "hPa", "mbar", "mb", "millibar", "millibars");
        Add(new("hPa", 0.01, 0), "Pa");
        Add(new("hPa", 10, 0), "kPa");
        Add(new("hPa", 1000, 0), "bar");
        Add(new("hPa", 1013.25, 0), "atm");
        Add(new("hPa", 33.8639, 0), "inHg");
        Add(new("hPa", 1.33322387415, 0), "mmHg");
        Add(new("hPa", 68.9475729318, 0), "psi");
        Add(new("ppm", 1, 0), "ppm", "ppmv");
        Add(new("ppm", 0.001, 0), "ppb");
        return table.ToFrozenDictionary(StringComparer.Ordinal);
    }
}
