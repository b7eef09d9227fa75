namespace Collapse.Engine.Results;

/// <summary>
/// A tidy CSV written one whole cell at a time to <c>NAME.csv.partial</c>, flushed after each
/// cell and renamed to <c>NAME.csv</c> when the sweep completes: an interrupted sweep keeps every
/// finished cell, and nothing partial looks like a result. Reopening drops a half-written cell.
/// </summary>
public sealed class ResumableCsv : IDisposable
{
    readonly string finalPath;
    readonly string partialPath;
    StreamWriter? writer;

    public IReadOnlySet<string> CompletedCells { get; }

    /// <param name="cellKey">The cell a data line belongs to (e.g. its first columns).</param>
    /// <param name="rowsPerCell">How many rows make a complete cell.</param>
    /// <param name="resume">Keep the complete cells of an existing partial file; otherwise start afresh.</param>
    public ResumableCsv(string finalPath, string header, Func<string, string> cellKey, int rowsPerCell, bool resume)
    {
        this.finalPath = finalPath;
        partialPath = finalPath + ".partial";
        var kept = new List<string>();
        var completed = new HashSet<string>();
        if (resume && File.Exists(partialPath))
        {
            var lines = File.ReadAllLines(partialPath);
            if (lines.Length > 0 && lines[0] == header)
            {
                foreach (var group in lines.Skip(1).Where(l => l.Length > 0).GroupBy(cellKey))
                {
                    var cellLines = group.ToList();
                    if (cellLines.Count != rowsPerCell) continue;
                    completed.Add(group.Key);
                    kept.AddRange(cellLines);
                }
            }
        }
        CompletedCells = completed;
        var temporary = partialPath + ".tmp";
        File.WriteAllLines(temporary, kept.Prepend(header));
        File.Move(temporary, partialPath, overwrite: true);
        writer = new StreamWriter(new FileStream(partialPath, FileMode.Append, FileAccess.Write, FileShare.Read));
    }

    public void AppendCell(IEnumerable<string> lines)
    {
        var w = writer ?? throw new InvalidOperationException("the CSV is already complete");
        foreach (var line in lines) w.WriteLine(line);
        w.Flush();
    }

    /// <summary>Closes the file and gives it its final name.</summary>
    public void Complete()
    {
        writer?.Dispose();
        writer = null;
        File.Move(partialPath, finalPath, overwrite: true);
    }

    public void Dispose() => writer?.Dispose();
}
