using Confluent.Kafka;
using Lakehouse.Bronze.Kafka;
using Lakehouse.Testing;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze.Tests.Kafka;

/// <summary>
/// librdkafka's warnings about a broker that is down come several times a second (an unreachable broker printed ~10 lines a
/// second for as long as `produce` waited); one client shows each kind once per 30 s and the repeats only as debug lines.
/// </summary>
public sealed class KafkaClientLogTests
{
    [Fact]
    public void Log_SameWarningRepeated_OneWarningTheRepeatsAsDebugLines()
    {
        using var loggers = new CapturingLoggerFactory();
        var log = new KafkaClientLog(loggers.CreateLogger("kafka"));
        for (var i = 0; i < 50; i++)
        {
            log.Log(new LogMessage("rdkafka#producer-1", SyslogLevel.Error, "FAIL", $"127.0.0.1:1/bootstrap: Connect failed: Connection refused (after {i}ms in state CONNECT)"));
            log.Error(new Error(ErrorCode.Local_Transport, "127.0.0.1:1/bootstrap: Connection refused"));
        }
        log.Error(new Error(ErrorCode.Local_AllBrokersDown, "1/1 brokers are down"));
        log.Log(new LogMessage("rdkafka#producer-1", SyslogLevel.Debug, "CONNECT", "connecting"));

        var warnings = loggers.Events.Where(e => e.Level == LogLevel.Warning).Select(e => (e.Id.Id, e.Message)).ToList();
        Assert.Equal(
            [
                (5108, "librdkafka FAIL: 127.0.0.1:1/bootstrap: Connect failed: Connection refused (after 0ms in state CONNECT)"),
                (5106, "Kafka client error (Local_Transport): 127.0.0.1:1/bootstrap: Connection refused"),
                (5106, "Kafka client error (Local_AllBrokersDown): 1/1 brokers are down"),
            ],
            warnings);
        // The 49 repeats of each, and the debug line, are still there for --verbose.
        Assert.Equal(49 + 49 + 1, loggers.Events.Count(e => e.Level == LogLevel.Debug && e.Id.Id == 5107));
    }

    [Theory]
    [InlineData("after 0ms in state CONNECT", "after #ms in state CONNECT")]
    [InlineData("127.0.0.1:9092 down 12345", "#.#.#.#:# down #")]
    [InlineData("no digits", "no digits")]
    public void WithoutNumbers_DigitRunsAreOneMark(string text, string expected) => Assert.Equal(expected, KafkaClientLog.WithoutNumbers(text));
}
