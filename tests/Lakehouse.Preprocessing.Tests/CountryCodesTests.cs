namespace Lakehouse.Preprocessing.Tests;

public sealed class CountryCodesTests
{
    public static TheoryData<string?, string?> Cases => new()
    {
        // Codes in any case, trimmed.
        { "US", "US" }, { "us", "US" }, { " us ", "US" }, { "\u00A0fr\t", "FR" }, { "de\0", "DE" }, { "Gb", "GB" },
        { "USA", "US" }, { "usa", "US" }, { "DEU", "DE" }, { "gbr", "GB" }, { "Ind", "IN" }, { "KOR", "KR" }, { "PRK", "KP" },
        // Names and aliases.
        { "United States", "US" }, { "united states of america", "US" }, { "U.S.A.", "US" }, { "U.S.", "US" }, { "America", "US" },
        { "UK", "GB" }, { "uk", "GB" }, { "U.K.", "GB" }, { "United Kingdom", "GB" }, { "Great Britain", "GB" }, { "England", "GB" },
        { "Scotland", "GB" }, { "Northern Ireland", "GB" },
        { "Germany", "DE" }, { "GERMANY", "DE" }, { "  germany  ", "DE" }, { "Deutschland", "DE" },
        { "Netherlands", "NL" }, { "The Netherlands", "NL" }, { "the netherlands", "NL" }, { "Holland", "NL" },
        { "South Korea", "KR" }, { "Korea, Republic of", "KR" }, { "Korea (Republic of)", "KR" }, { "Republic of Korea", "KR" },
        { "North Korea", "KP" }, { "Korea, Democratic People's Republic of", "KP" },
        { "Côte d'Ivoire", "CI" }, { "Cote d\u2019Ivoire", "CI" }, { "COTE D'IVOIRE", "CI" }, { "Ivory Coast", "CI" },
        { "Türkiye", "TR" }, { "Turkiye", "TR" }, { "Turkey", "TR" },
        { "Czech Republic", "CZ" }, { "Czechia", "CZ" }, { "Russia", "RU" }, { "Russian Federation", "RU" }, { "Viet Nam", "VN" },
        { "Vietnam", "VN" }, { "Åland Islands", "AX" }, { "Aland Islands", "AX" }, { "Curaçao", "CW" }, { "Curacao", "CW" },
        { "São Tomé and Príncipe", "ST" }, { "Sao Tome & Principe", "ST" }, { "Trinidad & Tobago", "TT" }, { "Bonaire, Sint Eustatius and Saba", "BQ" },
        { "Congo", "CG" }, { "DR Congo", "CD" }, { "Democratic Republic of the Congo", "CD" }, { "Congo, The Democratic Republic of the", "CD" },
        { "Macedonia", "MK" }, { "North Macedonia", "MK" }, { "Swaziland", "SZ" }, { "Burma", "MM" }, { "Hong Kong", "HK" },
        { "Bahamas", "BS" }, { "The Bahamas", "BS" }, { "Gambia", "GM" }, { "Iran, Islamic Republic of", "IR" }, { "Iran", "IR" },
        { "Bolivia, Plurinational State of", "BO" }, { "Taiwan, Province of China", "TW" }, { "Holy See (Vatican City State)", "VA" },
        { "Virgin Islands, U.S.", "VI" }, { "Virgin Islands, British", "VG" }, { "UAE", "AE" }, { "Ger-many", "DE" },
        { "China", "CN" }, { "Japan", "JP" }, { "Brazil", "BR" }, { "Brasil", "BR" }, { "India", "IN" }, { "Mexico", "MX" }, { "México", "MX" },
        // Unknown: null.
        { null, null }, { "", null }, { "   ", null }, { "XK", null }, { "Kosovo", null }, { "EU", null }, { "EL", null }, { "840", null },
        { "Atlantis", null }, { "U", null }, { "USAA", null }, { "ZZ", null }, { "ZZZ", null }, { "the", null }, { "-", null },
        { "United", null }, { "Republic of Austria", null }, { "U S", "US" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Normalize_Table_ReturnsExpected(string? input, string? expected) => Assert.Equal(expected, CountryCodes.Normalize(input));

    [Fact]
    public void Normalize_EveryAssignedCode_RoundTrips()
    {
        Assert.Equal(249, CountryCodes.Codes.Count);
        Assert.Equal(CountryCodes.Codes.Select(c => c.Alpha2).Order(StringComparer.Ordinal), CountryCodes.Codes.Select(c => c.Alpha2));
        foreach (var (alpha2, alpha3) in CountryCodes.Codes)
        {
            Assert.Matches("^[A-Z]{2}$", alpha2);
            Assert.Matches("^[A-Z]{3}$", alpha3);
            Assert.Equal(alpha2, CountryCodes.Normalize(alpha2));
            Assert.Equal(alpha2, CountryCodes.Normalize(alpha2.ToLowerInvariant()));
            Assert.Equal(alpha2, CountryCodes.Normalize(alpha3));
            Assert.Equal(alpha2, CountryCodes.Normalize(alpha3.ToLowerInvariant()));
        }
    }

    [Fact]
    public void Normalize_SimulatorCountries_AllResolve()
    {
        Assert.Equal(20, Simulator.Countries.Count);
        foreach (var (alpha2, alpha3) in Simulator.Countries)
        {
            Assert.Equal(alpha2, CountryCodes.Normalize(alpha2));
            Assert.Equal(alpha2, CountryCodes.Normalize(alpha2.ToLowerInvariant()));
            Assert.Equal(alpha2, CountryCodes.Normalize(alpha3));
        }
    }

    [Fact]
    public void Normalize_ReturnsTheTablesInstance_ForACode()
    {
        var first = CountryCodes.Normalize("de");
        Assert.Same(first, CountryCodes.Normalize("DEU"));
    }

    [Fact]
    public void Normalize_HostileInput_NeverThrows()
    {
        Assert.Null(CountryCodes.Normalize(new string('a', 100_000)));
        Assert.Null(CountryCodes.Normalize(new string('\0', 100_000)));
        Assert.Null(CountryCodes.Normalize("\uD800\uD800"));
        Assert.Equal("US", CountryCodes.Normalize("U\uD800S"));
        Assert.Equal("US", CountryCodes.Normalize("\uD800US"));      // a lone surrogate is not a letter: ignored like punctuation in names
        Assert.Null(CountryCodes.Normalize("😀"));
        Assert.Equal("DE", CountryCodes.Normalize(string.Concat(Enumerable.Repeat(" ", 50_000)) + "Germany"));
    }
}
