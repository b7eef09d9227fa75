using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using Collapse.Performance.Probes;
using Collapse.Performance.Targets;

namespace Collapse.Benchmarks.Harness;

/// <summary>Work per operation of a benchmark case: its class rebuilt with the case's parameters, asked for <see cref="IMeasuredWork"/>.</summary>
static class CaseWork
{
    public static Work? Of(BenchmarkCase benchmarkCase)
    {
        var type = benchmarkCase.Descriptor.Type;
        if (!typeof(IMeasuredWork).IsAssignableFrom(type)) return null;
        var instance = (IMeasuredWork)Activator.CreateInstance(type)!;
        foreach (var parameter in benchmarkCase.Parameters.Items)
        {
            if (type.GetProperty(parameter.Name) is { } property) property.SetValue(instance, parameter.Value);
            else type.GetField(parameter.Name)?.SetValue(instance, parameter.Value);
        }
        return instance.WorkPerOperation;
    }

    /// <summary>Work per second from the measured mean (nanoseconds per operation), or null before there is one.</summary>
    public static double? Rate(Summary summary, BenchmarkCase benchmarkCase, Work work) =>
        summary[benchmarkCase]?.ResultStatistics?.Mean is double nanoseconds and > 0 ? work.Amount / (nanoseconds * 1e-9) : null;

    /// <summary>Where a case ran: the reference always on the CPU, the kernel on its Accelerator parameter.</summary>
    public static string Target(BenchmarkCase benchmarkCase) =>
        benchmarkCase.Descriptor.Baseline ? BenchmarkTarget.Cpu
        : benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Accelerator")?.Value as string ?? BenchmarkTarget.Cpu;

    public static string Format(double perSecond, WorkUnit unit) => unit switch
    {
        WorkUnit.Flop => $"{Number(perSecond / 1e9)} GFLOP/s",
        WorkUnit.Byte => $"{Number(perSecond / 1e9)} GB/s",
        WorkUnit.Sample => $"{Scaled(perSecond)} samples/s",
        WorkUnit.Pair => $"{Scaled(perSecond)} pairs/s",
        WorkUnit.ReplicateIteration => $"{Scaled(perSecond)} rep-it/s",
        _ => throw new ArgumentOutOfRangeException(nameof(unit)),
    };

    static string Scaled(double value) => value switch
    {
        >= 1e9 => Number(value / 1e9) + " G",
        >= 1e6 => Number(value / 1e6) + " M",
        >= 1e3 => Number(value / 1e3) + " k",
        _ => Number(value),
    };

    static string Number(double value) => value.ToString(value >= 100 ? "0" : value >= 10 ? "0.0" : "0.00", CultureInfo.InvariantCulture);
}

/// <summary>A custom column with the fixed parts of <see cref="IColumn"/> filled in.</summary>
abstract class WorkColumn(string id, string name, string legend, int priority) : IColumn
{
    public string Id => id;
    public string ColumnName => name;
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => priority;
    public bool IsNumeric => false;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => legend;
    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => CaseWork.Of(c) is not null);
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);
    public abstract string GetValue(Summary summary, BenchmarkCase benchmarkCase);
}

/// <summary>Work per second: GFLOP/s, GB/s, samples/s, pairs/s or replicate-iterations/s, as the benchmark counts its work.</summary>
sealed class ThroughputColumn() : WorkColumn("Collapse.Throughput", "Throughput",
    "Work per second from the mean: GFLOP/s (an FMA counts 2), samples/s, pairs/s (test × fitted point), rep-it/s (replicate-iterations)", 0)
{
    public override string GetValue(Summary summary, BenchmarkCase benchmarkCase) =>
        CaseWork.Of(benchmarkCase) is { } work && CaseWork.Rate(summary, benchmarkCase, work) is double rate
            ? CaseWork.Format(rate, work.Unit) : "-";
}

/// <summary>
/// The throughput's share of what the device measured it can do, in this process: float64 FMA rate
/// for GFLOP/s, copy bandwidth for GB/s (see <see cref="DeviceProbes"/>); "-" where no limit is known.
/// </summary>
sealed class ShareOfLimitColumn() : WorkColumn("Collapse.ShareOfLimit", "Of limit",
    "Throughput / the device's measured limit in this process: CPU 256-bit float64 FMA peak for GFLOP/s, copy bandwidth for GB/s", 1)
{
    public override string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        if (CaseWork.Of(benchmarkCase) is not { } work || CaseWork.Rate(summary, benchmarkCase, work) is not double rate) return "-";
        var limits = DeviceProbes.For(CaseWork.Target(benchmarkCase));
        double? limit = work.Unit switch
        {
            WorkUnit.Flop => limits.FlopsPerSecond,
            WorkUnit.Byte => limits.BytesPerSecond,
            _ => null,
        };
        return limit is double peak
            ? $"{(rate / peak * 100).ToString(rate / peak < 0.1 ? "0.0" : "0", CultureInfo.InvariantCulture)}% of {CaseWork.Format(peak, work.Unit)}"
            : "-";
    }
}

/// <summary>Kernel launches and host↔device copies of one operation, for classes that count them (<see cref="IMeasuredLaunches"/>).</summary>
sealed class LaunchesColumn() : IColumn
{
    readonly Dictionary<BenchmarkCase, string> values = [];

    public string Id => "Collapse.Launches";
    public string ColumnName => "Launches, copies in/out";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 2;
    public bool IsNumeric => false;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Per operation: kernel launches (every one on the ILGPU path; the CPU path calls most operations directly), host→device and device→host copies";
    public bool IsAvailable(Summary summary) => summary.BenchmarksCases.Any(c => typeof(IMeasuredLaunches).IsAssignableFrom(c.Descriptor.Type));
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style) => GetValue(summary, benchmarkCase);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase)
    {
        lock (values)
        {
            if (values.TryGetValue(benchmarkCase, out var known)) return known;
            var type = benchmarkCase.Descriptor.Type;
            if (!typeof(IMeasuredLaunches).IsAssignableFrom(type)) return values[benchmarkCase] = "-";
            var instance = (IMeasuredLaunches)Activator.CreateInstance(type)!;
            foreach (var parameter in benchmarkCase.Parameters.Items)
                type.GetProperty(parameter.Name)?.SetValue(instance, parameter.Value);
            var counts = instance.LaunchesPerOperation();
            return values[benchmarkCase] = $"{counts.Launches}, {counts.HostToDevice}/{counts.DeviceToHost}";
        }
    }
}
