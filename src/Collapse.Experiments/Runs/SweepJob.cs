using Collapse.Kernels.Accelerators;
using Collapse.Kernels.Validation;

namespace Collapse.Experiments.Runs;

/// <summary>Where and how one sweep runs (what <c>collapse run</c>'s shared options say), as data.</summary>
/// <param name="Experiment">The progress display's title (the experiment's name).</param>
/// <param name="Directory">Where the CSV, manifest and figures go (--out).</param>
public sealed record SweepJob(string Experiment, string Directory)
{
    /// <summary>Start over even if the directory holds another or a finished run (--force).</summary>
    public bool Force { get; init; }
    /// <summary>auto, cpu, cuda or opencl, optionally with :index (--accelerator).</summary>
    public string Accelerator { get; init; } = "auto";
    /// <summary>Several accelerators, e.g. <c>all</c> or <c>cuda:0,cuda:1</c> (--devices; null: the one <see cref="Accelerator"/> names).</summary>
    public string? Devices { get; init; }
    public KernelPath Kernels { get; init; } = KernelPath.Auto;
    /// <summary>Run only this slice of the grid (no figures then); null: all of it.</summary>
    public Shard? Shard { get; init; }
    /// <summary>Draw the figures after the sweep (not --no-figures).</summary>
    public bool Figures { get; init; } = true;
    /// <summary>Record NaN or infinite metrics instead of stopping at them.</summary>
    public bool AllowNonFinite { get; init; }
    /// <summary>What the manifest records as the command (the CLI records its command line).</summary>
    public string Command { get; init; } = LibraryCommand;

    /// <summary>The command a manifest records for a run started from code, not the CLI.</summary>
    public const string LibraryCommand = "Collapse.Experiments";

    /// <summary>The accelerators the sweep runs on: those <see cref="Devices"/> lists, else the one <see cref="Accelerator"/> names.</summary>
    public List<ComputeDevice> OpenDevices()
    {
        if (Devices is null) return [AcceleratorCatalog.Open(AcceleratorSpec.Parse(Accelerator))];
        var specs = new List<AcceleratorSpec>();
        if (Devices.Trim().Equals("all", StringComparison.OrdinalIgnoreCase))
            specs.AddRange(AcceleratorCatalog.List().Where(d => d.Usable).Select(d => new AcceleratorSpec(d.Kind, d.Index)));
        else
            foreach (var item in Devices.Split(','))
            {
                if (!AcceleratorSpec.TryParse(item, out var spec, out _) || spec.Kind == AcceleratorKind.Auto)
                    throw InvalidParameterException.BadValue(nameof(Devices), item, $"expected all, or a comma-separated list of cuda[:i], opencl[:i] or cpu[:i]");
                specs.Add(spec);
            }
        var opened = new List<ComputeDevice>();
        try
        {
            // An absent device is reported as the device list's, not the accelerator's.
            foreach (var spec in specs) opened.Add(AcceleratorCatalog.Open(spec, nameof(Devices)));
        }
        catch
        {
            foreach (var d in opened) d.Dispose();
            throw;
        }
        return opened;
    }
}
