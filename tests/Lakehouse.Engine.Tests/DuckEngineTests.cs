using Lakehouse.Core;
using Lakehouse.Testing;

namespace Lakehouse.Engine.Tests;

public sealed class DuckEngineTests : IDisposable
{
    private readonly DuckEngine _engine = DuckEngine.Open(new DuckEngineOptions { Threads = 2 });

    public void Dispose() => _engine.Dispose();

    [Fact]
    public void Query_ScalarTypes_ReadBack()
    {
        using var lease = _engine.Lease();
        using var r = lease.Connection.Query(
            "SELECT 42::TINYINT a, 70000::INTEGER b, 9000000000::BIGINT c, 1.5::DOUBLE d, 'short' e, 'a string longer than twelve' f, " +
            "true g, NULL::VARCHAR h, 12.345::DECIMAL(5,3) i, 123456789012345678.5::DECIMAL(38,1) j, DATE '1970-01-03' k, " +
            "TIMESTAMP '2024-01-02 03:04:05.123456' l, '\\x01\\x02'::BLOB m");
        Assert.True(r.Read());
        Assert.Equal(42L, r.GetInt64(0));
        Assert.Equal(70000L, r.GetInt64(1));
        Assert.Equal(9000000000L, r.GetInt64(2));
        Assert.Equal(1.5, r.GetDouble(3));
        Assert.Equal("short", r.GetString(4));
        Assert.Equal("a string longer than twelve", r.GetString(5));
        Assert.True(r.GetBoolean(6));
        Assert.True(r.IsNull(7));
        Assert.Equal(12.345m, r.GetDecimal(8));
        Assert.Equal(123456789012345678.5m, r.GetDecimal(9));
        Assert.Equal(new DateTime(1970, 1, 3, 0, 0, 0, DateTimeKind.Utc), r.GetDateTime(10));
        Assert.Equal(new DateTime(2024, 1, 2, 3, 4, 5, DateTimeKind.Utc).AddTicks(1234560), r.GetDateTime(11));
        Assert.Equal(new byte[] { 1, 2 }, (byte[])r.GetValue(12)!);
        Assert.False(r.Read());
    }

    private static readonly DuckField[] AllTypes =
    [
        new("s", DuckFieldType.Varchar), new("n", DuckFieldType.BigInt), new("d", DuckFieldType.Double), new("b", DuckFieldType.Boolean),
        new("t", DuckFieldType.TimestampTz), new("never", DuckFieldType.Varchar),
    ];

    /// <summary>The input back as s (set twice: the second, shorter value must replace the first whole), and its length in the other types, n only when odd.</summary>
    private static bool EchoWithLength(ReadOnlySpan<byte> input, DuckStructRow row)
    {
        if (input.Length == 0) return false;
        row.SetVarchar(0, "twelve bytes"u8);
        row.SetVarchar(0, input);
        if (input.Length % 2 == 1) row.SetBigInt(1, input.Length);
        row.SetDouble(2, input.Length / 2.0);
        row.SetBoolean(3, input.Length % 2 == 0);
        row.SetTimestampTz(4, input.Length * 1_000_000L);
        return true;
    }

    /// <summary>What <see cref="EchoWithLength"/> gives for v, in SQL.</summary>
    private const string EchoWithLengthSql =
        "CASE WHEN v IS NOT NULL AND v <> '' THEN {'s': v, 'n': CASE WHEN strlen(v) % 2 = 1 THEN strlen(v) END, 'd': strlen(v) / 2, " +
        "'b': strlen(v) % 2 = 0, 't': make_timestamptz(strlen(v) * 1000000), 'never': CAST(NULL AS VARCHAR)} END";

    [Fact]
    public void RegisterStructFunction_ManyChunks_EveryFieldTypeNullsInlineAndLongStringsAsComputed()
    {
        _engine.RegisterStructFunction("lh_test_echo", AllTypes, EchoWithLength);
        using var lease = _engine.Lease();
        var c = lease.Connection;
        // 5,000 rows (three chunks): NULL, empty (the body says NULL), 1 to 12 bytes (inline), 13 and more, 100,001 bytes, multi-byte UTF-8.
        c.Execute("CREATE TEMP TABLE lh_in AS SELECT i, CASE WHEN i % 97 = 1 THEN NULL WHEN i % 89 = 2 THEN '' WHEN i = 3 THEN repeat('x', 100000) || 'z' " +
                  "WHEN i % 5 = 0 THEN 'été ' || i ELSE repeat('ab', i % 9) || i END AS v FROM range(5000) AS t(i)");

        Assert.Equal(0L, c.Scalar($"SELECT count(*) FROM lh_in WHERE lh_test_echo(encode(v)) IS DISTINCT FROM {EchoWithLengthSql}"));
        // Equality, grouping and ordering read inline strings by their 16 bytes: the padding after a short value must be zeros.
        Assert.Equal(c.Scalar("SELECT count(DISTINCT v) FROM lh_in WHERE v <> ''"), c.Scalar("SELECT count(DISTINCT lh_test_echo(encode(v)).s) FROM lh_in"));
        Assert.Equal(c.Scalar("SELECT count(*) FROM lh_in WHERE v <> ''"), c.Scalar("SELECT count(*) FROM lh_in AS a JOIN lh_in AS b ON lh_test_echo(encode(a.v)).s = b.v AND a.i = b.i"));
        using var r = c.Query("SELECT lh_test_echo(encode(v)).s, lh_test_echo(encode(v)).n, lh_test_echo(encode(v)) IS NULL FROM lh_in WHERE i IN (1, 2, 3, 4, 10) ORDER BY i");
        var rows = new List<(string?, long?, bool)>();
        while (r.Read()) rows.Add((r.IsNull(0) ? null : r.GetString(0), r.IsNull(1) ? null : r.GetInt64(1), r.GetBoolean(2)));
        Assert.Equal([(null, null, true), (null, null, true), (new string('x', 100000) + "z", 100001L, false), ("abababab4", 9L, false), ("été 10", null, false)], rows);
    }

    [Fact]
    public void RegisterStructFunction_SameNameTwice_FirstBodyKeptOnEveryConnection()
    {
        _engine.RegisterStructFunction("lh_test_echo", AllTypes, EchoWithLength);
        _engine.RegisterStructFunction("lh_test_echo", [new("other", DuckFieldType.BigInt)], (_, row) =>
        {
            row.SetBigInt(0, 1);
            return true;
        });
        using var lease = _engine.Lease();
        using var other = _engine.Connect();

        Assert.Equal("ab5", other.Scalar("SELECT lh_test_echo(encode(v)).s FROM (SELECT 'ab' || 5 AS v)"));
        Assert.Equal(3L, lease.Connection.Scalar("SELECT lh_test_echo(CAST('abc' AS BLOB)).n"));
        Assert.Null(lease.Connection.Scalar("SELECT lh_test_echo(CAST(NULL AS BLOB))"));
    }

    [Fact]
    public void RegisterStructFunction_BodyDeclinesAfterSettingFields_RowAndItsFieldsNull()
    {
        _engine.RegisterStructFunction("lh_test_decline", AllTypes, (input, row) =>
        {
            row.SetVarchar(0, input);
            row.SetBigInt(1, input.Length);
            return input.Length > 2;
        });
        using var lease = _engine.Lease();

        Assert.Equal("1,0,0|0,3,3", lease.Connection.Scalar(
            "SELECT string_agg(counts, '|' ORDER BY k) FROM (SELECT k, concat_ws(',', count(*) FILTER (WHERE f IS NULL), count(f.s), count(f.n)) AS counts " +
            "FROM (SELECT k, lh_test_decline(encode(v)) AS f FROM (VALUES (1, 'ab'), (2, 'abc'), (2, 'abcd'), (2, 'a string longer than twelve')) AS t(k, v)) GROUP BY k)"));
    }

    [Theory]
    [InlineData("throw", "InvalidOperationException: the body failed on row 4000")]
    [InlineData("type", "ArgumentException: Field 1 is BigInt, not Double.")]
    [InlineData("utf8", "ArgumentException: The value of field 0 is not valid UTF-8.")]
    public void RegisterStructFunction_BodyThrows_TheQueryFailsWithItsMessageAndTheEngineGoesOn(string fault, string message)
    {
        _engine.RegisterStructFunction("lh_test_fault", AllTypes, (input, row) =>
        {
            if (input.SequenceEqual("4000"u8))
            {
                switch (fault)
                {
                    case "throw": throw new InvalidOperationException("the body failed on row 4000");
                    case "type": row.SetDouble(1, 1); break;
                    case "utf8": row.SetVarchar(0, [0xC3, 0x28]); break;
                }
            }
            return true;
        });
        using var lease = _engine.Lease();

        var e = Assert.Throws<LakehouseException>(() => lease.Connection.Scalar("SELECT count(lh_test_fault(CAST(CAST(i AS VARCHAR) AS BLOB))) FROM range(5000) AS t(i)"));

        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.Equal(LakehouseErrorReason.Engine, e.Reason);
        Assert.Equal(3999L, lease.Connection.Scalar("SELECT count(lh_test_fault(CAST(CAST(i AS VARCHAR) AS BLOB))) FROM range(3999) AS t(i)"));
    }

    [Fact]
    public void Query_ManyChunks_StreamsEveryRowWithNulls()
    {
        using var lease = _engine.Lease();
        using var r = lease.Connection.Query("SELECT i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'v' || i END s FROM range(10000) t(i) ORDER BY i");
        long count = 0, nulls = 0, sum = 0;
        while (r.Read())
        {
            sum += r.GetInt64(0);
            if (r.IsNull(1)) nulls++;
            else Assert.Equal("v" + r.GetInt64(0), r.GetString(1));
            count++;
        }
        Assert.Equal(10000, count);
        Assert.Equal(3334, nulls);
        Assert.Equal(49995000, sum);
    }

    [Fact]
    public void Query_BadSql_ThrowsWithDuckDbText()
    {
        using var lease = _engine.Lease();
        var e = Assert.Throws<LakehouseException>(() => lease.Connection.Query("SELECT * FROM no_such_table"));
        Assert.Equal(LakehouseErrorReason.Engine, e.Reason);
        Assert.Contains("no_such_table", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Appender_BulkRows_LandInTable()
    {
        using var lease = _engine.Lease();
        var c = lease.Connection;
        c.Execute("CREATE TEMP TABLE app(id BIGINT, name VARCHAR, v DOUBLE, ok BOOLEAN, ts TIMESTAMP)");
        using (var a = c.CreateAppender("app"))
        {
            for (var i = 0; i < 5000; i++) a.AppendRow((long)i, i % 2 == 0 ? "even" : null, i * 0.5, i % 2 == 0, new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(i));
            a.Close();
        }
        using var r = c.Query("SELECT count(*), count(name), sum(v), max(ts) FROM app");
        Assert.True(r.Read());
        Assert.Equal(5000L, r.GetInt64(0));
        Assert.Equal(2500L, r.GetInt64(1));
        Assert.Equal(6248750.0, r.GetDouble(2));
        Assert.Equal(new DateTime(2024, 1, 1, 1, 23, 19, DateTimeKind.Utc), r.GetDateTime(3));
        c.Execute("DROP TABLE app");
    }

    [Fact]
    public void Open_ExtensionsNotDownloaded_ParquetAndJsonBuiltIn()
    {
        using var lease = _engine.Lease();
        var c = lease.Connection;
        Assert.Equal("false", c.Scalar("SELECT current_setting('autoinstall_known_extensions')::VARCHAR"));
        Assert.Equal("UTC", c.Scalar("SELECT current_setting('TimeZone')"));
        Assert.Equal("{\"a\":1}", c.Scalar("SELECT to_json({'a': 1})::VARCHAR"));
        Assert.StartsWith("v1.5", DuckEngine.LibraryVersion, StringComparison.Ordinal);
    }

    [Fact]
    public void SqlText_QuotesIdentifiersAndLiterals()
    {
        using var lease = _engine.Lease();
        var sql = $"SELECT {SqlText.Literal("a'b; DROP TABLE x; --")} AS {SqlText.Identifier("we\"ird col")}";
        using var r = lease.Connection.Query(sql);
        Assert.True(r.Read());
        Assert.Equal("we\"ird col", r.Names[0]);
        Assert.Equal("a'b; DROP TABLE x; --", r.GetString(0));
    }

    [Fact]
    public void Read_PastTheEndOrAfterDispose_ThrowsInsteadOfReadingMemory()
    {
        using var lease = _engine.Lease();
        var r = lease.Connection.Query("SELECT 7 AS x");
        Assert.Equal("Call Read() before reading a value.", Assert.Throws<InvalidOperationException>(() => r.GetInt64(0)).Message);
        Assert.True(r.Read());
        Assert.Equal(7L, r.GetInt64(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => r.GetInt64(1));
        Assert.False(r.Read());
        Assert.False(r.Read());
        Assert.Equal("The result has no more rows.", Assert.Throws<InvalidOperationException>(() => r.GetInt64(0)).Message);
        r.Dispose();
        r.Dispose();
        Assert.Throws<ObjectDisposedException>(() => r.Read());
        Assert.Throws<ObjectDisposedException>(() => r.GetString(0));
    }

    [Fact]
    public void GetInt64_OnADouble_IsRefusedNotRounded()
    {
        using var lease = _engine.Lease();
        using var r = lease.Connection.Query("SELECT 1.75::DOUBLE AS d, {'a': 1} AS s");
        Assert.True(r.Read());
        Assert.Equal("Column 'd' is DOUBLE, not an integer.", Assert.Throws<InvalidCastException>(() => r.GetInt64(0)).Message);
        Assert.Throws<InvalidCastException>(() => r.GetValue(1));
        Assert.Equal(1.75, r.GetDouble(0));
    }

    [Fact]
    public void Lease_DisposedTwice_GoesBackToThePoolOnce()
    {
        var lease = _engine.Lease();
        var connection = lease.Connection;
        lease.Dispose();
        lease.Dispose();
        Assert.Throws<ObjectDisposedException>(() => lease.Connection);
        using var a = _engine.Lease();
        using var b = _engine.Lease();
        Assert.NotSame(a.Connection, b.Connection);
        Assert.True(ReferenceEquals(a.Connection, connection) || ReferenceEquals(b.Connection, connection));
    }

    [Fact]
    public void Query_WhileAResultIsOpen_ClosesTheOldResultWhichThenRefusesToRead()
    {
        DuckResult open;
        using (var lease = _engine.Lease())
        {
            open = lease.Connection.Query("SELECT * FROM range(10)"); // left open on purpose
            Assert.True(open.Read());
            Assert.Equal(3L, lease.Connection.Scalar("SELECT 3"));
        }
        Assert.StartsWith("This result was closed because its connection ran another statement", Assert.Throws<InvalidOperationException>(() => open.Read()).Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => open.GetInt64(0));
        open.Dispose();
    }

    [Fact]
    public void Query_ErrorAfterManyRows_StreamsRowsThenThrowsTheError()
    {
        using var lease = _engine.Lease();
        using var r = lease.Connection.Query("SELECT CASE WHEN i < 300000 THEN i ELSE error('stop at ' || i) END AS v FROM range(400000) t(i)");
        long rows = 0;
        var e = Assert.Throws<Lakehouse.Core.LakehouseException>(() =>
        {
            while (r.Read()) rows++;
        });
        // Rows arrive while DuckDB is still producing them: a materialized result would fail before the first row.
        Assert.InRange(rows, 1, 300000);
        Assert.Equal(LakehouseErrorReason.Engine, e.Reason);
        // Under load DuckDB can end the statement as "interrupted" in place of the failing task's error (CI saw it once): that
        // must still be this failure, never a cancellation the caller would take as a request to stop.
        Assert.True(
            e.Message.StartsWith("DuckDB failed while streaming a result: Invalid Input Error: stop at ", StringComparison.Ordinal) ||
            e.Message == "DuckDB failed while streaming a result: " + DuckError.UnrequestedInterrupt, e.Message);
        Assert.False(r.Read());
        Assert.Equal(1L, lease.Connection.Scalar("SELECT 1"));
    }

    [Fact]
    public void Translate_InterruptNobodyAskedFor_IsAnEngineFailureNotACancellation()
    {
        var duckDbInterrupt = new OperationCanceledException(); // how DuckDB.NET reports DuckDB's INTERRUPT error
        var e = Assert.IsType<LakehouseException>(DuckError.Translate(duckDbInterrupt, "DuckDB query failed", null, interruptRequested: false, CancellationToken.None));
        Assert.Equal(LakehouseErrorReason.Engine, e.Reason);
        Assert.Equal("DuckDB query failed: " + DuckError.UnrequestedInterrupt, e.Message);
        Assert.Same(duckDbInterrupt, e.InnerException);

        var asked = Assert.IsType<OperationCanceledException>(DuckError.Translate(duckDbInterrupt, "DuckDB query failed", null, interruptRequested: true, CancellationToken.None));
        Assert.Equal("The DuckDB statement was interrupted.", asked.Message);

        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        var cancelled = Assert.IsType<OperationCanceledException>(DuckError.Translate(duckDbInterrupt, "DuckDB query failed", null, interruptRequested: false, cancel.Token));
        Assert.Equal(cancel.Token, cancelled.CancellationToken);
    }

    [Fact]
    public async Task Interrupt_CalledDuringAStatement_EndsItAsInterruptedAndTheConnectionStaysUsable()
    {
        using var lease = _engine.Lease();
        var connection = lease.Connection;
        var running = Task.Run(() => connection.Scalar("SELECT count(*) FROM range(100000000000) a"));
        using var interrupter = new Timer(_ => connection.Interrupt(), null, TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(100));
        var e = await Assert.ThrowsAsync<OperationCanceledException>(() => running);
        await interrupter.DisposeAsync();
        Assert.Equal("The DuckDB statement was interrupted.", e.Message);
        Assert.Equal(2L, connection.Scalar("SELECT 2"));
    }

    [Fact]
    public void Query_Error_MessageLeavesOutTheStatementText()
    {
        using var lease = _engine.Lease();
        var e = Assert.Throws<Lakehouse.Core.LakehouseException>(() => lease.Connection.Query("SELECT secret_column_name_xyz FROM range(1) AS t(i)"));
        Assert.Contains("secret_column_name_xyz", e.Message, StringComparison.Ordinal); // DuckDB names the column...
        Assert.DoesNotContain("LINE 1", e.Message, StringComparison.Ordinal); // ...but the statement itself is not quoted
        Assert.DoesNotContain("FROM range", e.Message, StringComparison.Ordinal);
        Assert.Contains("FROM range", e.InnerException!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_Cancelled_InterruptsDuckDbAndTheConnectionStaysUsable()
    {
        using var lease = _engine.Lease();
        using var cancel = new CancellationTokenSource();
        var running = Task.Run(() => lease.Connection.Scalar("SELECT count(*) FROM range(100000000000) a", cancel.Token));
        await Task.Delay(300);
        cancel.Cancel();
        var e = await Assert.ThrowsAnyAsync<OperationCanceledException>(() => running);
        Assert.Equal(cancel.Token, e.CancellationToken);
        Assert.Equal(5L, lease.Connection.Scalar("SELECT 5"));
    }

    [Fact]
    public async Task QueryArrowAsync_LargeResult_ArrivesInBatchesWithEveryRow()
    {
        using var lease = _engine.Lease();
        long rows = 0, sum = 0, batches = 0;
        await foreach (var batch in lease.Connection.QueryArrowAsync("SELECT i FROM range(100000) t(i)"))
        {
            using (batch)
            {
                batches++;
                rows += batch.Length;
                var column = (Apache.Arrow.Int64Array)batch.Column(0);
                for (var i = 0; i < column.Length; i++) sum += column.GetValue(i)!.Value;
            }
        }
        Assert.Equal(100000, rows);
        Assert.Equal(4999950000L, sum);
        Assert.True(batches > 1, $"{batches} batch(es)");
    }

    [Fact]
    public async Task CopyToStreamAsync_ErrorPartWay_ThrowsAfterTheRowsBeforeItAndLeavesNoPipe()
    {
        using var lease = _engine.Lease();
        using var destination = new MemoryStream();
        var e = await Assert.ThrowsAsync<Lakehouse.Core.LakehouseException>(() => lease.Connection.CopyToStreamAsync(
            "SELECT CASE WHEN i < 300000 THEN i ELSE error('x') END AS v FROM range(400000) t(i)", "FORMAT csv, HEADER true", destination));
        Assert.Contains("Invalid Input Error: x", e.Message, StringComparison.Ordinal);
        Assert.StartsWith("v\n0\n1\n", System.Text.Encoding.UTF8.GetString(destination.ToArray()), StringComparison.Ordinal);
        var immediate = await Assert.ThrowsAsync<Lakehouse.Core.LakehouseException>(() => lease.Connection.CopyToStreamAsync("SELECT error('boom')", "FORMAT csv", Stream.Null));
        Assert.Contains("boom", immediate.Message, StringComparison.Ordinal);
        Assert.Equal(1L, lease.Connection.Scalar("SELECT 1"));
    }

    [Fact]
    public void Open_Sandboxed_RefusesFilesOutsideTheAllowedFoldersAndSettingChanges()
    {
        using var allowed = new TempDirectory();
        File.WriteAllText(allowed.Combine("a.csv"), "x\n1\n");
        using var engine = DuckEngine.Open(new DuckEngineOptions { Threads = 1, AllowedDirectories = [allowed.Path] });
        using var lease = engine.Lease();
        var c = lease.Connection;
        Assert.True(engine.IsSandboxed);
        Assert.Equal(1L, c.Scalar($"SELECT count(*) FROM read_csv({SqlText.Literal(allowed.Combine("a.csv"))})"));
        Assert.Contains("Permission Error", Assert.Throws<Lakehouse.Core.LakehouseException>(() => c.Scalar("SELECT count(*) FROM read_csv('/etc/passwd')")).Message, StringComparison.Ordinal);
        Assert.Contains("Permission Error", Assert.Throws<Lakehouse.Core.LakehouseException>(() => c.Scalar("SELECT count(*) FROM glob('/home/*')")).Message, StringComparison.Ordinal);
        Assert.Contains("locked", Assert.Throws<Lakehouse.Core.LakehouseException>(() => c.Execute("SET enable_external_access = true")).Message, StringComparison.Ordinal);
        Assert.Contains("Permission Error", Assert.Throws<Lakehouse.Core.LakehouseException>(() => c.Execute("LOAD httpfs")).Message, StringComparison.Ordinal);
        Assert.Equal("UTC", c.Scalar("SELECT current_setting('TimeZone')"));
    }

    [Fact]
    public void Dispose_RemovesTheProcessTempFolder_AndOpenRemovesFoldersOfDeadProcesses()
    {
        var user = Path.Combine(Path.GetTempPath(), "lakehouse-duckdb-" + Environment.UserName);
        var stale = Path.Combine(user, "999999999-deadbeef");
        if (!OperatingSystem.IsWindows()) Directory.CreateDirectory(user, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateDirectory(Path.Combine(stale, "scratch"));
        string scratch;
        using (var engine = DuckEngine.Open(new DuckEngineOptions { Threads = 1 }))
        {
            scratch = engine.ScratchDirectory("x");
            Assert.True(Directory.Exists(scratch));
            // Only this user may enter it (mkdtemp's 0700).
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(user));
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(Path.GetDirectoryName(scratch))!));
            }
        }
        var own = Path.GetDirectoryName(Path.GetDirectoryName(scratch))!;
        Assert.StartsWith(Path.Combine(user, $"{Environment.ProcessId}-"), own, StringComparison.Ordinal);
        Assert.False(Directory.Exists(own));
        Assert.False(Directory.Exists(stale));
    }

    [Fact]
    public void PreloadLibrary_WhileEnginesOpen_EveryEngineAnswers()
    {
        DuckEngine.PreloadLibrary();
        DuckEngine.PreloadLibrary(); // a second load, racing the first and the opens, changes nothing
        var engines = Enumerable.Range(0, 3).Select(_ => DuckEngine.OpenInBackground()).ToList();
        try
        {
            foreach (var engine in engines)
            {
                using var lease = engine.Lease();
                Assert.Equal(42L, lease.Connection.Scalar("SELECT 6 * 7"));
            }
        }
        finally
        {
            foreach (var engine in engines) engine.Dispose();
        }
    }

    [Fact]
    public void Dispose_DatabaseLeftToTheProcessExit_TempFolderGoesAndTheEngineRefusesUse()
    {
        string scratch;
        var engine = DuckEngine.Open(new DuckEngineOptions { Threads = 1, CloseDatabaseOnDispose = false });
        using (var lease = engine.Lease())
        {
            Assert.Equal(3L, lease.Connection.Scalar("SELECT count(*) FROM range(3)"));
            scratch = engine.ScratchDirectory("x");
        }
        engine.Dispose();
        engine.Dispose();
        Assert.False(Directory.Exists(Path.GetDirectoryName(Path.GetDirectoryName(scratch))));
        Assert.Throws<ObjectDisposedException>(() => engine.Lease());

        // Another engine of the same process opens and works beside the one left open.
        using var next = DuckEngine.Open(new DuckEngineOptions { Threads = 1 });
        using var again = next.Lease();
        Assert.Equal(4L, again.Connection.Scalar("SELECT count(*) FROM range(4)"));
    }

    [Fact]
    public void OpenInBackground_ReturnsAtOnce_FirstConnectionWaitsForTheOpenAndWorks()
    {
        using var engine = DuckEngine.OpenInBackground(new DuckEngineOptions { Threads = 1 });
        using var lease = engine.Lease();
        Assert.Equal(42L, lease.Connection.Scalar("SELECT 42::BIGINT"));
        Assert.Equal("UTC", lease.Connection.Scalar("SELECT current_setting('TimeZone')"));
    }

    /// <summary>
    /// Every form of memory limit the options take (their own pattern, checked before DuckDB opens) is one DuckDB takes, as the
    /// same size: the pattern is a second grammar beside DuckDB's, and a form it took that DuckDB refused or read otherwise would
    /// fail later, at the engine's open, or set another limit than asked.
    /// </summary>
    [Theory]
    [InlineData("3000000b", 3000000L)]
    [InlineData("3000000 byte", 3000000L)]
    [InlineData("3000000 bytes", 3000000L)]
    [InlineData("3000k", 3000000L)]
    [InlineData("3000kb", 3000000L)]
    [InlineData("3000 kilobyte", 3000000L)]
    [InlineData("3000 kilobytes", 3000000L)]
    [InlineData("3m", 3000000L)]
    [InlineData("3MB", 3000000L)]
    [InlineData("3 megabyte", 3000000L)]
    [InlineData("3 megabytes", 3000000L)]
    [InlineData("2g", 2000000000L)]
    [InlineData("2 GB", 2000000000L)]
    [InlineData("2 gigabyte", 2000000000L)]
    [InlineData("2 Gigabytes", 2000000000L)]
    [InlineData("1t", 1000000000000L)]
    [InlineData("1 TB", 1000000000000L)]
    [InlineData("1 terabyte", 1000000000000L)]
    [InlineData("1 terabytes", 1000000000000L)]
    [InlineData("3000KiB", 3072000L)]
    [InlineData("3 MiB", 3145728L)]
    [InlineData("2GIB", 2147483648L)]
    [InlineData("1 tib", 1099511627776L)]
    [InlineData(" 1.5 GB ", 1500000000L)]
    [InlineData("none", -1L)]
    public void MemoryLimit_EveryFormTheOptionsTake_DuckDbTakesAsTheSameSize(string form, long bytes)
    {
        var options = new DuckEngineOptions { MemoryLimit = form };
        using var lease = _engine.Lease();
        var connection = lease.Connection;
        string Setting() => (string)connection.Scalar("SELECT current_setting('memory_limit')")!;
        connection.Execute($"SET memory_limit = '{options.MemoryLimit}'");
        var taken = Setting();
        connection.Execute(bytes < 0 ? "SET memory_limit = '-1'" : $"SET memory_limit = '{bytes} bytes'");
        Assert.Equal(Setting(), taken);
    }

    [Fact]
    public void OpenInBackground_OpenFails_FirstConnectionThrowsWhatOpenThrows_DisposeCleansUp()
    {
        var options = new DuckEngineOptions { Threads = 1, MemoryLimit = "99999999999999999999 TB" }; // a size DuckDB refuses: beyond 2^64 bytes
        var direct = Assert.Throws<LakehouseException>(() => DuckEngine.Open(options));
        Assert.Equal(LakehouseErrorReason.Engine, direct.Reason);
        Assert.StartsWith("Opening DuckDB failed", direct.Message, StringComparison.Ordinal);

        var engine = DuckEngine.OpenInBackground(options);
        var scratch = engine.ScratchDirectory("x");
        var later = Assert.Throws<LakehouseException>(() => engine.Lease());
        Assert.Equal(direct.Message, later.Message);
        Assert.Throws<LakehouseException>(() => engine.Connect()); // every use, not only the first
        engine.Dispose();
        engine.Dispose();
        Assert.False(Directory.Exists(Path.GetDirectoryName(Path.GetDirectoryName(scratch))));
    }

    [Fact]
    public void BuildOutput_CarriesOnlyThisMachinesDuckDbNative()
    {
        var runtimes = Directory.GetDirectories(Path.Combine(AppContext.BaseDirectory, "runtimes"))
            .Where(d => Directory.Exists(Path.Combine(d, "native"))).Select(Path.GetFileName).ToList();
        Assert.Equal([System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier], runtimes);
        Assert.True(File.Exists(Path.Combine(AppContext.BaseDirectory, "runtimes", runtimes[0]!, "native", "libduckdb.so")));
    }
}
