using System.Globalization;
using Collapse.Engine.Families;

namespace Collapse.Tests.Cli;

/// <summary>
/// <c>collapse theory gaussian</c> and <c>collapse theory regression</c>: the exact expectations as tidy CSV,
/// and bad input refused as the sweeps' configurations refuse it.
/// </summary>
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

    [Fact]
    public void Regression_writes_every_cell_and_iteration_inf_where_it_diverges_and_empty_where_unknown()
    {
        var result = CliRunner.Run("theory", "regression", "--dims", "3,10", "--samples", "4,10", "--sigma-squared", "0,1", "--iterations", "3");
        Assert.True(result.ExitCode == 0, result.Error);
        var lines = result.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(RegressionTheoryRow.Header, lines[0]);
        Assert.Equal(3 * 2 * 2 * 2 * 3, lines.Length - 1);
        var rows = lines.Skip(1).Select(line => line.Split(',')).ToDictionary(f => string.Join(',', f[..5]), f => f[5]);
        // d = 3, n = 10, σ² = 1: σ²·d/(n − d − 1) = 1/2 per generation under Replace.
        Assert.Equal(1.5, CsvNumber.Parse(rows["replace,3,10,1,3"]));
        // n = d + 1 with noise: the inverse-Wishart mean diverges.
        Assert.Equal("inf", rows["accumulate,3,4,1,2"]);
        // A wide design without noise keeps the bias d − n.
        Assert.Equal(6.0, CsvNumber.Parse(rows["replace,10,4,0,3"]));
        // The subsample after its first fit, with noise: no closed form, an empty field.
        Assert.Equal("", rows["accumulate-subsample,3,10,1,2"]);
        Assert.Equal(CsvNumber.Parse(rows["replace,3,10,1,1"]), CsvNumber.Parse(rows["accumulate-subsample,3,10,1,1"]));
    }

    [Fact]
    public void Regression_writes_the_file_out_names()
    {
        var path = Path.Combine(CliRunner.TemporaryDirectory(), "nested", "regression-theory.csv");
        var result = CliRunner.Run("theory", "regression", "--dims", "1", "--samples", "5", "--sigma-squared", "3", "--iterations", "2", "--settings", "accumulate", "--out", path);
        Assert.True(result.ExitCode == 0, result.Error);
        // d = 1: E[1/χ²_5] = 1/3, so σ² = 3 gives 1 at t = 1 and 1 + 1/4 at t = 2.
        Assert.Equal([RegressionTheoryRow.Header, "accumulate,1,5,3,1,1", "accumulate,1,5,3,2,1.25"], File.ReadAllLines(path));
    }

    [Theory]
    [InlineData("--sigma-squared", "-1", "--sigma-squared -1 is not valid")]
    [InlineData("--sigma-squared", "0.1,x", "--sigma-squared 'x' is not valid")]
    [InlineData("--sigma-squared", "1,1", "--sigma-squared")]
    [InlineData("--samples", "0", "--samples 0 is not valid")]
    [InlineData("--dims", "0", "--dims 0 is not valid")]
    [InlineData("--iterations", "0", "--iterations")]
    public void Regression_bad_input_is_refused_naming_the_flag(string flag, string value, string message)
    {
        var result = CliRunner.Run("theory", "regression", flag, value);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains(message, result.Error);
        Assert.Equal("", result.Out);
    }
}
