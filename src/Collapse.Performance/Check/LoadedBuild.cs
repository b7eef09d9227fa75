using System.Collections;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;

namespace Collapse.Performance.Check;

/// <summary>One perf-check workload as a build names it.</summary>
public sealed record WorkloadName(string Name, string Size);

/// <summary>
/// A build of this project (a directory holding Collapse.Performance.dll and its dependencies)
/// loaded into an assembly load context of its own, so two builds of the same assemblies, this
/// commit's and a reference commit's, run side by side in one process. Both sides of a check are
/// loaded this way, even when one is the running program's own directory, so neither side runs
/// from a different kind of context than the other. Only base-library types cross the boundary.
/// </summary>
public sealed class LoadedBuild
{
    const string PerformanceAssembly = "Collapse.Performance";

    readonly Assembly performance;
    /// <summary>The build's <see cref="PerfCheckEntry"/>; null when it is driven through the older contract.</summary>
    readonly Type? entry;

    /// <summary>Where the build was loaded from.</summary>
    public string Directory { get; }

    /// <summary>The workloads the build offers, in its order.</summary>
    public IReadOnlyList<WorkloadName> Workloads { get; }

    /// <summary>Which entry point drives it: <see cref="PerfCheckEntry"/>, or the older PerfCheckKernels list.</summary>
    public string Contract => entry is null ? "PerfCheckKernels (before PerfCheckEntry)" : nameof(PerfCheckEntry);

    /// <param name="directory">The build's output directory.</param>
    /// <param name="forceLegacy">Drive it through the older contract even when it has <see cref="PerfCheckEntry"/> (tests the adapter on this build).</param>
    public LoadedBuild(string directory, bool forceLegacy = false)
    {
        Directory = Path.GetFullPath(directory);
        var file = Path.Combine(Directory, PerformanceAssembly + ".dll");
        if (!File.Exists(file)) throw new FileNotFoundException($"'{Directory}' is not a build of the project: it has no {PerformanceAssembly}.dll", file);
        performance = new BuildLoadContext(Directory).LoadFromAssemblyPath(file);
        entry = forceLegacy ? null : performance.GetType("Collapse.Performance.Check.PerfCheckEntry");
        Workloads = entry is null ? LegacyWorkloads() : [.. ((string[][])Invoke(entry, "Workloads")).Select(w => new WorkloadName(w[0], w[1]))];
    }

    /// <summary>Sets up the named workloads; their runs go to <paramref name="runs"/> in order. Dispose the result to free them.</summary>
    public IDisposable Open(IReadOnlyList<string> names, Action[] runs) =>
        entry is null ? LegacyOpen(names, runs) : (IDisposable)Invoke(entry, "Open", names.ToArray(), runs);

    static object Invoke(Type type, string method, params object[] arguments)
    {
        try
        {
            // Optional parameters a later build added (e.g. AcceleratorCatalog.Open's parameter name) take their defaults.
            var info = type.GetMethod(method, BindingFlags.Public | BindingFlags.Static)!;
            var all = info.GetParameters().Select((p, i) => i < arguments.Length ? arguments[i] : p.DefaultValue).ToArray();
            return info.Invoke(null, all)!;
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            throw e.InnerException;
        }
    }

    // The contract before PerfCheckEntry (up to 425adda): PerfCheckKernels.All, records of
    // (Name, Size, Create: Func<Accelerator, IWorkload>), on AcceleratorCatalog.Open(AcceleratorSpec.Parse("cpu")).
    IEnumerable LegacyList() =>
        (IEnumerable)(performance.GetType("Collapse.Performance.Check.PerfCheckKernels")
                          ?.GetField("All", BindingFlags.Public | BindingFlags.Static)?.GetValue(null)
                      ?? throw new MissingMemberException($"the build in '{Directory}' has neither PerfCheckEntry nor PerfCheckKernels.All"));

    static object Property(object target, string name) => target.GetType().GetProperty(name)!.GetValue(target)!;

    IReadOnlyList<WorkloadName> LegacyWorkloads() =>
        [.. LegacyList().Cast<object>().Select(k => new WorkloadName((string)Property(k, "Name"), (string)Property(k, "Size")))];

    IDisposable LegacyOpen(IReadOnlyList<string> names, Action[] runs)
    {
        var kernels = AssemblyLoadContext.GetLoadContext(performance)!.LoadFromAssemblyName(new AssemblyName("Collapse.Kernels"));
        var spec = Invoke(kernels.GetType("Collapse.Kernels.Accelerators.AcceleratorSpec")!, "Parse", "cpu");
        var device = (IDisposable)Invoke(kernels.GetType("Collapse.Kernels.Accelerators.AcceleratorCatalog")!, "Open", spec);
        var owned = new List<IDisposable> { device };
        var all = LegacyList().Cast<object>().ToList();
        for (var i = 0; i < names.Count; i++)
        {
            var kernel = all.First(k => (string)Property(k, "Name") == names[i]);
            var workload = ((Delegate)Property(kernel, "Create")).DynamicInvoke(Property(device, "Accelerator"))!;
            owned.Insert(0, (IDisposable)workload);
            runs[i] = workload.GetType().GetMethod("Run", Type.EmptyTypes)!.CreateDelegate<Action>(workload);
        }
        return new Owner(owned);
    }

    sealed class Owner(List<IDisposable> owned) : IDisposable
    {
        public void Dispose()
        {
            foreach (var o in owned) o.Dispose();
        }
    }

    /// <summary>
    /// Resolves the build's own assemblies (the project's and its packages') from its directory and
    /// leaves the framework's to the default context, so base-library types are shared.
    /// </summary>
    sealed class BuildLoadContext(string directory) : AssemblyLoadContext($"perf-check build {directory}")
    {
        // The shared framework's assemblies by simple name (the trusted list also holds the app's own).
        static readonly HashSet<string> Framework =
        [
            .. ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "").Split(Path.PathSeparator)
                .Where(p => p.StartsWith(RuntimeEnvironment.GetRuntimeDirectory(), StringComparison.Ordinal))
                .Select(Path.GetFileNameWithoutExtension).OfType<string>(),
        ];

        protected override Assembly? Load(AssemblyName name)
        {
            // A framework assembly stays the framework's, even if a package copied one beside the build.
            if (name.Name is null || Framework.Contains(name.Name)) return null;
            var path = Path.Combine(directory, name.Name + ".dll");
            if (!File.Exists(path)) return null;
            return LoadFromAssemblyPath(path);
        }
    }
}
