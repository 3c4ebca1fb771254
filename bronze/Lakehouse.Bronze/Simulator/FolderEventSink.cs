using System.Globalization;
using Lakehouse.Core;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Bronze.Simulator;

/// <summary>What a sink did, for the producer's summary.</summary>
internal interface ISinkStatistics
{
    /// <summary>Files written (folder sink), or null.</summary>
    IReadOnlyList<string>? Files { get; }

    /// <summary>Requests made (HTTP sink), or null.</summary>
    long? Requests { get; }

    /// <summary>Requests sent again after a 408/429/5xx answer or no answer (HTTP sink), or null.</summary>
    long? Retries { get; }

    /// <summary>Batches the server had landed before (same Idempotency-Key), or null.</summary>
    long? Replayed { get; }
}

/// <summary>
/// Writes events to a local folder as rolling files: one event per line (NDJSON, or text for text datasets), <c>EventsPerFile</c>
/// per file, named <c>&lt;run id or dataset&gt;-00001.ndjson</c>, …. Each file is written under a hidden temporary name
/// (<c>.&lt;name&gt;.inprogress</c>), flushed to disk, then renamed, so a landing-zone ingest never sees half a file; a killed run
/// leaves only the hidden file. The files of a run are never overwritten: a folder that already has them is refused.
/// </summary>
internal sealed class FolderEventSink : IEventSink, ISinkStatistics
{
    private readonly string _folder;
    private readonly string _prefix;
    private readonly string _extension;
    private readonly int _eventsPerFile;
    private readonly ILogger _log;
    private readonly List<string> _files = [];
    private FileStream? _current;
    private string? _currentName;
    private long _inCurrent;
    private long _written;
    private bool _failed;
    private byte[] _buffer = new byte[1 << 16];

    private FolderEventSink(string folder, string prefix, string extension, int eventsPerFile, ILogger logger)
    {
        _folder = folder;
        _prefix = prefix;
        _extension = extension;
        _eventsPerFile = eventsPerFile;
        _log = logger;
    }

    public IReadOnlyList<string>? Files => _files;

    public long? Requests => null;

    public long? Retries => null;

    public long? Replayed => null;

    internal static FolderEventSink Create(string folder, EventSinkOptions options, ILogger logger)
    {
        if (string.IsNullOrWhiteSpace(folder)) throw new LakehouseException(LakehouseErrorReason.InvalidInput, "The folder to write events to is blank.");
        var full = Path.GetFullPath(folder);
        if (File.Exists(full)) throw new LakehouseException(LakehouseErrorReason.InvalidInput, $"'{folder}' is a file; events go to a folder.");
        var prefix = options.RunId ?? options.Dataset ?? "events";
        var extension = options.TextPayload ? ".log" : ".ndjson";
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new LakehouseException(LakehouseErrorReason.Storage, $"Cannot create the folder '{folder}': {e.Message}", e, isTransient: false);
        }
        var existing = Directory.EnumerateFiles(full, prefix + "-*" + extension).Select(Path.GetFileName).Order(StringComparer.Ordinal).FirstOrDefault();
        if (existing is not null)
        {
            throw new LakehouseException(LakehouseErrorReason.AlreadyExists,
                $"'{folder}' already has files of this run ({existing}, …): the same options make the same events, and a landed file is never overwritten. " +
                "Write to another folder, or change --seed (or the other options) for new events.");
        }
        return new FolderEventSink(full, prefix, extension, options.EventsPerFile, logger);
    }

    /// <summary>
    /// Appends the events, starting new files as they fill. Cancellation is checked before writing: a batch is written whole (a
    /// local write of milliseconds), so the files hold exactly the batches this method returned for.
    /// </summary>
    public async Task SendAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        cancellationToken.ThrowIfCancellationRequested();
        var i = 0;
        while (i < events.Count)
        {
            _current ??= Open();
            var take = (int)Math.Min(events.Count - i, _eventsPerFile - _inCurrent);
            var length = 0;
            for (var j = i; j < i + take; j++) length += events[j].Payload.Length + 1;
            if (_buffer.Length < length) _buffer = new byte[Math.Max(length, _buffer.Length * 2)];
            var at = 0;
            for (var j = i; j < i + take; j++)
            {
                var payload = events[j].Payload;
                payload.CopyTo(_buffer, at);
                at += payload.Length;
                _buffer[at++] = (byte)'\n';
            }
            try
            {
                await _current.WriteAsync(_buffer.AsMemory(0, length), CancellationToken.None).ConfigureAwait(false);
            }
            catch (IOException)
            {
                _failed = true; // the file may end in part of this batch: cut back to the last whole batch when it is closed
                throw;
            }
            _inCurrent += take;
            _written += length;
            i += take;
            if (_inCurrent == _eventsPerFile) await PublishAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Publishes the file being written (if it holds events) and deletes an empty one.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_current is null) return;
        if (_failed)
        {
            // A write failed (disk full): keep the whole batches written before it, drop the part of the failed one.
            try
            {
                await _current.DisposeAsync().ConfigureAwait(false);
            }
            catch (IOException)
            {
                // The buffered rest of the failed batch could not be written either; the length is cut below.
            }
            _current = null;
            using (var cut = new FileStream(TempPath(_currentName!), FileMode.Open, FileAccess.Write))
            {
                cut.SetLength(_written);
            }
            if (_inCurrent > 0)
            {
                _current = new FileStream(TempPath(_currentName!), FileMode.Open, FileAccess.Write, FileShare.Read, 1 << 16, useAsync: true);
                _current.Seek(0, SeekOrigin.End);
                await PublishAsync().ConfigureAwait(false);
            }
            else
            {
                File.Delete(TempPath(_currentName!));
            }
            return;
        }
        if (_inCurrent > 0)
        {
            await PublishAsync().ConfigureAwait(false);
            return;
        }
        await _current.DisposeAsync().ConfigureAwait(false);
        File.Delete(TempPath(_currentName!));
        _current = null;
    }

    private FileStream Open()
    {
        _currentName = _prefix + "-" + (_files.Count + 1).ToString("D5", CultureInfo.InvariantCulture) + _extension;
        _inCurrent = 0;
        _written = 0;
        return new FileStream(TempPath(_currentName), FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16, useAsync: true);
    }

    private async Task PublishAsync()
    {
        var stream = _current!;
        var name = _currentName!;
        _current = null;
        await stream.FlushAsync(CancellationToken.None).ConfigureAwait(false);
        stream.Flush(flushToDisk: true);
        var bytes = stream.Length;
        await stream.DisposeAsync().ConfigureAwait(false);
        var final = Path.Combine(_folder, name);
        try
        {
            File.Move(TempPath(name), final, overwrite: false);
        }
        catch (IOException e) when (File.Exists(final))
        {
            throw new LakehouseException(LakehouseErrorReason.AlreadyExists,
                $"'{final}' appeared while this run wrote it (another produce into the same folder with the same options?); it was left as it is and this run's copy is {TempPath(name)}.", e);
        }
        _files.Add(final);
        SimulatorLog.FileWritten(_log, final, _inCurrent, bytes);
    }

    private string TempPath(string name) => Path.Combine(_folder, "." + name + ".inprogress");
}
