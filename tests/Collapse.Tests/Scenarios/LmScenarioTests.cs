using Collapse.Engine.Families.Lm;
using Collapse.Tests.Lm;

namespace Collapse.Tests.Scenarios;

/// <summary>Whole language-model chains: what each fit trains on and from where, the data each setting fits, batching of seeds.</summary>
public class LmScenarioTests
{
    /// <summary>A model small enough that a chain takes a fraction of a second.</summary>
    static readonly LmModel Small = new("small", Layers: 1, Width: 16, Heads: 2, Batch: 8, LearningRate: 2e-3, FinetuneLearningRate: 1e-3, FinetuneWarmupSteps: 10);

    static LmFamily Family(int replicates, int n, int firstReplicate = 0, int? steps = null)
    {
        var corpus = LmCorpus.Names();
        return new LmFamily(LmTestKit.Kernels("cpu", KernelPath.Auto), corpus, Small.Config(corpus), Small.Training, replicates, firstReplicate,
            seed: 7, fixedSteps: steps, maxBatch: 64);
    }

    static string Key(int[] tokens) => string.Join('.', tokens);

    [Fact]
    public void The_names_split_holds_out_1000_test_names_and_trains_on_the_rest()
    {
        var corpus = LmCorpus.Names();
        Assert.Equal((1000, 31033), (corpus.Test.Count, corpus.Train.Count));
        Assert.Equal((27, 16), (corpus.VocabularySize, corpus.BlockSize));
        // Every document lands in exactly one side (as multisets: names.txt repeats some names).
        var all = corpus.Corpus.Documents.Select(d => Key(corpus.Corpus.Encode(d))).Order().ToList();
        Assert.Equal(all, corpus.Test.Concat(corpus.Train).Select(Key).Order().ToList());
        // Fixed: the split is the same in every process and for every --seed.
        Assert.Equal("alese,demontae,harlem", string.Join(',', corpus.Test.Take(3).Select(corpus.Corpus.Decode)));
    }

    [Fact]
    public void Every_fit_starts_from_the_same_initial_weights_so_the_same_data_give_the_same_model()
    {
        using var family = Family(replicates: 2, n: 40);
        var initial = family.InitialParameters();
        using var real = family.DrawReal(40);
        var (first, second) = (new MetricTable(2, family.Metrics), new MetricTable(2, family.Metrics));
        family.Fit(real);
        var trained = family.Model.GetParameters();
        family.Evaluate(first, null);
        Assert.NotEqual(initial, trained);
        // Another fit in between (other data) must leave no trace: no carried weights or optimizer state.
        using (var other = family.Sample(40, 2)) family.Fit(other);
        family.Fit(real);
        Assert.Equal(trained, family.Model.GetParameters());
        family.Evaluate(second, null);
        for (var r = 0; r < 2; r++)
        {
            Assert.Equal(first[r, LmFamily.TestLoss], second[r, LmFamily.TestLoss]);
            Assert.Equal(first[r, LmFamily.TrainLoss], second[r, LmFamily.TrainLoss]);
            // No sample given: the sample's metrics are undefined, not guessed.
            Assert.True(double.IsNaN(second[r, LmFamily.UniqueFraction]) && double.IsNaN(second[r, LmFamily.MeanLength]));
        }
        Assert.Equal(initial, family.InitialParameters());
        Assert.Equal((40, 5), (family.LastFitDocuments, family.LastFitSteps));
    }

    [Fact]
    public void Accumulate_trains_one_epoch_on_the_real_data_and_every_generation_so_far()
    {
        const int replicates = 2, n = 20, iterations = 3;
        using var family = Family(replicates, n);
        var generations = new List<NamesBatch> { family.DrawReal(n) };
        ScenarioRunner.Run(Setting.Accumulate, family, n, iterations, chain =>
        {
            var (t, metrics) = (chain.Iteration, chain.Metrics);
            Assert.Equal(t * n, family.LastFitDocuments);
            Assert.Equal((t * n + Small.Batch - 1) / Small.Batch, family.LastFitSteps);
            for (var r = 0; r < replicates; r++)
                Assert.Equal(generations.SelectMany(g => g.Names[r]).Select(Key), family.FittedDocuments(r).Select(Key));
            // The metrics of the sample the next iteration will train on.
            // The metrics of the sample the next iteration will train on: what this fit samples with t + 1's streams.
            var sample = chain.NextGeneration!;
            Assert.Equal(n, sample.Count);
            var again = family.Sample(n, t + 1);
            for (var r = 0; r < replicates; r++)
            {
                Assert.Equal(again.Names[r].Select(Key), sample.Names[r].Select(Key));
                Assert.Equal((double)sample.Names[r].Select(Key).Distinct().Count() / n, metrics[r, LmFamily.UniqueFraction]);
                Assert.Equal(sample.Names[r].Average(d => d.Length), metrics[r, LmFamily.MeanLength], 1e-12);
                Assert.InRange(metrics[r, LmFamily.TestLoss], 1.0, 5.0);
            }
            generations.Add(sample);
        }, TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Subsample_fits_n_documents_drawn_without_replacement_from_the_pool()
    {
        const int replicates = 2, n = 16, iterations = 4;
        using var family = Family(replicates, n);
        var generations = new List<NamesBatch> { family.DrawReal(n) };
        ScenarioRunner.Run(Setting.AccumulateSubsample, family, n, iterations, chain =>
        {
            var t = chain.Iteration;
            Assert.Equal((n, (n + Small.Batch - 1) / Small.Batch), (family.LastFitDocuments, family.LastFitSteps));
            for (var r = 0; r < replicates; r++)
            {
                // A multiset inclusion: every fitted document is taken from the pool, none more often than it is there.
                var pool = generations.SelectMany(g => g.Names[r]).Select(Key).GroupBy(k => k).ToDictionary(g => g.Key, g => g.Count());
                foreach (var document in family.FittedDocuments(r).Select(Key))
                {
                    Assert.True(pool.TryGetValue(document, out var left) && left > 0, $"iteration {t}: '{document}' is not in the pool");
                    pool[document] = left - 1;
                }
                Assert.Equal(n, family.FittedDocuments(r).Count);
            }
            generations.Add(chain.NextGeneration!);
        }, TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Real_data_are_a_fixed_subset_per_seed_of_the_training_split()
    {
        using var pair = Family(replicates: 2, n: 30, firstReplicate: 4);
        using var single = Family(replicates: 1, n: 30, firstReplicate: 5);
        var (a, b) = (pair.DrawReal(30), single.DrawReal(30));
        Assert.Equal(a.Names[1].Select(Key), b.Names[0].Select(Key));
        Assert.NotEqual(a.Names[0].Select(Key), a.Names[1].Select(Key));
        var train = LmCorpus.Names().Train.Select(Key).ToHashSet();
        Assert.All(a.Names.SelectMany(x => x), d => Assert.Contains(Key(d), train));
    }

    [Fact]
    public void Fixed_steps_take_full_batches_across_epochs()
    {
        using var family = Family(replicates: 1, n: 12, steps: 5);
        using var real = family.DrawReal(12);
        family.Fit(real);
        Assert.Equal((12, 5), (family.LastFitDocuments, family.LastFitSteps));
    }

    static LmSweepConfig Config(Setting setting) => new()
    {
        Corpus = LmCorpus.Names(), Presets = [Small], Settings = [setting], Seeds = 3, Iterations = 2, TrainSize = 24, Seed = 5,
    };

    [Fact]
    public void Rows_do_not_depend_on_how_seeds_are_batched()
    {
        foreach (var setting in Settings.All)
        {
            var config = Config(setting);
            var cell = config.Cells().Single();
            using var all = new LmSweep(TestDevices.Get("cpu"), config) { ReplicatesPerBatch = 3 };
            using var one = new LmSweep(TestDevices.Get("cpu"), config) { ReplicatesPerBatch = 1 };
            var (batched, single) = (all.Rows(cell, cancellation: TestContext.Current.CancellationToken), one.Rows(cell, cancellation: TestContext.Current.CancellationToken));
            Assert.Equal(3 * 2, batched.Count);
            Assert.Equal(batched.Select(r => r.ToCsv()), single.Select(r => r.ToCsv()));
            Assert.All(batched, r => Assert.Null(r.NonFinite()));
        }
    }

    [Fact]
    public void Iteration_one_is_the_same_fit_of_the_real_data_in_every_setting()
    {
        var first = Settings.All.Select(s =>
        {
            var config = Config(s) with { Seeds = 2, Iterations = 1 };
            using var sweep = new LmSweep(TestDevices.Get("cpu"), config);
            return string.Join('\n', sweep.Rows(config.Cells().Single(), cancellation: TestContext.Current.CancellationToken).Select(r => r.ToCsv()[(r.Regime.Name().Length + r.Preset.Length + r.Setting.Name().Length + 3)..]));
        }).ToList();
        Assert.Equal(first[0], first[1]);
        Assert.Equal(first[0], first[2]);
    }
}
