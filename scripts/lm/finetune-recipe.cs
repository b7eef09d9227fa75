#:project ../../src/Collapse.Engine/Collapse.Engine.csproj
#:property AllowUnsafeBlocks=true
#:property PublishAot=false
// Loss against steps for one fit from scratch and fine-tuning fits of a preset at several learning rates,
// on all 31,033 training names, one epoch: how the fine-tuning recipe was chosen (results/lm/finetune-recipe.md).
// Run: dotnet run scripts/lm/finetune-recipe.cs -- PRESET LR[:WARMUP],...   e.g. makemore 1e-3,5e-4:0,2e-4
// (WARMUP: linear warm-up steps, default 50). The from-scratch fit at the preset's own rate runs first.
using Collapse.Engine.Families;
using Collapse.Engine.Families.Lm;
using Collapse.Engine.Sweeps;
using Collapse.Kernels.Lm;
using Collapse.Kernels.Random;
using ILGPU;
using ILGPU.Runtime.CPU;

var presetName = args.Length > 0 ? args[0] : "makemore";
var rates = (args.Length > 1 ? args[1] : "1e-3,5e-4,5e-4:0,2e-4,1e-4").Split(',')
    .Select(item => item.Split(':')).Select(p => (Rate: double.Parse(p[0], System.Globalization.CultureInfo.InvariantCulture), Warmup: p.Length > 1 ? int.Parse(p[1]) : 50)).ToArray();
using var context = Context.Create(b => b.CPU().EnableAlgorithms());
using var accelerator = context.CreateCPUAccelerator(0);
var kernels = new LmKernels(accelerator);
var corpus = LmCorpus.Names();
var model = LmModel.From(GptPreset.All.First(p => p.Name == presetName));
var sw = System.Diagnostics.Stopwatch.StartNew();
var baseModel = LmBase.Load(kernels, corpus, LmBaseRecipe.OneEpoch(model), null, Console.WriteLine);
Console.WriteLine($"base {presetName}: {(baseModel.FromCache ? "cached" : "pretrained")} in {sw.Elapsed.TotalSeconds:F0} s; names test loss {baseModel.TestLoss:F4}");
var config = model.Config(corpus);
var data = TokenSet.Encode([corpus.Train], config.BlockSize);
var m = corpus.Train.Count;
void Run(string label, GptTraining training, float[]? start)
{
    using var family = new LmFamily(kernels, corpus, config, training, 1, 0, 0, start: start);
    var gpt = family.Model;
    gpt.SetParameters(family.InitialParameters());
    gpt.LoadTrainingSet(data);
    var order = HostSampling.Permutation(new RandomStream(0, 0, 0, RandomStreams.TrainingOrder), m, 0);
    gpt.LoadOrders(0, [order], null);
    var steps = (m + training.Batch - 1) / training.Batch;
    var line = new List<string> { $"{label}: step 0 {gpt.Evaluate(corpus.TestSet)[0]:F4}" };
    for (var step = 0; step < steps; step++)
    {
        var first = (long)step * training.Batch;
        gpt.ComputeGradients(first, (int)Math.Min(training.Batch, m - first));
        gpt.Update();
        if ((step + 1) % 100 == 0 || step + 1 == steps) line.Add($"{step + 1} {gpt.Evaluate(corpus.TestSet)[0]:F4}");
    }
    Console.WriteLine(string.Join(" | ", line));
}
Run("scratch lr " + model.LearningRate, model.Training, null);
foreach (var (rate, warmup) in rates) Run($"finetune lr {rate} warmup {warmup}", new GptTraining(model.Batch, rate, WarmupSteps: warmup), baseModel.Parameters);
