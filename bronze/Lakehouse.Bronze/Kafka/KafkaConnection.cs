using System.Globalization;
using System.Text;
using Confluent.Kafka;
using Lakehouse.Core;

namespace Lakehouse.Bronze.Kafka;

/// <summary>
/// Where and how to reach a Kafka topic: the brokers and topic of a <c>kafka://host:port[,host:port]/topic</c> URI, and the security
/// settings from configuration (environment variables by default). The same code reaches Kafka itself and Event Hubs' Kafka
/// endpoint: with <see cref="ConnectionStringVariable"/> set, the client speaks SASL_SSL with mechanism PLAIN, user
/// <c>$ConnectionString</c> and the connection string as password, on port 9093 unless the URI names another.
/// </summary>
/// <remarks>
/// Secrets (the connection string, a SASL password, a key password) are only ever in <see cref="Properties"/>: <see cref="ToString"/>
/// and <see cref="Describe()"/>, which the logs use, print every setting but those.
/// </remarks>
internal sealed class KafkaConnection
{
    /// <summary>An Event Hubs namespace connection string (<c>Endpoint=sb://NS.servicebus.windows.net/;SharedAccessKeyName=…;SharedAccessKey=…</c>).</summary>
    internal const string ConnectionStringVariable = "LAKEHOUSE_KAFKA_CONNECTION_STRING";

    /// <summary><c>plaintext</c>, <c>ssl</c>, <c>sasl_plaintext</c> or <c>sasl_ssl</c>.</summary>
    internal const string SecurityProtocolVariable = "LAKEHOUSE_KAFKA_SECURITY_PROTOCOL";

    /// <summary><c>PLAIN</c> (default), <c>SCRAM-SHA-256</c> or <c>SCRAM-SHA-512</c>.</summary>
    internal const string SaslMechanismVariable = "LAKEHOUSE_KAFKA_SASL_MECHANISM";

    /// <summary>The SASL user name.</summary>
    internal const string SaslUsernameVariable = "LAKEHOUSE_KAFKA_SASL_USERNAME";

    /// <summary>The SASL password (a secret).</summary>
    internal const string SaslPasswordVariable = "LAKEHOUSE_KAFKA_SASL_PASSWORD";

    /// <summary>A PEM file of the certificate authorities to trust (default: the system's).</summary>
    internal const string SslCaLocationVariable = "LAKEHOUSE_KAFKA_SSL_CA_LOCATION";

    /// <summary>The client's certificate (PEM file), for brokers that authenticate clients by TLS.</summary>
    internal const string SslCertificateLocationVariable = "LAKEHOUSE_KAFKA_SSL_CERTIFICATE_LOCATION";

    /// <summary>The client's private key (PEM file).</summary>
    internal const string SslKeyLocationVariable = "LAKEHOUSE_KAFKA_SSL_KEY_LOCATION";

    /// <summary>The password of the client's private key (a secret).</summary>
    internal const string SslKeyPasswordVariable = "LAKEHOUSE_KAFKA_SSL_KEY_PASSWORD";

    /// <summary>Further librdkafka properties, <c>name=value;name=value</c> (e.g. <c>session.timeout.ms=10000</c>).</summary>
    internal const string PropertiesVariable = "LAKEHOUSE_KAFKA_PROPERTIES";

    /// <summary>Port of Kafka when the URI names none.</summary>
    internal const int KafkaPort = 9092;

    /// <summary>Port of Event Hubs' Kafka endpoint.</summary>
    internal const int EventHubsPort = 9093;

    /// <summary>Properties whose values are secrets: never printed.</summary>
    private static readonly HashSet<string> SecretProperties = new(StringComparer.Ordinal)
    {
        "sasl.password", "ssl.key.password", "ssl.keystore.password", "ssl.key.pem", "sasl.oauthbearer.client.secret",
    };

    /// <summary>
    /// Properties <see cref="PropertiesVariable"/> may not set: the ones this class derives from the URI and the other variables
    /// (one source of truth each), and the ones bronze's exactly-once relies on (the consumer never commits or resets by itself;
    /// the producer keeps acks=all and idempotence).
    /// </summary>
    private static readonly HashSet<string> ReservedProperties = new(StringComparer.Ordinal)
    {
        "bootstrap.servers", "metadata.broker.list", "group.id", "enable.auto.commit", "enable.auto.offset.store", "auto.offset.reset",
        "enable.partition.eof", "security.protocol", "sasl.mechanism", "sasl.mechanisms", "sasl.username", "sasl.password",
        "acks", "request.required.acks", "enable.idempotence",
    };

    private readonly Dictionary<string, string> _properties;

    private KafkaConnection(string topic, string bootstrapServers, Dictionary<string, string> properties, bool eventHubs)
    {
        Topic = topic;
        BootstrapServers = bootstrapServers;
        _properties = properties;
        IsEventHubs = eventHubs;
    }

    /// <summary>The topic (an event hub, on Event Hubs' Kafka endpoint).</summary>
    internal string Topic { get; }

    /// <summary>The brokers, <c>host:port,host:port</c>.</summary>
    internal string BootstrapServers { get; }

    /// <summary>True when the connection goes to Event Hubs' Kafka endpoint with a connection string.</summary>
    internal bool IsEventHubs { get; }

    /// <summary>The librdkafka properties common to consumers and producers, secrets included: never log these.</summary>
    internal IReadOnlyDictionary<string, string> Properties => _properties;

    /// <summary>
    /// The connection of <paramref name="uri"/> (<c>kafka://host[:port][,host[:port]]/topic</c>) with the security settings that
    /// <paramref name="setting"/> gives (an environment variable's value by name). Bad values fail with InvalidInput naming the
    /// variable, never printing a secret.
    /// </summary>
    internal static KafkaConnection FromUri(string uri, Func<string, string?> setting)
    {
        ArgumentNullException.ThrowIfNull(uri);
        ArgumentNullException.ThrowIfNull(setting);
        string? Get(string name) => setting(name) is { Length: > 0 } value ? value.Trim() : null;

        var connectionString = Get(ConnectionStringVariable);
        (string Host, string? EntityPath)? eventHubs = connectionString is not null ? EventHubsEndpoint(connectionString) : null;
        var (brokers, topic) = ParseUri(uri, eventHubs is not null ? EventHubsPort : KafkaPort);
        var properties = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["bootstrap.servers"] = string.Join(',', brokers.Select(b => $"{b.Host}:{b.Port.ToString(CultureInfo.InvariantCulture)}")),
            ["client.id"] = "lakehouse",
        };

        var protocol = Get(SecurityProtocolVariable)?.ToLowerInvariant();
        var mechanism = Get(SaslMechanismVariable)?.ToUpperInvariant();
        var username = Get(SaslUsernameVariable);
        var password = setting(SaslPasswordVariable) is { Length: > 0 } p ? p : null;
        if (protocol is not null and not ("plaintext" or "ssl" or "sasl_plaintext" or "sasl_ssl"))
            throw Invalid($"{SecurityProtocolVariable} must be plaintext, ssl, sasl_plaintext or sasl_ssl, not '{protocol}'.");
        if (mechanism is not null and not ("PLAIN" or "SCRAM-SHA-256" or "SCRAM-SHA-512"))
            throw Invalid($"{SaslMechanismVariable} must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, not '{mechanism}'.");

        if (eventHubs is not null)
        {
            if (username is not null || password is not null || mechanism is not null || protocol is not null and not "sasl_ssl")
                throw Invalid($"{ConnectionStringVariable} (Event Hubs) sets the security itself: leave {SecurityProtocolVariable}, {SaslMechanismVariable}, " +
                    $"{SaslUsernameVariable} and {SaslPasswordVariable} unset.");
            var (host, entityPath) = eventHubs.Value;
            var mismatch = brokers.FirstOrDefault(b => !string.Equals(b.Host, host, StringComparison.OrdinalIgnoreCase));
            if (mismatch != default)
                throw Invalid($"{ConnectionStringVariable} is for the Event Hubs namespace '{host}', but the URI names the broker '{mismatch.Host}': " +
                    $"the connection string is sent only to its own namespace (use kafka://{host}:{EventHubsPort}/<event hub>).");
            if (entityPath is not null && !string.Equals(entityPath, topic, StringComparison.Ordinal))
                throw Invalid($"{ConnectionStringVariable} is for the event hub '{entityPath}' only, but the URI names the topic '{topic}'.");
            properties["security.protocol"] = "sasl_ssl";
            properties["sasl.mechanism"] = "PLAIN";
            properties["sasl.username"] = "$ConnectionString";
            properties["sasl.password"] = connectionString!;
            // Event Hubs closes idle connections after 240 s and recommends refreshing metadata before that (its Kafka guidance).
            properties["socket.keepalive.enable"] = "true";
            properties["metadata.max.age.ms"] = "180000";
        }
        else
        {
            if (password is not null && username is null)
                throw Invalid($"{SaslPasswordVariable} is set but {SaslUsernameVariable} is not.");
            if (username is not null && password is null)
                throw Invalid($"{SaslUsernameVariable} is set but {SaslPasswordVariable} is not.");
            var sasl = username is not null || mechanism is not null;
            var tls = Get(SslCaLocationVariable) is not null || Get(SslCertificateLocationVariable) is not null;
            // A password is never sent in clear text unless the user says so: SASL defaults to sasl_ssl.
            protocol ??= sasl ? "sasl_ssl" : tls ? "ssl" : "plaintext";
            if (sasl && protocol is "plaintext" or "ssl")
                throw Invalid($"SASL settings ({SaslUsernameVariable}, {SaslMechanismVariable}) need {SecurityProtocolVariable} sasl_ssl or sasl_plaintext, not '{protocol}'.");
            if (protocol is "sasl_plaintext" or "sasl_ssl" && username is null)
                throw Invalid($"{SecurityProtocolVariable} is '{protocol}' but {SaslUsernameVariable} and {SaslPasswordVariable} are not set.");
            properties["security.protocol"] = protocol;
            if (username is not null)
            {
                properties["sasl.mechanism"] = mechanism ?? "PLAIN";
                properties["sasl.username"] = username;
                properties["sasl.password"] = password!;
            }
        }

        foreach (var (variable, property) in new[]
        {
            (SslCaLocationVariable, "ssl.ca.location"),
            (SslCertificateLocationVariable, "ssl.certificate.location"),
            (SslKeyLocationVariable, "ssl.key.location"),
        })
        {
            if (Get(variable) is not { } path) continue;
            if (!File.Exists(path)) throw Invalid($"{variable} names '{path}', which is not a file.");
            properties[property] = path;
        }
        if (setting(SslKeyPasswordVariable) is { Length: > 0 } keyPassword) properties["ssl.key.password"] = keyPassword;
        if (properties.TryGetValue("security.protocol", out var chosen) && chosen is "plaintext" or "sasl_plaintext" &&
            properties.Keys.Any(k => k.StartsWith("ssl.", StringComparison.Ordinal)))
            throw Invalid($"TLS files are configured but {SecurityProtocolVariable} is '{chosen}': use ssl or sasl_ssl.");

        if (Get(PropertiesVariable) is { } extra)
        {
            var items = extra.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            for (var i = 0; i < items.Length; i++)
            {
                var item = items[i];
                // The item's text is not shown: a mistyped one ("ssl.key.password:…") may hold a secret.
                LakehouseException Refused(string problem, string hint) =>
                    Invalid($"{PropertiesVariable}: item {i + 1} of {items.Length} {problem} ({hint}; its text is not shown, as it may hold a secret).");
                var eq = item.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0) throw Refused("is not name=value", "items are separated by ';'");
                var name = item[..eq].Trim().ToLowerInvariant();
                if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
                    throw Refused("does not start with a property name", "letters, digits, '.', '_' and '-'");
                if (ReservedProperties.Contains(name))
                    throw Invalid($"{PropertiesVariable} may not set '{name}': the URI and the other LAKEHOUSE_KAFKA_* variables set it, or bronze's exactly-once depends on its value.");
                properties[name] = item[(eq + 1)..].Trim();
            }
        }
        return new KafkaConnection(topic, properties["bootstrap.servers"], properties, eventHubs is not null);

    }

    /// <summary>The configuration of a bronze consumer in <paramref name="group"/>: no automatic commits or offset resets by the client.</summary>
    internal ConsumerConfig ConsumerConfig(string group)
    {
        var config = new ConsumerConfig(new Dictionary<string, string>(_properties, StringComparer.Ordinal))
        {
            GroupId = group,
            EnableAutoCommit = false,
            EnableAutoOffsetStore = false,
            EnablePartitionEof = true,
            // Bronze's position no longer on the broker (retention deleted it, even while it was being read) is an error the source
            // handles: it logs the loss and goes on from the earliest event left, where a reset by the client would say nothing.
            AutoOffsetReset = AutoOffsetReset.Error,
        };
        if (!_properties.ContainsKey("partition.assignment.strategy")) config.PartitionAssignmentStrategy = PartitionAssignmentStrategy.CooperativeSticky;
        return config;
    }

    /// <summary>The configuration of a producer: every in-sync replica acknowledges, and retries never duplicate or reorder.</summary>
    internal ProducerConfig ProducerConfig()
    {
        var config = new ProducerConfig(new Dictionary<string, string>(_properties, StringComparer.Ordinal))
        {
            Acks = Acks.All,
            EnableIdempotence = true,
        };
        if (!_properties.ContainsKey("linger.ms")) config.LingerMs = 5;
        return config;
    }

    /// <summary>How long a client waits for the brokers to answer a metadata or offsets request before the command fails.</summary>
    internal static readonly TimeSpan BrokerTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The error when no broker answered a request about the topic within <paramref name="timeout"/>.</summary>
    internal LakehouseException Unreachable(KafkaException e, TimeSpan timeout) =>
        new(LakehouseErrorReason.Storage, $"Kafka at {BootstrapServers} did not answer for topic '{Topic}' within {timeout.TotalSeconds:0} s ({e.Error.Code}): {e.Error.Reason}", e);

    /// <summary>Every setting with the secrets replaced by <c>***</c>, for logs and error messages.</summary>
    internal string Describe() => Describe(_properties);

    /// <summary>The settings of <paramref name="config"/> with the secrets replaced by <c>***</c>.</summary>
    internal static string Describe(IEnumerable<KeyValuePair<string, string>> config) =>
        string.Join(", ", config.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={(SecretProperties.Contains(p.Key) ? "***" : p.Value)}"));

    /// <inheritdoc />
    public override string ToString() => $"kafka topic '{Topic}' ({Describe()})";

    /// <summary>Brokers and topic of a kafka:// URI.</summary>
    internal static (IReadOnlyList<(string Host, int Port)> Brokers, string Topic) ParseUri(string uri, int defaultPort)
    {
        const string scheme = "kafka://";
        // Neither a host, a port nor a topic holds '@', '?' or '#': what follows them may be a password or a token, which no
        // message may show (the other messages below show the URI whole).
        if (uri.Contains('@', StringComparison.Ordinal))
            throw Invalid($"The Kafka URI holds user information ('…@'), which is not taken: write kafka://host:port[,host:port]/topic and give credentials in {SaslUsernameVariable} and {SaslPasswordVariable} (or {ConnectionStringVariable}).");
        if (uri.IndexOfAny(['?', '#']) is var query and >= 0)
            throw Invalid($"'{uri[..query]}' is followed by a query or fragment, which is not taken: write kafka://host:port[,host:port]/topic and give settings in {PropertiesVariable}.");
        if (!uri.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
            throw Invalid($"'{uri}' is not a Kafka URI: kafka://host:port[,host:port]/topic.");
        var rest = uri[scheme.Length..];
        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0 || slash == rest.Length - 1)
            throw Invalid($"'{uri}' names no topic: kafka://host:port[,host:port]/topic.");
        var topic = Uri.UnescapeDataString(rest[(slash + 1)..]);
        // Kafka's own rule for topic names (Event Hubs names fit it too).
        if (topic.Length > 249 || topic is "." or ".." || topic.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-')))
            throw Invalid($"'{topic}' is not a Kafka topic name (letters, digits, '.', '_' and '-', at most 249).");
        var brokers = new List<(string, int)>();
        foreach (var part in rest[..slash].Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Length == 0) throw Invalid($"'{uri}' has an empty broker in its list: kafka://host:port[,host:port]/topic.");
            string host;
            var port = defaultPort;
            if (part.StartsWith('['))
            {
                // [IPv6]:port
                var close = part.IndexOf(']', StringComparison.Ordinal);
                if (close < 0) throw Invalid($"'{part}' in '{uri}' is not host:port.");
                host = part[..(close + 1)];
                if (close + 1 < part.Length)
                {
                    if (part[close + 1] != ':') throw Invalid($"'{part}' in '{uri}' is not host:port.");
                    port = Port(part[(close + 2)..], uri);
                }
            }
            else
            {
                var colon = part.LastIndexOf(':');
                host = colon < 0 ? part : part[..colon];
                if (colon >= 0) port = Port(part[(colon + 1)..], uri);
            }
            if (host.Length == 0 || host.Any(c => char.IsWhiteSpace(c) || c is '@' or '?' or '#'))
                throw Invalid($"'{part}' in '{uri}' is not host:port.");
            brokers.Add((host, port));
        }
        return (brokers, topic);
    }

    private static int Port(string text, string uri) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var port) && port is > 0 and <= 65535
            ? port
            : throw Invalid($"'{text}' in '{uri}' is not a port (1–65535).");

    /// <summary>The namespace host and entity path of an Event Hubs connection string; never prints the string.</summary>
    private static (string Host, string? EntityPath) EventHubsEndpoint(string connectionString)
    {
        string? endpoint = null, entityPath = null;
        bool keyName = false, key = false, signature = false;
        foreach (var item in connectionString.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) throw Invalid($"{ConnectionStringVariable} is not an Event Hubs connection string (Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…).");
            var name = item[..eq].Trim();
            var value = item[(eq + 1)..].Trim();
            if (name.Equals("Endpoint", StringComparison.OrdinalIgnoreCase)) endpoint = value;
            else if (name.Equals("EntityPath", StringComparison.OrdinalIgnoreCase)) entityPath = value.Length > 0 ? value : null;
            else if (name.Equals("SharedAccessKeyName", StringComparison.OrdinalIgnoreCase)) keyName = value.Length > 0;
            else if (name.Equals("SharedAccessKey", StringComparison.OrdinalIgnoreCase)) key = value.Length > 0;
            else if (name.Equals("SharedAccessSignature", StringComparison.OrdinalIgnoreCase)) signature = value.Length > 0;
        }
        if (endpoint is null || !Uri.TryCreate(endpoint, UriKind.Absolute, out var parsed) || parsed.Scheme != "sb" || parsed.Host.Length == 0)
            throw Invalid($"{ConnectionStringVariable} has no Endpoint=sb://<namespace>.servicebus.windows.net/ part.");
        if (!signature && !(keyName && key))
            throw Invalid($"{ConnectionStringVariable} has neither SharedAccessKeyName with SharedAccessKey nor SharedAccessSignature.");
        return (parsed.Host, entityPath);
    }

    private static LakehouseException Invalid(string message) => new(LakehouseErrorReason.InvalidInput, message);

    /// <summary>Key bytes as bronze's <c>source_key</c> text: UTF-8 when they are valid UTF-8, otherwise base64.</summary>
    internal static string? KeyText(byte[]? key)
    {
        if (key is null) return null;
        try
        {
            return StrictUtf8.GetString(key);
        }
        catch (DecoderFallbackException)
        {
            return Convert.ToBase64String(key);
        }
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
