namespace Collapse.Engine.Data;

/// <summary>The KDE setting's datasets (docs/DESIGN.md, section B), as scikit-learn's <c>make_*</c> functions define them.</summary>
public enum ToyDataset { Blobs, Circles, Moons, SwissRoll }

public static class ToyDatasets
{
    public static readonly IReadOnlyList<ToyDataset> All = Enum.GetValues<ToyDataset>();

    /// <summary>The spelling used on the command line and in CSV files.</summary>
    public static string Name(this ToyDataset dataset) => dataset switch
    {
        ToyDataset.Blobs => "blobs",
        ToyDataset.Circles => "circles",
        ToyDataset.Moons => "moons",
        ToyDataset.SwissRoll => "swiss-roll",
        _ => throw new ArgumentOutOfRangeException(nameof(dataset)),
    };

    public static bool TryParse(string text, out ToyDataset dataset)
    {
        foreach (var d in All)
            if (string.Equals(d.Name(), text.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                dataset = d;
                return true;
            }
        dataset = default;
        return false;
    }

    public static ToyDataset Parse(string text) => TryParse(text, out var d)
        ? d
        : throw new FormatException($"unknown dataset '{text}': expected one of {string.Join(", ", All.Select(Name))}");

    public static int Dim(this ToyDataset dataset) => dataset == ToyDataset.SwissRoll ? 3 : 2;
}

/// <summary>
/// One seed's real distribution of a toy dataset. For blobs that is the three centers, drawn once
/// per seed, so the training data and the test set come from the same distribution (the paper's
/// script drew new centers for its test set; this suite does not). Points are not shuffled: every
/// model fitted here is invariant to their order. Randomness comes from the suite's counter-based
/// generator, so a dataset is a pure function of its streams.
/// </summary>
public sealed class ToyDistribution
{
    public const double BlobStd = 1.0, BlobBox = 10.0, CirclesFactor = 0.8, Noise = 0.05;
    public const int BlobCenters = 3;

    public ToyDataset Dataset { get; }
    public int Dim => Dataset.Dim();

    /// <summary>Blob centers, [center][2]; empty for the other datasets.</summary>
    public double[] Centers { get; }

    ToyDistribution(ToyDataset dataset, double[] centers)
    {
        Dataset = dataset;
        Centers = centers;
    }

    /// <summary>The seed's distribution: blob centers uniform in [−10, 10]² from <paramref name="stream"/>.</summary>
    public static ToyDistribution ForSeed(ToyDataset dataset, RandomStream stream)
    {
        var centers = Array.Empty<double>();
        if (dataset == ToyDataset.Blobs)
        {
            centers = new double[BlobCenters * 2];
            for (var i = 0; i < centers.Length; i++) centers[i] = -BlobBox + 2 * BlobBox * Uniform(stream, (ulong)i);
        }
        return new ToyDistribution(dataset, centers);
    }

    /// <summary>count points, [point][Dim], from the normals of <paramref name="stream"/> and the uniforms of <paramref name="uniforms"/>.</summary>
    public double[] Sample(int count, RandomStream stream, RandomStream uniforms)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "at least one point");
        var x = new double[count * Dim];
        switch (Dataset)
        {
            case ToyDataset.Blobs:
                // make_blobs: n // 3 points per center, the first n % 3 centers one more.
                for (int c = 0, p = 0; c < BlobCenters; c++)
                {
                    var size = count / BlobCenters + (c < count % BlobCenters ? 1 : 0);
                    for (var k = 0; k < size; k++, p++)
                        for (var j = 0; j < 2; j++)
                            x[2 * p + j] = Centers[2 * c + j] + BlobStd * Normal(stream, (ulong)(2 * p + j));
                }
                break;
            case ToyDataset.Circles:
            {
                // make_circles: n // 2 points on the outer circle, the rest on the inner, at evenly spaced angles.
                var outer = count / 2;
                for (var p = 0; p < count; p++)
                {
                    var (size, index, radius) = p < outer ? (outer, p, 1.0) : (count - outer, p - outer, CirclesFactor);
                    var angle = 2 * Math.PI * index / size;
                    x[2 * p] = radius * Math.Cos(angle) + Noise * Normal(stream, (ulong)(2 * p));
                    x[2 * p + 1] = radius * Math.Sin(angle) + Noise * Normal(stream, (ulong)(2 * p + 1));
                }
                break;
            }
            case ToyDataset.Moons:
            {
                // make_moons: angles linspace(0, π) including both ends on each half-circle.
                var outer = count / 2;
                for (var p = 0; p < count; p++)
                {
                    var upper = p < outer;
                    var (size, index) = upper ? (outer, p) : (count - outer, p - outer);
                    var angle = size > 1 ? Math.PI * index / (size - 1) : 0.0;
                    var (cx, cy) = upper ? (Math.Cos(angle), Math.Sin(angle)) : (1 - Math.Cos(angle), 1 - Math.Sin(angle) - 0.5);
                    x[2 * p] = cx + Noise * Normal(stream, (ulong)(2 * p));
                    x[2 * p + 1] = cy + Noise * Normal(stream, (ulong)(2 * p + 1));
                }
                break;
            }
            case ToyDataset.SwissRoll:
                // make_swiss_roll: t = 1.5π(1 + 2u), height 21u', point (t cos t, height, t sin t) + noise.
                for (var p = 0; p < count; p++)
                {
                    var t = 1.5 * Math.PI * (1 + 2 * Uniform(uniforms, (ulong)(2 * p)));
                    var height = 21 * Uniform(uniforms, (ulong)(2 * p + 1));
                    x[3 * p] = t * Math.Cos(t) + Noise * Normal(stream, (ulong)(3 * p));
                    x[3 * p + 1] = height + Noise * Normal(stream, (ulong)(3 * p + 1));
                    x[3 * p + 2] = t * Math.Sin(t) + Noise * Normal(stream, (ulong)(3 * p + 2));
                }
                break;
        }
        return x;
    }

    /// <summary>Uniform in [0, 1) with 53 bits: number i of the stream (two words each).</summary>
    static double Uniform(RandomStream stream, ulong i)
    {
        var block = stream.Block(i >> 1);
        return (i & 1) == 0 ? Philox.UniformDouble(block.X, block.Y) : Philox.UniformDouble(block.Z, block.W);
    }

    static double Normal(RandomStream stream, ulong i) => Philox.Normal(stream, i);
}
