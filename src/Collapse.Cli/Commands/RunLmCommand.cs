using Collapse.Engine.Families.Lm;
using Collapse.Kernels.Lm;

namespace Collapse.Cli.Commands;

/// <summary><c>collapse run lm</c>: the character-level language model refitted on its own samples (paper's setting C).</summary>
static class RunLmCommand
{
    public static Command Build()
    {
        var presets = new Option<string>("--preset") { Description = "Model presets, comma-separated: makemore (4 layers, width 64, 4 heads, batch 32, lr 5e-4; fine-tuning 1e-3), tiny (2 layers, width 32, 4 heads, lr 2e-3; fine-tuning 2e-3), large (6 layers, width 128, 8 heads, lr 3e-4; fine-tuning 6e-4)", DefaultValueFactory = _ => "tiny" };
        var regimes = new Option<string>("--regime") { Description = "Where every fit starts, comma-separated: scratch (each seed's random weights), finetune (one base pretrained on Shakespeare's words, cached; the paper's protocol)", DefaultValueFactory = _ => "scratch" };
        var baseSteps = new Option<int?>("--base-steps") { Description = "Pretraining steps of each preset's base (default: one epoch over the 208,503 words)" };
        var finetuneLr = new Option<double?>("--finetune-lr") { Description = "AdamW learning rate fine-tuning a base (overrides every preset's)" };
        var finetuneWarmup = new Option<int?>("--finetune-warmup") { Description = "Steps of linear learning-rate warm-up at the start of each fine-tuning fit (default 0)" };
        var layers = new Option<int?>("--layers") { Description = "Transformer blocks (overrides every preset's)" };
        var width = new Option<int?>("--width") { Description = "Embedding width (overrides every preset's; divisible by --heads)" };
        var heads = new Option<int?>("--heads") { Description = "Attention heads (overrides every preset's)" };
        var batch = new Option<int?>("--batch") { Description = "Documents per training step (overrides every preset's)" };
        var lr = new Option<double?>("--lr") { Description = "AdamW learning rate (overrides every preset's)" };
        var steps = new Option<int?>("--steps") { Description = "AdamW steps per fit (default: one epoch over the fit's documents, ⌈documents / batch⌉)" };
        var trainSize = new Option<int?>("--train-size") { Description = "n: real training documents per seed (a fixed random subset of the training split) and synthetic documents sampled per iteration (default: the whole training split)" };
        var corpus = new CorpusOptions();
        var seeds = GridOptions.Seeds(3);
        var chain = new ChainOptions(defaultIterations: 5);
        var run = new RunCommand("lm", "auto: SIMD C# for the CPU's matrix products and pointer C# for its light operations; ilgpu: ILGPU kernels everywhere");
        var command = run.Command("A character-level transformer refitted on its own samples (paper's setting C)",
            [presets, regimes, layers, width, heads, batch, lr, finetuneLr, finetuneWarmup, steps, baseSteps, trainSize, .. corpus.Options, seeds, .. chain.Options]);
        command.SetAction(parse =>
        {
            var data = corpus.Load(parse);
            var models = ArgumentLists.Names("--preset", parse.GetValue(presets)!).Select(name =>
            {
                var model = Preset(name);
                return model with
                {
                    Layers = parse.GetValue(layers) ?? model.Layers,
                    Width = parse.GetValue(width) ?? model.Width,
                    Heads = parse.GetValue(heads) ?? model.Heads,
                    Batch = parse.GetValue(batch) ?? model.Batch,
                    LearningRate = parse.GetValue(lr) ?? model.LearningRate,
                    FinetuneLearningRate = parse.GetValue(finetuneLr) ?? model.FinetuneLearningRate,
                    FinetuneWarmupSteps = parse.GetValue(finetuneWarmup) ?? model.FinetuneWarmupSteps,
                };
            }).ToList();
            var regimeList = ArgumentLists.Names("--regime", parse.GetValue(regimes)!).Select(Regime).ToList();
            var config = new LmSweepConfig
            {
                Corpus = data,
                Presets = models,
                Settings = chain.SettingList(parse),
                Regimes = regimeList,
                BaseSteps = parse.GetValue(baseSteps),
                Seeds = parse.GetValue(seeds),
                Iterations = parse.GetValue(chain.Iterations),
                TrainSize = parse.GetValue(trainSize),
                Steps = parse.GetValue(steps),
                Seed = parse.GetValue(run.Seed),
            };
            config.Validate();
            return run.Run(parse, config, ExperimentRuns.Lm);
        });
        return command;
    }

    /// <summary>A named regime (case-insensitive), or a usage error naming the valid ones.</summary>
    public static LmRegime Regime(string name)
    {
        try
        {
            return LmRegimes.Parse(name);
        }
        catch (ArgumentException e)
        {
            throw new UsageException($"--regime: {e.Message}");
        }
    }

    /// <summary>A named preset (case-insensitive), or a usage error listing the valid names.</summary>
    public static LmModel Preset(string name) => LmModel.From(
        GptPreset.All.FirstOrDefault(p => string.Equals(p.Name, name.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new UsageException($"--preset '{name}' is not valid: expected one of {string.Join(", ", GptPreset.All.Select(p => p.Name))}"));
}
