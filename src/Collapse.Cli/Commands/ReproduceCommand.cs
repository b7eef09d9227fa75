using Collapse.Engine.Reproduce;
using Collapse.Experiments.Reproduce;

namespace Collapse.Cli.Commands;

/// <summary>
/// <c>collapse reproduce</c>: the options as a <see cref="Reproduction"/> (every experiment of the paper
/// for a preset, each into DIR/NAME, then DIR/REPORT.md), run with the terminal's progress display.
/// </summary>
static class ReproduceCommand
{
    public static Command Build()
    {
        var preset = new Option<string>("--preset")
        {
            Description = "quick (every experiment at reduced size: minutes on a 2-core CPU) or paper (the paper's grids)",
            DefaultValueFactory = _ => "quick",
        };
        var only = new Option<string?>("--only") { Description = $"Run only these experiments, comma-separated: {ReproduceExperiments.ValidNames} (default: all)" };
        var output = new Option<string?>("--out") { Description = "Output directory (default: out/reproduce/<preset>; --out results/reproduce/<preset> rewrites the committed report)" };
        var force = new Option<bool>("--force", "--overwrite") { Description = "Run every selected experiment again from the start, even if finished there" };
        var accelerator = CollapseApp.AcceleratorOption();
        var command = new Command("reproduce", "Run the paper's experiments for a preset and write DIR/REPORT.md with a computed verdict on each claim")
        {
            preset, only, accelerator, output, force,
        };
        command.SetAction(parse =>
        {
            var chosen = ReproducePreset.Named(parse.GetValue(preset)!);
            // Not results/: a user's run must not rewrite the committed report; regenerating it is a deliberate --out.
            var reproduction = new Reproduction(chosen, parse.GetValue(output) ?? Path.Combine("out", "reproduce", chosen.Name))
            {
                Experiments = ReproduceExperiments.Select(parse.GetValue(only)),
                Accelerator = parse.GetValue(accelerator)!,
                Force = parse.GetValue(force),
                Command = CollapseApp.CommandLine(),
            };
            using var cancel = CollapseApp.CancelOnCtrlC();
            reproduction.Run(ProgressDisplay.Instance, cancel.Token);
            return 0;
        });
        return command;
    }
}
