using Confluent.Kafka;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Core;

namespace Lakehouse.Bronze.Tests.Kafka;

/// <summary>
/// How kafka:// URIs and the LAKEHOUSE_KAFKA_* settings become librdkafka configuration, Event Hubs' Kafka endpoint included
/// (no Event Hubs service runs here, so its mapping is checked value by value). The secrets used here are made up per test, and
/// every test that sees one checks it is absent from what logs and errors print.
/// </summary>
public sealed class KafkaConnectionTests
{
    private const string Namespace = "contoso-lake.servicebus.windows.net";
    private static readonly string Key = "k3y" + Guid.NewGuid().ToString("N") + "=";
    private static readonly string EventHubsConnectionString = $"Endpoint=sb://{Namespace}/;SharedAccessKeyName=listen-send;SharedAccessKey={Key}";

    private static Func<string, string?> Settings(params (string Name, string Value)[] values) =>
        name => values.FirstOrDefault(v => v.Name == name).Value;

    [Fact]
    public void FromUri_PlainKafka_BrokersTopicAndPlaintext()
    {
        var c = KafkaConnection.FromUri("kafka://127.0.0.1:9092,broker-2:19092,broker-3/weblogs", Settings());

        Assert.Equal("weblogs", c.Topic);
        Assert.Equal("127.0.0.1:9092,broker-2:19092,broker-3:9092", c.BootstrapServers);
        Assert.Equal("plaintext", c.Properties["security.protocol"]);
        Assert.False(c.Properties.ContainsKey("sasl.username"));
        Assert.False(c.IsEventHubs);
    }

    [Fact]
    public void FromUri_EventHubsConnectionString_SaslSslPlainOnPort9093WithTheStringAsPassword()
    {
        var c = KafkaConnection.FromUri($"kafka://{Namespace}/clickstream", Settings((KafkaConnection.ConnectionStringVariable, EventHubsConnectionString)));

        Assert.True(c.IsEventHubs);
        Assert.Equal($"{Namespace}:9093", c.BootstrapServers);
        Assert.Equal("sasl_ssl", c.Properties["security.protocol"]);
        Assert.Equal("PLAIN", c.Properties["sasl.mechanism"]);
        Assert.Equal("$ConnectionString", c.Properties["sasl.username"]);
        Assert.Equal(EventHubsConnectionString, c.Properties["sasl.password"]);
        // The typed views librdkafka gets for a consumer and a producer carry the same values.
        var consumer = c.ConsumerConfig("bronze");
        Assert.Equal(SecurityProtocol.SaslSsl, consumer.SecurityProtocol);
        Assert.Equal(SaslMechanism.Plain, consumer.SaslMechanism);
        Assert.Equal("$ConnectionString", consumer.SaslUsername);
        Assert.Equal(EventHubsConnectionString, consumer.SaslPassword);
        Assert.Equal($"{Namespace}:9093", consumer.BootstrapServers);
        var producer = c.ProducerConfig();
        Assert.Equal(SecurityProtocol.SaslSsl, producer.SecurityProtocol);
        Assert.Equal(EventHubsConnectionString, producer.SaslPassword);
        // Printing the connection (what logs do) never shows the secret.
        Assert.DoesNotContain(Key, c.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(Key, c.Describe(), StringComparison.Ordinal);
        Assert.Contains("sasl.password=***", c.Describe(), StringComparison.Ordinal);
        Assert.Contains("sasl.username=$ConnectionString", c.Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void FromUri_EventHubsWithExplicitPortAndEntityPath_Accepted()
    {
        var c = KafkaConnection.FromUri($"kafka://{Namespace.ToUpperInvariant()}:9093/clickstream",
            Settings((KafkaConnection.ConnectionStringVariable, EventHubsConnectionString + ";EntityPath=clickstream")));

        Assert.Equal($"{Namespace.ToUpperInvariant()}:9093", c.BootstrapServers);
        Assert.Equal("clickstream", c.Topic);
    }

    [Theory]
    [InlineData("kafka://evil.example.com:9093/clickstream", "namespace 'contoso-lake.servicebus.windows.net', but the URI names the broker 'evil.example.com'")]
    [InlineData("kafka://contoso-lake.servicebus.windows.net/other", "for the event hub 'clickstream' only, but the URI names the topic 'other'")]
    public void FromUri_EventHubsStringForAnotherHostOrHub_RefusedWithoutPrintingIt(string uri, string expected)
    {
        var error = Assert.Throws<LakehouseException>(() =>
            KafkaConnection.FromUri(uri, Settings((KafkaConnection.ConnectionStringVariable, EventHubsConnectionString + ";EntityPath=clickstream"))));

        Assert.Equal(LakehouseErrorReason.InvalidInput, error.Reason);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SharedAccessKeyName=a;SharedAccessKey=b", "no Endpoint=sb://")]
    [InlineData("Endpoint=https://x.servicebus.windows.net/;SharedAccessKeyName=a;SharedAccessKey=b", "no Endpoint=sb://")]
    [InlineData("Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=a", "neither SharedAccessKeyName with SharedAccessKey")]
    [InlineData("just-a-secret-value", "is not an Event Hubs connection string")]
    public void FromUri_MalformedConnectionString_RefusedWithoutPrintingIt(string connectionString, string expected)
    {
        var error = Assert.Throws<LakehouseException>(() =>
            KafkaConnection.FromUri("kafka://x.servicebus.windows.net/hub", Settings((KafkaConnection.ConnectionStringVariable, connectionString))));

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.Contains(KafkaConnection.ConnectionStringVariable, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("just-a-secret-value", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromUri_SaslUserAndPassword_DefaultsToSaslSslAndPlain()
    {
        var password = "pw-" + Guid.NewGuid().ToString("N");
        var c = KafkaConnection.FromUri("kafka://kafka-1:9094/weblogs",
            Settings((KafkaConnection.SaslUsernameVariable, "ingest"), (KafkaConnection.SaslPasswordVariable, password)));

        Assert.Equal("sasl_ssl", c.Properties["security.protocol"]);
        Assert.Equal("PLAIN", c.Properties["sasl.mechanism"]);
        Assert.Equal("ingest", c.Properties["sasl.username"]);
        Assert.Equal(password, c.Properties["sasl.password"]);
        Assert.DoesNotContain(password, c.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void FromUri_ScramOverSaslPlaintextWithCaFileAndExtraProperties_AllMapped()
    {
        using var temp = new Lakehouse.Testing.TempDirectory("kafka-ca");
        var ca = temp.Combine("ca.pem");
        File.WriteAllText(ca, "-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n");
        var c = KafkaConnection.FromUri("kafka://kafka-1:9095/weblogs", Settings(
            (KafkaConnection.SecurityProtocolVariable, "SASL_SSL"),
            (KafkaConnection.SaslMechanismVariable, "scram-sha-512"),
            (KafkaConnection.SaslUsernameVariable, "ingest"),
            (KafkaConnection.SaslPasswordVariable, "secret-1"),
            (KafkaConnection.SslCaLocationVariable, ca),
            (KafkaConnection.PropertiesVariable, "session.timeout.ms=10000; fetch.max.bytes = 1048576 ;")));

        Assert.Equal("sasl_ssl", c.Properties["security.protocol"]);
        Assert.Equal("SCRAM-SHA-512", c.Properties["sasl.mechanism"]);
        Assert.Equal(ca, c.Properties["ssl.ca.location"]);
        Assert.Equal("10000", c.Properties["session.timeout.ms"]);
        Assert.Equal("1048576", c.Properties["fetch.max.bytes"]);
        var consumer = c.ConsumerConfig("g");
        Assert.Equal(10_000, consumer.SessionTimeoutMs);
        Assert.Equal(SaslMechanism.ScramSha512, consumer.SaslMechanism);
    }

    [Theory]
    [InlineData(KafkaConnection.SecurityProtocolVariable, "tls", "must be plaintext, ssl, sasl_plaintext or sasl_ssl")]
    [InlineData(KafkaConnection.SaslMechanismVariable, "GSSAPI", "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")]
    [InlineData(KafkaConnection.SaslPasswordVariable, "orphan-secret", "is set but LAKEHOUSE_KAFKA_SASL_USERNAME is not")]
    [InlineData(KafkaConnection.SaslUsernameVariable, "ingest", "is set but LAKEHOUSE_KAFKA_SASL_PASSWORD is not")]
    [InlineData(KafkaConnection.SslCaLocationVariable, "/nonexistent/ca.pem", "which is not a file")]
    [InlineData(KafkaConnection.PropertiesVariable, "enable.auto.commit=true", "may not set 'enable.auto.commit'")]
    [InlineData(KafkaConnection.PropertiesVariable, "sasl.password=orphan-secret", "may not set 'sasl.password'")]
    [InlineData(KafkaConnection.PropertiesVariable, "no-equals-sign", "item 1 of 1 is not name=value")]
    [InlineData(KafkaConnection.PropertiesVariable, "session.timeout.ms=10000;ssl.key.password:orphan-secret", "item 2 of 2 is not name=value")]
    [InlineData(KafkaConnection.PropertiesVariable, "sasl.password orphan-secret=x", "item 1 of 1 does not start with a property name")]
    public void FromUri_BadSetting_RefusedNamingTheVariable(string variable, string value, string expected)
    {
        var error = Assert.Throws<LakehouseException>(() => KafkaConnection.FromUri("kafka://127.0.0.1:9092/t", Settings((variable, value))));

        Assert.Equal(LakehouseErrorReason.InvalidInput, error.Reason);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("orphan-secret", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromUri_ConnectionStringWithSaslUser_RefusedAsAmbiguous()
    {
        var error = Assert.Throws<LakehouseException>(() => KafkaConnection.FromUri($"kafka://{Namespace}/hub", Settings(
            (KafkaConnection.ConnectionStringVariable, EventHubsConnectionString), (KafkaConnection.SaslUsernameVariable, "someone"))));

        Assert.Contains("sets the security itself", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromUri_SaslWithPlaintextProtocol_Refused()
    {
        var error = Assert.Throws<LakehouseException>(() => KafkaConnection.FromUri("kafka://k:9092/t", Settings(
            (KafkaConnection.SecurityProtocolVariable, "plaintext"), (KafkaConnection.SaslUsernameVariable, "u"), (KafkaConnection.SaslPasswordVariable, "p"))));

        Assert.Contains("need LAKEHOUSE_KAFKA_SECURITY_PROTOCOL sasl_ssl or sasl_plaintext, not 'plaintext'", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("kafka://host:9092", "names no topic")]
    [InlineData("kafka://host:9092/", "names no topic")]
    [InlineData("kafka://host:99999/t", "is not a port")]
    [InlineData("kafka://host:abc/t", "is not a port")]
    [InlineData("kafka://a,,b/t", "empty broker")]
    [InlineData("kafka://host/bad topic", "is not a Kafka topic name")]
    [InlineData("kafka://host/a%2Fb", "is not a Kafka topic name")]
    [InlineData("http://host/t", "is not a Kafka URI")]
    public void ParseUri_Malformed_RefusedWithTheShape(string uri, string expected)
    {
        var error = Assert.Throws<LakehouseException>(() => KafkaConnection.FromUri(uri, Settings()));

        Assert.Equal(LakehouseErrorReason.InvalidInput, error.Reason);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseUri_Ipv6Broker_KeepsBrackets()
    {
        var (brokers, topic) = KafkaConnection.ParseUri("kafka://[::1]:9092,[fe80::1]/t.1_x-y", 9092);

        Assert.Equal([("[::1]", 9092), ("[fe80::1]", 9092)], brokers);
        Assert.Equal("t.1_x-y", topic);
    }

    [Fact]
    public void ConsumerConfig_NeverCommitsOrStoresOffsetsByItself()
    {
        var config = KafkaConnection.FromUri("kafka://127.0.0.1:9092/t", Settings()).ConsumerConfig("bronze-group");

        Assert.Equal("bronze-group", config.GroupId);
        Assert.False(config.EnableAutoCommit);
        Assert.False(config.EnableAutoOffsetStore);
        Assert.True(config.EnablePartitionEof);
        Assert.Equal(PartitionAssignmentStrategy.CooperativeSticky, config.PartitionAssignmentStrategy);
    }

    [Fact]
    public void ProducerConfig_AcksAllAndIdempotent()
    {
        var config = KafkaConnection.FromUri("kafka://127.0.0.1:9092/t", Settings()).ProducerConfig();

        Assert.Equal(Acks.All, config.Acks);
        Assert.True(config.EnableIdempotence);
    }

    [Theory]
    [InlineData(new byte[] { 0x6b, 0xc3, 0xa9 }, "ké")]
    [InlineData(new byte[] { 0xff, 0x00, 0xfe }, "/wD+")]
    [InlineData(new byte[0], "")]
    public void KeyText_Utf8OrBase64(byte[] key, string expected) => Assert.Equal(expected, KafkaConnection.KeyText(key));

    /// <summary>
    /// A sink whose brokers do not answer (nothing listens on the port) fails its first send once the broker timeout passes,
    /// naming the brokers and the topic, with nothing queued: before, librdkafka tried to deliver for its 5 minutes.
    /// </summary>
    [Fact]
    public async Task SendAsync_NoBrokerListening_FailsAfterTheBrokerTimeoutNamingTheBrokers()
    {
        var port = Lakehouse.Testing.LocalServers.FreePort();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var sink = KafkaSink.Open($"kafka://127.0.0.1:{port}/weblogs", new StreamSourceSettings { Setting = _ => null }, TimeSpan.FromSeconds(2));
        LakehouseException error;
        await using (sink)
        {
            error = await Assert.ThrowsAsync<LakehouseException>(() => sink.SendAsync([new OutgoingEvent("{}"u8.ToArray())], CancellationToken.None));
        }

        Assert.Equal(LakehouseErrorReason.Storage, error.Reason);
        Assert.StartsWith($"Kafka at 127.0.0.1:{port} did not answer for topic 'weblogs' within 2 s (", error.Message, StringComparison.Ordinal);
        Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(60));
    }
}
