using System.Globalization;
using Collapse.Engine.Families.Lm;

namespace Collapse.Cli.Commands;

/// <summary>
/// <c>collapse run mix</c>: the value of synthetic data (paper's section on cardinality versus
/// proportion) for any family — fresh models fitted on num_real real + num_synthetic synthetic
/// records from a generator fitted once per seed, scored on real test data.
/// </summary>
static class RunMixCommand
{
    public static Command Build()
    {
        var family = new Option<string>("--family") { Description = "Model family: gaussian, kde, lm or regression", Required = true };
        var real = new Option<string?>("--real") { Description = "num_real values, comma-separated (default per family: gaussian and kde 10,32,100,316,1000,3162,10000; regression 16,32,…,10000; lm 100,316,1000,3162,10000 and the whole training split)" };
        var synthetic = new Option<string?>("--synthetic") { Description = "num_synthetic values, comma-separated, 0 allowed (default: gaussian, kde and regression 0,32,100,316,1000,3162,10000,31623; lm 0,1000,3162,10000,31623)" };
        var generatorReal = new Option<int?>("--generator-real") { Description = "Real records per seed the generator is fitted to; every num_real is drawn from them (default: 10,000 for gaussian, kde and regression, the whole training split for lm)" };
        var generator = new Option<string>("--generator") { Description = "Who samples the synthetic pool: fitted (a model fitted to the real set) or truth (gaussian only: the true distribution)", DefaultValueFactory = _ => "fitted" };
        var shift = new Option<double>("--generator-shift") { Description = "gaussian only: added to the first coordinate of every synthetic point (a biased generator)" };
        var seeds = new Option<int?>("--seeds") { Description = "Replicates (seeds 0..S-1) per cell (default: 20 for gaussian, kde and regression, 3 for lm)" };
        var dim = new Option<int?>("--dim") { Description = "gaussian, regression: dimension d (default 5 and 10)" };
        var noise = new Option<double?>("--sigma-squared") { Description = "regression: label noise variance σ² (default 1)" };
        var testSize = new Option<int?>("--test-size") { Description = "gaussian, kde, regression: real test points per seed (default 1,000, 500 and 1,000)" };
        var dataset = new Option<string?>("--dataset") { Description = "kde: blobs, circles, moons or swiss-roll (default moons)" };
        var bandwidth = new Option<string?>("--bandwidth") { Description = "kde: bandwidth h, a positive number or scott/silverman (default 0.1)" };
        var preset = new Option<string?>("--preset") { Description = "lm: model preset, tiny or makemore (default tiny)" };
        var corpus = new CorpusOptions(scope: "lm");
        var steps = new Option<int?>("--steps") { Description = "lm: AdamW steps per fit, the same for every grid point (default: one epoch over the fit's documents, so more data also means more steps)" };
        var regime = new Option<string?>("--regime") { Description = "lm: scratch (every fit from random weights) or finetune (every fit from one base pretrained on Shakespeare's words: the paper's protocol); default scratch" };
        var baseSteps = new Option<int?>("--base-steps") { Description = "lm, finetune: the base's pretraining steps (default: one epoch over the 208,503 words)" };
        var run = new RunCommand("mix", "auto: SIMD C# on the CPU where the family has it; ilgpu: ILGPU kernels everywhere");
        var command = run.Command("The value of synthetic data: fresh models on num_real real + num_synthetic synthetic records, scored on real test data (paper's section D)",
            [family, real, synthetic, generatorReal, generator, shift, seeds, dim, noise, testSize, dataset, bandwidth, preset, .. corpus.Options, steps, regime, baseSteps]);
        command.SetAction(parse =>
        {
            var name = parse.GetValue(family)!.Trim().ToLowerInvariant();
            var kind = name switch
            {
                "gaussian" => MixFamily.Gaussian,
                "kde" => MixFamily.Kde,
                "lm" => MixFamily.Lm,
                "regression" => MixFamily.Regression,
                _ => throw new UsageException($"--family '{parse.GetValue(family)}' is not valid: expected gaussian, kde, lm or regression"),
            };
            // An option of another family is a mistake to report, not to ignore.
            void Only(Option option, params MixFamily[] owners)
            {
                if (parse.GetResult(option) is { Implicit: false } && !owners.Contains(kind))
                    throw new UsageException($"{option.Name} applies to --family {string.Join(" and ", owners.Select(o => o.ToString().ToLowerInvariant()))} only, not --family {name}");
            }
            Only(dim, MixFamily.Gaussian, MixFamily.Regression);
            Only(noise, MixFamily.Regression);
            Only(shift, MixFamily.Gaussian);
            Only(dataset, MixFamily.Kde);
            Only(bandwidth, MixFamily.Kde);
            Only(preset, MixFamily.Lm);
            foreach (var option in corpus.Options) Only(option, MixFamily.Lm);
            Only(steps, MixFamily.Lm);
            Only(regime, MixFamily.Lm);
            Only(baseSteps, MixFamily.Lm);
            if (kind == MixFamily.Lm && parse.GetResult(testSize) is { Implicit: false })
                throw new UsageException("--test-size does not apply to --family lm: its test set is the corpus's held-out split");

            var lmCorpus = kind != MixFamily.Lm ? null
                : corpus.Load(parse);
            var defaults = MixSweepConfig.Defaults(kind, lmCorpus);
            var config = defaults with
            {
                Real = parse.GetValue(real) is { } r ? ArgumentLists.Integers("--real", r) : defaults.Real,
                Synthetic = parse.GetValue(synthetic) is { } s ? ArgumentLists.Integers("--synthetic", s) : defaults.Synthetic,
                GeneratorReal = parse.GetValue(generatorReal) ?? defaults.GeneratorReal,
                Generator = parse.GetValue(generator)!.Trim().ToLowerInvariant() switch
                {
                    "fitted" => MixGenerator.Fitted,
                    "truth" => MixGenerator.Truth,
                    var g => throw new UsageException($"--generator '{g}' is not valid: expected fitted or truth"),
                },
                GeneratorShift = parse.GetValue(shift),
                Seeds = parse.GetValue(seeds) ?? defaults.Seeds,
                Seed = parse.GetValue(run.Seed),
                TestSize = parse.GetValue(testSize) ?? defaults.TestSize,
                Dim = parse.GetValue(dim) ?? defaults.Dim,
                NoiseVariance = parse.GetValue(noise) ?? defaults.NoiseVariance,
                Dataset = parse.GetValue(dataset) is { } d ? Single(ArgumentLists.DatasetList("--dataset", d), "--dataset") : defaults.Dataset,
                Bandwidth = parse.GetValue(bandwidth) is { } h ? Single(ArgumentLists.BandwidthList("--bandwidth", h), "--bandwidth") : defaults.Bandwidth,
                Preset = parse.GetValue(preset) is { } p ? RunLmCommand.Preset(p) : defaults.Preset,
                Steps = parse.GetValue(steps),
                Regime = parse.GetValue(regime) is { } regimeName ? RunLmCommand.Regime(regimeName) : LmRegime.Scratch,
                BaseSteps = parse.GetValue(baseSteps),
            };
            config.Validate();
            return run.Run(parse, config, ExperimentRuns.Mix);
        });
        return command;
    }

    static T Single<T>(IReadOnlyList<T> values, string option) => values.Count == 1 ? values[0]
        : throw new UsageException($"{option} takes one value here, not {values.Count.ToString(CultureInfo.InvariantCulture)}: run the study once per value");
}
