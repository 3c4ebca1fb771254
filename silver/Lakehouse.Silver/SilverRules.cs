using Lakehouse.Datasets;

namespace Lakehouse.Silver;

/// <summary>
/// The rules silver applies before a dataset's own expectations: a payload that cannot be read as the dataset's schema goes to
/// quarantine under one of these names (they appear in quarantine rows and quality metrics beside the expectations).
/// </summary>
public static class SilverRules
{
    /// <summary>The payload is not valid UTF-8.</summary>
    public const string InvalidUtf8 = "invalid_utf8";

    /// <summary>The payload is larger than <see cref="MaxPayloadBytes"/>.</summary>
    public const string TooLarge = "too_large";

    /// <summary>A JSON payload is not valid JSON (RFC 8259: no NaN, no raw control characters, one value).</summary>
    public const string MalformedJson = "malformed_json";

    /// <summary>A JSON payload is valid JSON but not an object.</summary>
    public const string NotAnObject = "not_an_object";

    /// <summary>A JSON object names one key twice (which one wins differs between readers, so neither is taken).</summary>
    public const string DuplicateKey = "duplicate_key";

    /// <summary>A field has a JSON type the column's type does not accept (a string holding a number is not a number).</summary>
    public const string WrongType = "wrong_type";

    /// <summary>A number does not fit its column (1e999, an integer past 64 bits), or the event time is outside the years the lake takes (<see cref="EventTimes"/>).</summary>
    public const string OutOfRange = "out_of_range";

    /// <summary>A column of the dataset's id has no value, so the event cannot be told apart from its copies.</summary>
    public const string MissingId = "missing_id";

    /// <summary>A text line does not match the dataset's text format.</summary>
    public const string Unparsable = "unparsable";

    /// <summary>The largest payload silver parses: 1 MiB. Larger events are quarantined whole (bronze keeps them too).</summary>
    public const int MaxPayloadBytes = 1 << 20;

    /// <summary>Every rule's name, of JSON and text datasets alike: no expectation may take one.</summary>
    public static IReadOnlyList<string> All { get; } = [InvalidUtf8, TooLarge, MalformedJson, NotAnObject, DuplicateKey, WrongType, OutOfRange, MissingId, Unparsable];

    /// <summary>The rules that apply to <paramref name="definition"/>'s payloads, in the order they are checked.</summary>
    public static IReadOnlyList<string> For(DatasetDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        return definition.Payload == DatasetPayloadKind.Json
            ? [InvalidUtf8, TooLarge, MalformedJson, NotAnObject, DuplicateKey, WrongType, OutOfRange, MissingId]
            : [InvalidUtf8, TooLarge, Unparsable, OutOfRange, MissingId];
    }
}
