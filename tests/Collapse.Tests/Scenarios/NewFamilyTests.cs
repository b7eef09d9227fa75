namespace Collapse.Tests.Scenarios;

/// <summary>
/// A family added without touching the engine: a coin (Bernoulli(p)) fitted by its maximum-likelihood
/// p̂ = the fraction of heads, written entirely in this file against the family contract, run through
/// the scenario chain under every policy and through <see cref="SweepRun"/>. Its chains have exact
/// theory: p̂_t is a martingale (E p̂_t = p₀ in every setting); under Replace
/// Var p̂_t = p₀q₀(1 − (1 − 1/n)^t), and under Accumulate p̂_t = p̂_{t−1} + (X_t − p̂_{t−1})/t, a
/// martingale step whose variance is E p̂(1 − p̂)/(n t²) = (p₀q₀ − v_{t−1})/(n t²), so
/// v_t = v_{t−1} + (p₀q₀ − v_{t−1})/(n t²), v₀ = 0: bounded, since Σ 1/t² converges.
/// </summary>
public class NewFamilyTests
{
    const double P0 = 0.3;

    /// <summary>n coin flips per replicate, on the host.</summary>
    sealed class Flips(bool[][] heads) : IDataBatch
    {
        public bool[][] Heads { get; } = heads;
        public int Count => Heads[0].Length;
        public void Dispose()
        {
        }
    }

    sealed class CoinFamily(int replicates, uint seed) : IModelFamily<Flips>
    {
        public static readonly Metric PHat = new("p_hat", 0);
        public static readonly MetricSet All = new(PHat);
        readonly double[] p = Enumerable.Repeat(P0, replicates).ToArray();

        public int Replicates => replicates;
        public FamilyCapabilities Capabilities { get; } = new() { MergesAccumulated = true, Pools = true };
        public MetricSet Metrics => All;

        Flips Flip(int count, int iteration, uint stream, double[] probability) => new([.. Enumerable.Range(0, replicates).Select(r =>
        {
            var random = new RandomStream(seed, (uint)r, (uint)iteration, stream);
            return Enumerable.Range(0, count).Select(i => { var b = random.Block((ulong)i); return Philox.UniformDouble(b.X, b.Y) < probability[r]; }).ToArray();
        })]);

        public Flips DrawReal(int count) => Flip(count, 1, RandomStreams.RealData, Enumerable.Repeat(P0, replicates).ToArray());
        public Flips Sample(int count, int iteration) => Flip(count, iteration, RandomStreams.Synthetic, p);

        public void Fit(Flips data)
        {
            for (var r = 0; r < replicates; r++) p[r] = data.Heads[r].Count(h => h) / (double)data.Count;
        }

        public IAccumulation<Flips> BeginAccumulation(long capacity) => new Tally(this);

        /// <summary>Accumulate merges counts: heads and flips so far.</summary>
        sealed class Tally(CoinFamily family) : IAccumulation<Flips>
        {
            readonly long[] heads = new long[family.Replicates];
            public long Count { get; private set; }

            public void AddAndFit(Flips newest)
            {
                Count += newest.Count;
                for (var r = 0; r < heads.Length; r++)
                {
                    heads[r] += newest.Heads[r].Count(h => h);
                    family.p[r] = heads[r] / (double)Count;
                }
            }

            public void Dispose()
            {
            }
        }

        public IDataPool<Flips> CreatePool(long capacity) => new Pool(replicates, seed);

        sealed class Pool(int replicates, uint seed) : IDataPool<Flips>
        {
            readonly List<bool>[] flips = [.. Enumerable.Range(0, replicates).Select(_ => new List<bool>())];
            public long Size => flips[0].Count;
            public void Add(Flips batch)
            {
                for (var r = 0; r < replicates; r++) flips[r].AddRange(batch.Heads[r]);
            }

            public Flips Subsample(int count, int iteration) => new([.. Enumerable.Range(0, replicates).Select(r =>
                HostSampling.WithoutReplacement(new RandomStream(seed, (uint)r, (uint)iteration, RandomStreams.Subsample), (int)Size, count)
                    .Select(i => flips[r][i]).ToArray())]);

            public void Dispose()
            {
            }
        }

        public void Evaluate(MetricTable metrics, Flips? nextGeneration)
        {
            for (var r = 0; r < replicates; r++) metrics[r, PHat] = p[r];
        }

        public void Dispose()
        {
        }
    }

    static double[] Theory(Setting setting, int n, int iterations)
    {
        var (q, v) = (P0 * (1 - P0), 0.0);
        var variances = new double[iterations];
        for (var t = 1; t <= iterations; t++)
        {
            v += setting == Setting.Replace ? (q - v) / n : (q - v) / (n * (double)t * t);
            variances[t - 1] = v;
        }
        return variances;
    }

    [Theory]
    [InlineData("replace")]
    [InlineData("accumulate")]
    [InlineData("accumulate-subsample")]
    public void A_family_written_outside_the_engine_runs_every_policy_and_matches_exact_theory(string name)
    {
        const int replicates = 20_000, n = 10, iterations = 6;
        var setting = Settings.Parse(name);
        using var family = new CoinFamily(replicates, seed: 17);
        var means = new double[iterations];
        var variances = new double[iterations];
        ScenarioRunner.Run(setting, family, n, iterations, chain =>
        {
            var values = Enumerable.Range(0, replicates).Select(r => chain.Metrics[r, CoinFamily.PHat]).ToArray();
            means[chain.Iteration - 1] = values.Average();
            variances[chain.Iteration - 1] = values.Select(x => (x - means[chain.Iteration - 1]) * (x - means[chain.Iteration - 1])).Sum() / (replicates - 1);
        }, TestContext.Current.CancellationToken);
        var theory = Theory(setting, n, iterations);
        for (var t = 0; t < iterations; t++)
        {
            // A martingale in every setting: the mean stays p₀ (within 5 standard errors).
            var standardError = Math.Sqrt(Math.Max(theory[t], P0 * (1 - P0) / n) / replicates);
            Assert.True(Math.Abs(means[t] - P0) < 5 * standardError, $"{name} t={t + 1}: mean p̂ {means[t]:F4}, expected {P0} ± {5 * standardError:F4}");
            // The variance's relative standard error is about √(2/R) ≈ 1%: 6% is five of them.
            if (setting != Setting.AccumulateSubsample)
                Assert.True(Math.Abs(variances[t] / theory[t] - 1) < 0.06, $"{name} t={t + 1}: Var p̂ {variances[t]:E4}, theory {theory[t]:E4}");
        }
        if (setting == Setting.Replace) Assert.True(variances[^1] > 4 * variances[0], "Replace's variance must keep growing towards p₀q₀");
        if (setting == Setting.Accumulate) Assert.True(variances[^1] < 1.7 * variances[0], "Accumulate's variance stays bounded");
    }

    readonly record struct CoinCell(Setting Setting, int N) : ISweepCell
    {
        public string Key => $"{Setting.Name()},{N}";
        public string SettingName => Setting.Name();
    }

    /// <summary>The family's sweep: a Sweep of its cells, as each family's sweep is; SweepRun journals it unchanged.</summary>
    sealed class CoinSweep(ComputeDevice device, int seeds, int iterations)
        : Sweep<CoinCell>(device, "coin", "coin.csv", "setting,n,seed,iteration,p_hat", new { Seeds = seeds, Iterations = iterations },
            [.. Settings.All.Select(s => new CoinCell(s, 10))], seeds * iterations)
    {
        public override string KernelDescription => "host C#";
        public override void CheckFits(CoinCell cell)
        {
        }

        public override IReadOnlyList<string> RunCell(CoinCell cell, Action<long>? onReplicateIterations, CancellationToken cancellation)
        {
            var rows = new string[seeds * iterations];
            using var family = new CoinFamily(seeds, seed: 3);
            ScenarioRunner.Run(cell.Setting, family, cell.N, iterations, chain =>
            {
                for (var r = 0; r < seeds; r++)
                    rows[r * iterations + chain.Iteration - 1] = $"{cell.Key},{r},{chain.Iteration},{CsvNumber.Format(chain.Metrics[r, CoinFamily.PHat])}";
                onReplicateIterations?.Invoke(seeds);
            }, cancellation);
            return rows;
        }
    }

    [Fact]
    public void Its_sweep_runs_through_SweepRun_unchanged()
    {
        var directory = Path.Combine(Path.GetTempPath(), $"coin-{Guid.NewGuid():N}");
        try
        {
            using var sweep = new CoinSweep(TestDevices.Get("cpu"), seeds: 4, iterations: 5);
            var manifest = SweepRun.Execute(TestDevices.Get("cpu"), sweep, directory, overwrite: false, "test", null, TestContext.Current.CancellationToken);
            Assert.Equal("complete", manifest.Status);
            var lines = File.ReadAllLines(Path.Combine(directory, "coin.csv"));
            Assert.Equal("setting,n,seed,iteration,p_hat", lines[0]);
            Assert.Equal(3 * 4 * 5, lines.Length - 1);
            // Iteration 1 fits the same real flips in every setting.
            var first = lines.Skip(1).Where(l => l.Split(',')[3] == "1").GroupBy(l => l.Split(',')[0]).Select(g => string.Join(';', g.Select(l => l.Split(',')[2] + ":" + l.Split(',')[4]))).ToList();
            Assert.Equal(3, first.Count);
            Assert.All(first, f => Assert.Equal(first[0], f));
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Its shards merge into the unsharded run's CSV with no entry for it in the merge: the manifests name their grid.</summary>
    [Fact]
    public void Its_shards_merge_without_registering_it()
    {
        var root = Path.Combine(Path.GetTempPath(), $"coin-shards-{Guid.NewGuid():N}");
        try
        {
            var cpu = TestDevices.Get("cpu");
            string Run(string name, Shard? shard)
            {
                using var sweep = new CoinSweep(cpu, seeds: 3, iterations: 4);
                SweepRun.Execute(cpu, sweep, Path.Combine(root, name), overwrite: false, "test", null, TestContext.Current.CancellationToken, shard: shard);
                return Path.Combine(root, name);
            }
            var whole = Run("whole", null);
            var shards = new[] { Run("shard-0", Shard.Parse("0/2")), Run("shard-1", Shard.Parse("1/2")) };
            ShardMerge.Merge(shards, Path.Combine(root, "merged"), force: false, "test");
            Assert.Equal(File.ReadAllText(Path.Combine(whole, "coin.csv")), File.ReadAllText(Path.Combine(root, "merged", "coin.csv")));
        }
        finally
        {
            if (Directory.Exists(root)) Directory.Delete(root, recursive: true);
        }
    }
}
