using System.Globalization;
using Collapse.Engine.Families;

namespace Collapse.Tests.Cli;

/// <summary><c>collapse theory gaussian</c>: the exact expectations as tidy CSV, and bad input refused as run gaussian refuses it.</summary>
public class TheoryCliTests
{
    [Fact]
    public void Writes_every_cell_and_iteration_of_the_grid_from_the_formulas()
    {
        var result = CliRunner.Run("theory", "gaussian", "--dims", "1,10", "--samples", "10,100", "--iterations", "5");
        Assert.True(result.ExitCode == 0, result.Error);
        var lines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(GaussianTheoryRow.Header, lines[0]);
        Assert.Equal(3 * 2 * 2 * 5, lines.Length - 1);
        foreach (var line in lines.Skip(1))
        {
            var f = line.Split(',');
            var (setting, d, n, t) = (Settings.Parse(f[0]), int.Parse(f[1], CultureInfo.InvariantCulture), int.Parse(f[2], CultureInfo.InvariantCulture), int.Parse(f[3], CultureInfo.InvariantCulture));
            var expected = GaussianTheory.Expectations(setting, d, n, t)[t - 1];
            Assert.Equal(expected.TraceRatio, CsvNumber.Parse(f[4]));
            Assert.Equal(expected.SquaredErrorMean, CsvNumber.Parse(f[5]));
            // The log-det expectation is Replace's alone (−inf where n ≤ d).
            Assert.Equal(setting == Setting.Replace, f[6].Length > 0);
            if (setting == Setting.Replace && n <= d) Assert.Equal("-inf", f[6]);
        }
    }

    [Fact]
    public void Writes_the_file_out_names()
    {
        var path = Path.Combine(CliRunner.TemporaryDirectory(), "nested", "theory.csv");
        var result = CliRunner.Run("theory", "gaussian", "--dims", "3", "--samples", "10", "--iterations", "2", "--settings", "accumulate", "--out", path);
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal([GaussianTheoryRow.Header, "accumulate,3,10,1,0.9,0.3,", "accumulate,3,10,2,0.8775,0.3675,"], File.ReadAllLines(path));
    }

    [Theory]
    [InlineData("--dims", "0", "--dims 0 is not valid")]
    [InlineData("--samples", "1", "--samples 1 is not valid")]
    [InlineData("--iterations", "0", "--iterations")]
    [InlineData("--settings", "replace,bogus", "--settings")]
    public void Bad_input_is_refused_naming_the_flag(string flag, string value, string message)
    {
        var result = CliRunner.Run("theory", "gaussian", flag, value);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error);
        Assert.Equal("", result.Out);
    }
}
