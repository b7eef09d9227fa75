namespace Collapse.Tests.Cli;

/// <summary>
/// A real process killed with SIGKILL at several points of a sweep, then the same command run
/// again: the finished CSV must equal an uninterrupted run's byte for byte.
/// </summary>
public class KillResumeTests
{
    static readonly string[] Sweep = ["run", "kde", "--datasets", "blobs,moons", "--bandwidths", "0.5,scott", "--samples", "6,40",
        "--seeds", "3", "--iterations", "5", "--test-size", "50", "--no-figures"];

    /// <summary>(cells recorded in the journal, bytes of the partial CSV beyond the last record).</summary>
    static (int Recorded, long Unrecorded) State(string directory)
    {
        try
        {
            var records = File.ReadAllText(Path.Combine(directory, "kde.csv.cells")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var end = records.Length == 0 ? 0 : long.Parse(records[^1][(records[^1].LastIndexOf('\t') + 1)..]);
            var length = new FileInfo(Path.Combine(directory, "kde.csv.partial")).Length;
            return (records.Length, end == 0 ? 0 : length - end);
        }
        catch (Exception e) when (e is IOException or FormatException)
        {
            return (0, 0);
        }
    }

    [Fact]
    public void Killed_at_several_points_then_rerun_gives_the_uninterrupted_bytes()
    {
        var clean = CliRunner.TemporaryDirectory();
        var first = CliRunner.Run([.. Sweep, "--out", clean]);
        Assert.True(first.ExitCode == 0, first.Error);
        var expected = File.ReadAllBytes(Path.Combine(clean, "kde.csv"));

        // Writes pause mid-cell and before each record (fault injection), so the polls below can
        // land kills inside a cell's lines, after its lines but before its record, between cells,
        // and right after start.
        var directory = CliRunner.TemporaryDirectory();
        Func<(int Recorded, long Unrecorded), bool>[] killWhen =
        [
            s => s.Recorded >= 2 && s.Unrecorded > 0,
            s => s.Recorded >= 1,
            s => s.Recorded >= 6 && s.Unrecorded > 0,
            s => s.Recorded >= 10 && s.Unrecorded > 0,
            _ => true,
        ];
        var kills = 0;
        foreach (var condition in killWhen)
        {
            using var process = CliRunner.Start([.. Sweep, "--out", directory], ("COLLAPSE_FAULT_WRITE_DELAY_MS", "40"));
            _ = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            _ = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!process.HasExited && !condition(State(directory)) && DateTime.UtcNow < deadline) Thread.Sleep(1);
            if (!process.HasExited)
            {
                process.Kill();
                kills++;
            }
            process.WaitForExit();
        }
        Assert.True(kills >= 4, $"only {kills} of the runs were still going when killed");

        var resumed = CliRunner.Run([.. Sweep, "--out", directory]);
        Assert.True(resumed.ExitCode == 0, resumed.Error);
        Assert.Equal(expected, File.ReadAllBytes(Path.Combine(directory, "kde.csv")));
        Assert.False(File.Exists(Path.Combine(directory, "kde.csv.partial")));
    }
}
