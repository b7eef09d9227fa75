namespace Collapse.Tests.Results;

public class ResumableCsvTests
{
    static string TemporaryPath() => Path.Combine(Path.GetTempPath(), $"resumable-{Guid.NewGuid():N}.csv");

    static void Write(string path, string[] cells)
    {
        using var csv = new ResumableCsv(path, "cell,value", resume: false);
        foreach (var cell in cells) csv.AppendCell(cell, [$"{cell},1", $"{cell},2"]);
    }

    [Fact]
    public void Reopening_keeps_recorded_cells_and_drops_what_follows_them()
    {
        var path = TemporaryPath();
        Write(path, ["a", "b"]);
        // A kill after some of a third cell's bytes reached the file, before its record.
        File.AppendAllText(path + ".partial", "c,1\nc,");
        using (var csv = new ResumableCsv(path, "cell,value", resume: true))
        {
            Assert.Equal(["a", "b"], csv.CompletedCells.Order());
            csv.AppendCell("c", ["c,1", "c,2"]);
            csv.Complete();
        }
        Assert.Equal(["cell,value", "a,1", "a,2", "b,1", "b,2", "c,1", "c,2"], File.ReadAllLines(path));
        Assert.False(File.Exists(path + ".partial"));
        Assert.False(File.Exists(path + ".cells"));
    }

    [Fact]
    public void A_record_cut_short_or_naming_an_unknown_cell_is_not_trusted()
    {
        var path = TemporaryPath();
        Write(path, ["a", "b"]);
        var journal = File.ReadAllText(path + ".cells");
        File.WriteAllText(path + ".cells", journal[..^2]); // b's record lost its last digit and newline
        using (var csv = new ResumableCsv(path, "cell,value", resume: true))
            Assert.Equal(["a"], csv.CompletedCells);
        Assert.Equal(["cell,value", "a,1", "a,2"], File.ReadAllLines(path + ".partial"));

        Write(path, ["a", "b"]);
        using (var csv = new ResumableCsv(path, "cell,value", resume: true, validKeys: new HashSet<string> { "b" }))
            Assert.Empty(csv.CompletedCells);
    }

    [Fact]
    public void Without_resume_an_old_partial_file_is_started_afresh()
    {
        var path = TemporaryPath();
        Write(path, ["a"]);
        using var csv = new ResumableCsv(path, "cell,value", resume: false);
        Assert.Empty(csv.CompletedCells);
        csv.Complete();
        Assert.Equal(["cell,value"], File.ReadAllLines(path));
    }
}
