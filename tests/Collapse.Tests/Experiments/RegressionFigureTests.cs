using Collapse.Experiments.Figures;
using Collapse.Tests.Cli;
using SkiaSharp;

namespace Collapse.Tests.Experiments;

public class RegressionFigureTests
{
    const int Dim = 2, Seeds = 20, Iterations = 10;
    static readonly int[] Samples = [5, 20];
    static readonly double[] Sigmas = [0.5];

    /// <summary>
    /// regression.csv rows from a small simulation of the protocol with System.Random: w* ~ N(0, I), x ~ N(0, I),
    /// labels x·w + N(0, σ²) with w = w* at iteration 1 and the previous fit after; each setting fits least squares
    /// to its data (Replace the newest n, Accumulate all so far, Accumulate-Subsample n drawn from all so far);
    /// the test MSE is over 200 fresh points. Plausible numbers, not the sweep's.
    /// </summary>
    static List<RegressionRow> Simulate(IReadOnlyList<double>? sigmas = null)
    {
        var rows = new List<RegressionRow>();
        foreach (var setting in Settings.All)
            foreach (var n in Samples)
                foreach (var sigma2 in sigmas ?? Sigmas)
                    for (var seed = 0; seed < Seeds; seed++)
                    {
                        // A seed from the cell (HashCode is salted per process), so every run draws the same rows.
                        var random = new System.Random(((int)setting * 1000 + n) * 1000 + (int)(sigma2 * 100) + seed * 7919);
                        var truth = Normals(random, Dim);
                        var (poolX, poolY) = (new List<double[]>(), new List<double>());
                        var w = truth;
                        for (var t = 1; t <= Iterations; t++)
                        {
                            var (x, y) = (new List<double[]>(), new List<double>());
                            for (var i = 0; i < n; i++)
                            {
                                var xi = Normals(random, Dim);
                                x.Add(xi);
                                y.Add(Dot(xi, w) + Math.Sqrt(sigma2) * Normals(random, 1)[0]);
                            }
                            poolX.AddRange(x);
                            poolY.AddRange(y);
                            if (setting != Setting.Replace) (x, y) = (poolX, poolY);
                            if (setting == Setting.AccumulateSubsample)
                            {
                                var picked = Enumerable.Range(0, poolX.Count).OrderBy(_ => random.Next()).Take(n).ToList();
                                (x, y) = (picked.Select(i => poolX[i]).ToList(), picked.Select(i => poolY[i]).ToList());
                            }
                            w = LeastSquares(x, y);
                            var test = Enumerable.Range(0, 200).Select(_ => Normals(random, Dim)).ToList();
                            var mse = test.Average(p => Math.Pow(Dot(p, w) - Dot(p, truth), 2));
                            var error = w.Zip(truth).Sum(p => (p.First - p.Second) * (p.First - p.Second));
                            rows.Add(new RegressionRow(setting, Dim, n, sigma2, seed, t, mse, error));
                        }
                    }
        return rows;
    }

    static double[] Normals(System.Random random, int count) =>
        Enumerable.Range(0, count).Select(_ => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())).ToArray();

    static double Dot(double[] a, double[] b) => a.Zip(b).Sum(p => p.First * p.Second);

    /// <summary>The normal equations XᵀX w = Xᵀy by Gaussian elimination (d is tiny).</summary>
    static double[] LeastSquares(List<double[]> x, List<double> y)
    {
        var d = x[0].Length;
        var a = new double[d, d + 1];
        for (var r = 0; r < x.Count; r++)
            for (var i = 0; i < d; i++)
            {
                for (var j = 0; j < d; j++) a[i, j] += x[r][i] * x[r][j];
                a[i, d] += x[r][i] * y[r];
            }
        for (var i = 0; i < d; i++)
            for (var k = i + 1; k < d; k++)
            {
                var f = a[k, i] / a[i, i];
                for (var j = i; j <= d; j++) a[k, j] -= f * a[i, j];
            }
        var w = new double[d];
        for (var i = d - 1; i >= 0; i--)
        {
            var s = a[i, d];
            for (var j = i + 1; j < d; j++) s -= a[i, j] * w[j];
            w[i] = s / a[i, i];
        }
        return w;
    }

    /// <summary>Replace's exact E‖ŵ_t − w*‖² = σ² d t / (n − d − 1) (Gaussian design, n > d + 1); no value for the other settings.</summary>
    static double[]? ReplaceTheory(Setting setting, int d, int n, double sigma2, int iterations) =>
        setting != Setting.Replace ? null
        : Enumerable.Range(1, iterations).Select(t => n > d + 1 ? sigma2 * d * t / (n - d - 1) : double.PositiveInfinity).ToArray();

    /// <summary>A decodable PNG of the configured size with more than a blank page in it.</summary>
    static void AssertPng(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 1000, $"{path}: {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        Assert.Equal((RegressionFigures.Width, RegressionFigures.Height), (bitmap.Width, bitmap.Height));
        var colours = new HashSet<uint>();
        for (var y = 0; y < bitmap.Height; y += 3)
            for (var x = 0; x < bitmap.Width; x += 3)
                colours.Add((uint)bitmap.GetPixel(x, y));
        Assert.True(colours.Count > 20, $"{path}: only {colours.Count} colours");
    }

    [Fact]
    public void Each_d_and_sigma_squared_gets_the_iteration_figure_and_each_sigma_squared_the_final_one()
    {
        var directory = CliRunner.TemporaryDirectory();
        var paths = RegressionFigures.DrawAll(Simulate([0.5, 2]), directory, ReplaceTheory);
        Assert.Equal(["regression-test_mse-d2-sigma2_0.5.png", "regression-final_test_mse-sigma2_0.5.png",
                      "regression-test_mse-d2-sigma2_2.png", "regression-final_test_mse-sigma2_2.png"], paths.Select(Path.GetFileName));
        Assert.Equal(paths.Order(), Directory.GetFiles(directory).Order());
        foreach (var p in paths) AssertPng(p);
    }

    [Fact]
    public void The_theory_is_asked_once_for_every_cell_present_with_its_last_iteration()
    {
        var calls = new List<(Setting, int, int, double, int)>();
        var rows = Simulate();
        rows.RemoveAll(r => r.Setting == Setting.Accumulate && r.N == 20); // a cell absent from the data is not asked for
        RegressionFigures.DrawAll(rows, CliRunner.TemporaryDirectory(), (s, d, n, sigma2, t) =>
        {
            calls.Add((s, d, n, sigma2, t));
            return ReplaceTheory(s, d, n, sigma2, t);
        });
        var cells = rows.Select(r => (r.Setting, r.Dim, r.N, r.NoiseVariance, Iterations)).Distinct().Order().ToList();
        Assert.Equal(5, cells.Count);
        Assert.Equal(cells, calls.Order());
    }

    [Fact]
    public void The_exact_curve_is_drawn_and_a_nan_or_infinite_theory_draws_nothing_without_throwing()
    {
        var rows = Simulate();
        var none = RegressionFigures.DrawAll(rows, CliRunner.TemporaryDirectory());
        var exact = RegressionFigures.DrawAll(rows, CliRunner.TemporaryDirectory(), ReplaceTheory);
        // No drawable value anywhere: NaN, +∞ (divergent), −∞, 0 (not on a log axis) or no array at all.
        var undrawable = RegressionFigures.DrawAll(rows, CliRunner.TemporaryDirectory(), (s, d, n, sigma2, t) => s switch
        {
            Setting.Replace => Enumerable.Repeat(double.NaN, t).ToArray(),
            Setting.Accumulate => Enumerable.Range(0, t).Select(i => i % 2 == 0 ? double.PositiveInfinity : double.NegativeInfinity).ToArray(),
            _ => n == 5 ? null : new double[t],
        });
        foreach (var p in none.Concat(exact).Concat(undrawable)) AssertPng(p);
        for (var i = 0; i < none.Count; i++)
        {
            Assert.NotEqual(File.ReadAllBytes(none[i]), File.ReadAllBytes(exact[i]));
            Assert.Equal(File.ReadAllBytes(none[i]), File.ReadAllBytes(undrawable[i]));
        }

        // Partly drawable (gaps of NaN and +∞ between finite values) draws too.
        var gaps = RegressionFigures.DrawAll(rows, CliRunner.TemporaryDirectory(), (s, d, n, sigma2, t) =>
            ReplaceTheory(Setting.Replace, d, n, sigma2, t)!.Select((v, i) => i % 3 == 1 ? double.NaN : i % 3 == 2 ? double.PositiveInfinity : v).ToArray());
        foreach (var p in gaps) AssertPng(p);
    }

    [Fact]
    public void Non_finite_seeds_are_left_out_and_a_cell_without_a_finite_value_is_not_drawn()
    {
        var rows = Simulate();
        rows[0] = rows[0] with { TestMse = double.NaN };
        rows = rows.Select(r => r.Setting == Setting.Replace && r.N == 5 ? r with { TestMse = double.PositiveInfinity } : r).ToList();
        foreach (var p in RegressionFigures.DrawAll(rows, CliRunner.TemporaryDirectory(), ReplaceTheory)) AssertPng(p);
    }

    [Fact]
    public void No_rows_or_an_iteration_below_1_is_a_clear_error_and_nothing_is_written()
    {
        var directory = CliRunner.TemporaryDirectory();
        var empty = Assert.Throws<ArgumentException>(() => RegressionFigures.DrawAll([], directory));
        Assert.StartsWith("no regression rows to draw", empty.Message);
        var rows = Simulate();
        rows[3] = rows[3] with { Iteration = 0 };
        var zero = Assert.Throws<ArgumentException>(() => RegressionFigures.DrawAll(rows, directory));
        Assert.StartsWith("iteration 0 (replace d=2 n=5 σ²=0.5, seed 0)", zero.Message);
        Assert.False(Directory.Exists(directory));
    }

    [Fact]
    public void A_theory_shorter_than_the_run_is_refused_by_name()
    {
        var e = Assert.Throws<InvalidOperationException>(() =>
            RegressionFigures.DrawAll(Simulate(), CliRunner.TemporaryDirectory(), (s, d, n, sigma2, t) => new double[t - 1]));
        Assert.Contains("gave 9 values for replace d=2 n=5 σ²=0.5, which runs 10 iterations", e.Message);
    }

    static string WriteCsv(IEnumerable<RegressionRow> rows)
    {
        var directory = CliRunner.TemporaryDirectory();
        Directory.CreateDirectory(directory);
        var csv = Path.Combine(directory, "regression.csv");
        File.WriteAllLines(csv, rows.Select(r => r.ToCsv()).Prepend(RegressionRow.Header));
        return csv;
    }

    [Fact]
    public void RunFigures_knows_a_regression_csv_by_its_header_and_draws_the_exact_theory()
    {
        var rows = Simulate();
        var csv = WriteCsv(rows);
        // Under another name, so only the header can tell it.
        var renamed = Path.Combine(Path.GetDirectoryName(csv)!, "run.csv");
        File.Move(csv, renamed);
        var directory = CliRunner.TemporaryDirectory();
        var (figures, summary) = RunFigures.Draw(renamed, directory);
        Assert.Null(summary);
        Assert.Equal([RegressionFigures.TestMseFile(2, 0.5), RegressionFigures.FinalFile(0.5)], figures.Select(Path.GetFileName));
        foreach (var p in figures) AssertPng(p);
        // The same rows drawn directly with the engine's exact theory give the same pixels (nothing lost through the
        // CSV), and without it different ones (the dashed curves are there).
        var direct = RegressionFigures.DrawAll(rows, CliRunner.TemporaryDirectory(), RegressionTheory.ExpectedTestMse);
        for (var i = 0; i < figures.Count; i++) Assert.Equal(File.ReadAllBytes(direct[i]), File.ReadAllBytes(figures[i]));
        var bare = RegressionFigures.DrawAll(rows, CliRunner.TemporaryDirectory());
        Assert.NotEqual(File.ReadAllBytes(bare[0]), File.ReadAllBytes(figures[0]));
    }

    [Fact]
    public void A_header_only_or_damaged_regression_csv_is_a_format_error_naming_the_problem()
    {
        var headerOnly = WriteCsv([]);
        Assert.Contains("no rows under the header", Assert.Throws<FormatException>(() => RunFigures.Draw(headerOnly, CliRunner.TemporaryDirectory())).Message);
        var damaged = WriteCsv(Simulate().Take(3));
        File.WriteAllLines(damaged, File.ReadAllLines(damaged).Skip(1).Prepend("setting,dim,n,sigma2,seed,iteration,test_mse,weight_error"));
        // Known by its name, so the error names regression.csv's header rather than gaussian.csv's.
        Assert.Contains($"expected '{RegressionRow.Header}'", Assert.Throws<FormatException>(() => RunFigures.Draw(damaged, CliRunner.TemporaryDirectory())).Message);
    }

    [Fact]
    public void Collapse_plot_draws_a_regression_csv_into_figures_beside_it()
    {
        var csv = WriteCsv(Simulate());
        var result = CliRunner.Run(["plot", csv]);
        Assert.True(result.ExitCode == 0, result.Error + result.Out);
        var figures = Path.Combine(Path.GetDirectoryName(csv)!, "figures");
        Assert.Equal([RegressionFigures.FinalFile(0.5), RegressionFigures.TestMseFile(2, 0.5)], Directory.GetFiles(figures).Select(Path.GetFileName).Order());
        Assert.Contains(RegressionFigures.TestMseFile(2, 0.5), result.Out);
    }
}
