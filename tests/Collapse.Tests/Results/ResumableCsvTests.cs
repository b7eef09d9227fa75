using Collapse.Engine.Results;

namespace Collapse.Tests.Results;

public class ResumableCsvTests
{
    static string Key(string line) => line.Split(',')[0];

    [Fact]
    public void Reopening_keeps_complete_cells_and_drops_a_half_written_one()
    {
        var path = Path.Combine(Path.GetTempPath(), $"resumable-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(path + ".partial", ["cell,value", "a,1", "a,2", "b,1"]);
        using (var csv = new ResumableCsv(path, "cell,value", Key, rowsPerCell: 2, resume: true))
        {
            Assert.Equal(["a"], csv.CompletedCells);
            csv.AppendCell(["b,1", "b,2"]);
            csv.Complete();
        }
        Assert.Equal(["cell,value", "a,1", "a,2", "b,1", "b,2"], File.ReadAllLines(path));
        Assert.False(File.Exists(path + ".partial"));
    }

    [Fact]
    public void Without_resume_an_old_partial_file_is_started_afresh()
    {
        var path = Path.Combine(Path.GetTempPath(), $"resumable-{Guid.NewGuid():N}.csv");
        File.WriteAllLines(path + ".partial", ["cell,value", "a,1", "a,2"]);
        using var csv = new ResumableCsv(path, "cell,value", Key, rowsPerCell: 2, resume: false);
        Assert.Empty(csv.CompletedCells);
        csv.Complete();
        Assert.Equal(["cell,value"], File.ReadAllLines(path));
    }
}
