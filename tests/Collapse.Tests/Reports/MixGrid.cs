namespace Collapse.Tests.Reports;

/// <summary>Hand-built mix.csv rows with known paired effects, for the report and figure tests.</summary>
public static class MixGrid
{
    /// <summary>
    /// Every (num_real, num_synthetic) × seed: seed s's baseline is <c>baseline(num_real) + 0.05·s</c> (a
    /// per-seed level that pairing cancels); num_synthetic &gt; 0 adds <c>effect(num_real, num_synthetic)</c>
    /// plus ±<paramref name="jitter"/> alternating over seeds, so with an even number of seeds the paired
    /// mean difference is exactly the effect and its standard error ≈ jitter/√seeds.
    /// </summary>
    public static List<MixRow> Build(string family, int[] reals, int[] synthetic, int seeds,
        Func<int, double> baseline, Func<int, int, double> effect, double jitter = 0.01, IReadOnlyList<string>? extra = null)
    {
        var rows = new List<MixRow>();
        foreach (var real in reals)
            foreach (var s in synthetic)
                for (var seed = 0; seed < seeds; seed++)
                {
                    var value = baseline(real) + 0.05 * seed;
                    if (s > 0) value += effect(real, s) + (seed % 2 == 0 ? jitter : -jitter);
                    rows.Add(new MixRow(family, real, s, seed, value, extra ?? []));
                }
        return rows;
    }
}
