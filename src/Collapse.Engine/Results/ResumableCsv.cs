using System.Text;

namespace Collapse.Engine.Results;

/// <summary>
/// A tidy CSV written one whole cell at a time to <c>NAME.csv.partial</c> and renamed to
/// <c>NAME.csv</c> when the sweep completes, so nothing partial looks like a result. After each
/// cell's lines are flushed to disk, a journal <c>NAME.csv.cells</c> records the cell's key and
/// the byte length the file then had. Reopening trusts only the journal: it keeps the cells it
/// records (with their keys valid for this run) and truncates whatever follows, so a process
/// killed at any instant — mid-line, between a cell and its record, mid-record — resumes to the
/// same bytes an uninterrupted run writes.
/// </summary>
public sealed class ResumableCsv : IDisposable
{
    readonly string finalPath, partialPath, journalPath;
    FileStream? data, journal;
    // Every recorded cell's key and byte range, in the order written.
    readonly List<(string Key, long Start, long End)> cells = [];

    public IReadOnlySet<string> CompletedCells { get; }

    /// <summary>
    /// Fault injection for the kill tests: milliseconds to pause mid-cell and before each record,
    /// widening the windows in which a kill leaves a cut line or an unrecorded cell.
    /// </summary>
    static readonly int FaultDelayMs = int.TryParse(Environment.GetEnvironmentVariable("COLLAPSE_FAULT_WRITE_DELAY_MS"), out var ms) ? ms : 0;

    /// <param name="resume">Keep the recorded cells of an existing partial file; otherwise start afresh.</param>
    /// <param name="validKeys">Keys of this run's cells; a journal naming another is not trusted (null: any).</param>
    public ResumableCsv(string finalPath, string header, bool resume, IReadOnlySet<string>? validKeys = null)
    {
        this.finalPath = finalPath;
        partialPath = finalPath + ".partial";
        journalPath = finalPath + ".cells";
        var completed = new List<string>();
        var records = new StringBuilder();
        var headerBytes = Encoding.UTF8.GetByteCount(header) + 1;
        long keep = 0;
        if (resume && File.Exists(partialPath) && File.Exists(journalPath) && StartsWith(partialPath, header + "\n"))
        {
            keep = headerBytes;
            var length = new FileInfo(partialPath).Length;
            // A record is "key<TAB>end\n"; stop at the first one that is cut short, unknown or inconsistent.
            var text = File.ReadAllText(journalPath);
            foreach (var record in text.Split('\n')[..^1])
            {
                var tab = record.LastIndexOf('\t');
                if (tab <= 0 || !long.TryParse(record[(tab + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var end)) break;
                var key = record[..tab];
                if (end <= keep || end > length || completed.Contains(key) || validKeys is not null && !validKeys.Contains(key)) break;
                completed.Add(key);
                records.Append(record).Append('\n');
                cells.Add((key, keep, end));
                keep = end;
            }
        }
        CompletedCells = completed.ToHashSet();
        if (keep == 0)
        {
            // Fresh start: the header alone, then an empty journal.
            File.WriteAllText(partialPath, header + "\n");
            keep = headerBytes;
        }
        data = new FileStream(partialPath, FileMode.Open, FileAccess.Write, FileShare.Read);
        data.SetLength(keep);
        data.Seek(0, SeekOrigin.End);
        data.Flush(flushToDisk: true);
        // Rewrite the journal with only the trusted records (atomically), then append to it.
        var temporary = journalPath + ".tmp";
        File.WriteAllText(temporary, records.ToString());
        File.Move(temporary, journalPath, overwrite: true);
        journal = new FileStream(journalPath, FileMode.Append, FileAccess.Write, FileShare.Read);
    }

    static bool StartsWith(string path, string prefix)
    {
        var expected = Encoding.UTF8.GetBytes(prefix);
        using var file = File.OpenRead(path);
        var buffer = new byte[expected.Length];
        return file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false) == buffer.Length && buffer.AsSpan().SequenceEqual(expected);
    }

    /// <summary>Appends one whole cell and records it once its lines are on disk.</summary>
    public void AppendCell(string key, IEnumerable<string> lines)
    {
        if (key.Contains('\t') || key.Contains('\n')) throw new ArgumentException($"a cell key cannot hold a tab or newline: '{key}'", nameof(key));
        var d = data ?? throw new InvalidOperationException("the CSV is already complete");
        var start = d.Length;
        var text = new StringBuilder();
        foreach (var line in lines) text.Append(line).Append('\n');
        var bytes = Encoding.UTF8.GetBytes(text.ToString());
        if (FaultDelayMs > 0)
        {
            d.Write(bytes, 0, bytes.Length / 2);
            d.Flush(flushToDisk: true);
            Thread.Sleep(FaultDelayMs);
            d.Write(bytes, bytes.Length / 2, bytes.Length - bytes.Length / 2);
            d.Flush(flushToDisk: true);
            Thread.Sleep(FaultDelayMs);
        }
        else
        {
            d.Write(bytes);
            d.Flush(flushToDisk: true);
        }
        journal!.Write(Encoding.UTF8.GetBytes($"{key}\t{d.Length.ToString(CultureInfo.InvariantCulture)}\n"));
        journal.Flush(flushToDisk: true);
        cells.Add((key, start, d.Length));
    }

    /// <summary>
    /// Closes the file and gives it its final name, with the cells in <paramref name="order"/>
    /// (keys) when given: cells finished by several devices at once arrive in any order, and the
    /// result must not depend on it.
    /// </summary>
    public void Complete(IReadOnlyList<string>? order = null)
    {
        data?.Dispose();
        journal?.Dispose();
        (data, journal) = (null, null);
        if (order is not null && !order.SequenceEqual(cells.Select(c => c.Key)))
        {
            var byKey = cells.ToDictionary(c => c.Key);
            var temporary = partialPath + ".ordered";
            using (var source = File.OpenRead(partialPath))
            using (var target = File.Create(temporary))
            {
                var header = new byte[cells.Count > 0 ? cells.Min(c => c.Start) : source.Length];
                source.ReadExactly(header);
                target.Write(header);
                foreach (var key in order)
                {
                    var (_, start, end) = byKey[key];
                    var bytes = new byte[end - start];
                    source.Seek(start, SeekOrigin.Begin);
                    source.ReadExactly(bytes);
                    target.Write(bytes);
                }
                target.Flush(flushToDisk: true);
            }
            File.Move(temporary, partialPath, overwrite: true);
        }
        File.Move(partialPath, finalPath, overwrite: true);
        File.Delete(journalPath);
    }

    public void Dispose()
    {
        data?.Dispose();
        journal?.Dispose();
    }
}
