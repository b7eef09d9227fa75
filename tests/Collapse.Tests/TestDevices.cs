namespace Collapse.Tests;

/// <summary>
/// The accelerators kernel tests run on: by default the CPU always, CUDA and OpenCL when present,
/// so the test program run on a GPU machine checks those kernels too. Devices are opened once and shared.
/// </summary>
/// <remarks>
/// <para>
/// <c>COLLAPSE_TEST_DEVICES</c> (comma-separated: <c>cpu</c>, <c>cuda</c>, <c>opencl</c>) limits the
/// device-parameterised tests to the accelerators it names: <c>COLLAPSE_TEST_DEVICES=cuda</c> generates
/// only CUDA rows. Unset or empty, the default above holds.
/// </para>
/// <para>
/// Every generated row carries the trait <c>device=NAME</c>, so the runner's <c>-trait device=cuda</c>
/// runs only the tests that use that device. An accelerator the variable names that cannot be opened
/// generates no kernel rows, but <see cref="Accelerators.TestDevicesTests"/> has a row for it (with the
/// same trait) that fails with the reason, so a filtered run on a machine without it fails rather than
/// passing with nothing run.
/// </para>
/// </remarks>
public static class TestDevices
{
    /// <summary>The environment variable that limits the accelerators the kernel tests are generated for.</summary>
    public const string Variable = "COLLAPSE_TEST_DEVICES";

    /// <summary>The trait every generated row carries, with the accelerator's name as its value.</summary>
    public const string Trait = "device";

    static readonly string[] Kinds = ["cpu", "cuda", "opencl"];

    /// <summary>The names the variable lists, in its order (null when unset or empty: the default).</summary>
    static readonly Lazy<IReadOnlyList<string>?> Selection = new(() =>
    {
        var text = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(text)) return null;
        return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(name => name.ToLowerInvariant()).Distinct().ToList();
    });

    /// <summary>Why each accelerator tried and not present could not be opened.</summary>
    static readonly Dictionary<string, string> Missing = [];

    static readonly Lazy<Dictionary<string, ComputeDevice>> Devices = new(() =>
    {
        var opened = new Dictionary<string, ComputeDevice>();
        if (Selection.Value is null)
            opened["cpu"] = AcceleratorCatalog.Open(AcceleratorSpec.Parse("cpu"));
        foreach (var kind in Selection.Value ?? ["cuda", "opencl"])
        {
            if (!Kinds.Contains(kind))
            {
                Missing[kind] = $"'{kind}' is not an accelerator name: expected {string.Join(", ", Kinds)}";
                continue;
            }
            try
            {
                opened[kind] = AcceleratorCatalog.Open(AcceleratorSpec.Parse(kind));
            }
            catch (AcceleratorUnavailableException e)
            {
                // Not present on this machine: its tests are not generated.
                Missing[kind] = e.Message;
            }
        }
        return opened;
    });

    /// <summary>The accelerators the kernel tests are generated for, in the order they were opened.</summary>
    static List<string> Generated
    {
        get
        {
            var devices = Devices.Value;
            lock (devices) return [.. devices.Keys.Where(name => Selection.Value?.Contains(name) ?? true)];
        }
    }

    static readonly Dictionary<(string, KernelPath), GaussianKernels> Kernels = [];

    /// <summary>
    /// The open accelerator <paramref name="name"/>. A test that names the CPU directly gets it even when
    /// <see cref="Variable"/> leaves it out of the generated rows.
    /// </summary>
    public static ComputeDevice Get(string name)
    {
        var devices = Devices.Value;
        lock (devices)
        {
            if (!devices.TryGetValue(name, out var device))
                devices[name] = device = AcceleratorCatalog.Open(AcceleratorSpec.Parse(name));
            return device;
        }
    }

    /// <summary>Accelerator names present here (those <see cref="Variable"/> names, when it is set).</summary>
    public static TheoryData<string> Present() => Tagged(new TheoryData<string>(Generated));

    /// <summary>Every (accelerator, kernel path) pair that exists: on the CPU both the SIMD and the ILGPU path.</summary>
    public static TheoryData<string, KernelPath> Paths()
    {
        var data = new TheoryData<string, KernelPath>();
        foreach (var (name, path) in PathList()) data.Add(name, path);
        return Tagged(data);
    }

    public static IEnumerable<(string Device, KernelPath Path)> PathList()
    {
        foreach (var name in Generated)
        {
            yield return (name, KernelPath.Ilgpu);
            if (name == "cpu") yield return (name, KernelPath.Auto);
        }
    }

    /// <summary>
    /// Every (accelerator, LM kernel version) pair that runs here: the plain and the GPU-shaped kernels on every
    /// accelerator, and on the CPU its own path too.
    /// </summary>
    public static TheoryData<string, LmVersion> LmVersions()
    {
        var data = new TheoryData<string, LmVersion>();
        foreach (var (name, version) in LmVersionList()) data.Add(name, version);
        return Tagged(data);
    }

    public static IEnumerable<(string Device, LmVersion Version)> LmVersionList()
    {
        foreach (var name in Generated)
        {
            yield return (name, LmVersion.Plain);
            yield return (name, LmVersion.Shaped);
            if (name == "cpu") yield return (name, LmVersion.Cpu);
        }
    }

    /// <summary>
    /// Adds the trait <c>device=NAME</c> to every row of <paramref name="data"/>, NAME being the row's first
    /// argument: call it on any theory data built from <see cref="PathList"/>.
    /// </summary>
    public static TData Tagged<TData>(TData data) where TData : IEnumerable<TheoryDataRowBase>
    {
        foreach (var row in data)
            if (((ITheoryDataRow)row).GetData() is [string name, ..])
                row.WithTrait(Trait, name);
        return data;
    }

    /// <summary>
    /// One row per accelerator the kernel tests should run on: those <see cref="Variable"/> names (present or
    /// not), else those present. Each carries the <c>device</c> trait.
    /// </summary>
    public static TheoryData<string> Requested() => Tagged(new TheoryData<string>(Selection.Value ?? Generated));

    /// <summary>Null when <paramref name="name"/> is open here, else why it is not.</summary>
    public static string? Unavailable(string name)
    {
        var devices = Devices.Value;
        lock (devices) return devices.ContainsKey(name) ? null : Missing.GetValueOrDefault(name, $"'{name}' was not tried");
    }

    public static GaussianKernels GaussianKernels(string name, KernelPath path)
    {
        lock (Kernels)
        {
            if (!Kernels.TryGetValue((name, path), out var kernels))
                Kernels[(name, path)] = kernels = new GaussianKernels(Get(name).Accelerator, path);
            return kernels;
        }
    }
}
