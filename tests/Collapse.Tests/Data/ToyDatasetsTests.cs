namespace Collapse.Tests.Data;

/// <summary>The toy datasets against the shapes scikit-learn's make_* functions define.</summary>
public class ToyDatasetsTests
{
    static readonly RandomStream Centers = new(3, 1, 0, 40), Points = new(3, 1, 1, 41), Uniforms = new(3, 1, 1, 42);

    static (double X, double Y) Point2(double[] x, int p) => (x[2 * p], x[2 * p + 1]);

    [Fact]
    public void Circles_put_half_the_points_on_each_circle()
    {
        const int n = 2001;
        var x = ToyDistribution.ForSeed(ToyDataset.Circles, Centers).Sample(n, Points, Uniforms);
        var radii = Enumerable.Range(0, n).Select(p => Math.Sqrt(x[2 * p] * x[2 * p] + x[2 * p + 1] * x[2 * p + 1])).ToArray();
        var outer = radii.Take(n / 2).ToArray();
        var inner = radii.Skip(n / 2).ToArray();
        Assert.Equal(1000, outer.Length);
        // Radius = 1 (or 0.8) plus the radial part of N(0, 0.05²): mean close, spread ≈ 0.05.
        Assert.InRange(outer.Average(), 1 - 0.01, 1 + 0.01);
        Assert.InRange(inner.Average(), 0.8 - 0.01, 0.8 + 0.01);
        Assert.All(radii, r => Assert.InRange(r, 0.8 - 0.35, 1 + 0.35));
        var spread = Math.Sqrt(outer.Select(r => (r - 1) * (r - 1)).Average());
        Assert.InRange(spread, 0.045, 0.055);
    }

    [Fact]
    public void Moons_lie_on_two_interleaved_half_circles()
    {
        const int n = 1000;
        var x = ToyDistribution.ForSeed(ToyDataset.Moons, Centers).Sample(n, Points, Uniforms);
        for (var p = 0; p < n; p++)
        {
            var (px, py) = Point2(x, p);
            // Distance from the moon's centre: (0, 0) for the upper moon, (1, 0.5) for the lower.
            var r = p < n / 2 ? Math.Sqrt(px * px + py * py) : Math.Sqrt((px - 1) * (px - 1) + (py - 0.5) * (py - 0.5));
            Assert.InRange(r, 1 - 0.35, 1 + 0.35);
            if (p < n / 2) Assert.True(py > -0.35, $"upper moon point {p} below the axis: {py}");
            else Assert.True(py < 0.5 + 0.35, $"lower moon point {p} above its centre line: {py}");
        }
        // linspace(0, π) includes both ends: the first outer point is at angle 0, i.e. (1, 0).
        Assert.InRange(x[0], 1 - 0.3, 1 + 0.3);
        Assert.InRange(x[1], -0.3, 0.3);
    }

    [Fact]
    public void Swiss_roll_has_its_parameter_and_height_in_range()
    {
        const int n = 4000;
        var x = ToyDistribution.ForSeed(ToyDataset.SwissRoll, Centers).Sample(n, Points, Uniforms);
        var heights = new double[n];
        for (var p = 0; p < n; p++)
        {
            var t = Math.Sqrt(x[3 * p] * x[3 * p] + x[3 * p + 2] * x[3 * p + 2]);
            Assert.InRange(t, 1.5 * Math.PI - 0.3, 4.5 * Math.PI + 0.3);
            heights[p] = x[3 * p + 1];
            Assert.InRange(heights[p], -0.3, 21.3);
        }
        // Height uniform on [0, 21]: mean 10.5, SE 21/sqrt(12 n).
        Assert.InRange(heights.Average(), 10.5 - 4.5 * 21 / Math.Sqrt(12.0 * n), 10.5 + 4.5 * 21 / Math.Sqrt(12.0 * n));
    }

    [Fact]
    public void Blobs_share_one_seeds_centers_between_training_and_test_data()
    {
        var distribution = ToyDistribution.ForSeed(ToyDataset.Blobs, Centers);
        Assert.Equal(6, distribution.Centers.Length);
        Assert.All(distribution.Centers, c => Assert.InRange(c, -10, 10));
        var train = distribution.Sample(301, Points, Uniforms);
        var test = distribution.Sample(500, new RandomStream(3, 1, 1, 50), new RandomStream(3, 1, 1, 51));
        foreach (var data in new[] { train, test })
        {
            var counts = new int[3];
            var squared = 0.0;
            for (var p = 0; p < data.Length / 2; p++)
            {
                var nearest = Enumerable.Range(0, 3).MinBy(c =>
                    Math.Pow(data[2 * p] - distribution.Centers[2 * c], 2) + Math.Pow(data[2 * p + 1] - distribution.Centers[2 * c + 1], 2));
                counts[nearest]++;
                squared += Math.Pow(data[2 * p] - distribution.Centers[2 * nearest], 2) + Math.Pow(data[2 * p + 1] - distribution.Centers[2 * nearest + 1], 2);
            }
            // Per-axis variance 1 (slightly less once points are assigned to the nearest center).
            Assert.InRange(squared / (data.Length / 2) / 2, 0.75, 1.15);
        }
        // make_blobs splits n as evenly as possible, earlier centers taking the remainder.
        var first = train.Take(2 * 101).Chunk(2).Select(p => Math.Pow(p[0] - distribution.Centers[0], 2) + Math.Pow(p[1] - distribution.Centers[1], 2));
        Assert.True(first.Average() < 4, "the first n // 3 + 1 points belong to the first center");
    }

    [Fact]
    public void A_dataset_is_a_pure_function_of_its_streams()
    {
        foreach (var dataset in Enum.GetValues<ToyDataset>())
        {
            var a = ToyDistribution.ForSeed(dataset, Centers).Sample(64, Points, Uniforms);
            var b = ToyDistribution.ForSeed(dataset, Centers).Sample(64, Points, Uniforms);
            var c = ToyDistribution.ForSeed(dataset, Centers).Sample(64, Points.ForReplicate(2), Uniforms.ForReplicate(2));
            Assert.Equal(a, b);
            Assert.NotEqual(a, c);
        }
    }
}
