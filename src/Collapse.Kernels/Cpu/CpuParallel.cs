using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Collapse.Kernels.Cpu;

/// <summary>How the CPU path's loops over replicates and blocks run.</summary>
public static class CpuParallel
{
    /// <summary>
    /// One worker per core. Unbounded, Parallel.For spread each loop over every thread-pool
    /// thread, a dozen threads time-slicing two cores.
    /// </summary>
    public static readonly ParallelOptions OneWorkerPerCore = new() { MaxDegreeOfParallelism = Environment.ProcessorCount };

    /// <summary>
    /// body(i) for i in [0, count), on the calling thread and <see cref="SpinPool"/>'s workers (one per other core), for
    /// the language model's short, back-to-back operations: a training step of makemore makes about a hundred of them,
    /// tens of microseconds each, where Parallel.For pays a thread-pool wake-up (3–12 µs measured) every time. Falls back
    /// to Parallel.For when the pool is in use (another caller, or a body that itself calls For). The first exception a
    /// body throws is rethrown here once every item has run.
    /// </summary>
    public static void For(long count, Action<long> body)
    {
        if (count <= 0) return;
        if (count == 1 || SpinPool.Workers == 0)
        {
            for (var i = 0L; i < count; i++) body(i);
            return;
        }
        if (!SpinPool.TryRun(count, body)) Parallel.For(0, count, OneWorkerPerCore, body);
    }
}

/// <summary>
/// Persistent workers, one per core beyond the caller's, that take a posted loop's items from a shared counter. After a
/// loop a worker spins <see cref="SpinMicroseconds"/> for the next one before it sleeps on a semaphore, so the gaps
/// between a training step's operations cost no wake-up, and an idle process holds no core.
/// </summary>
static class SpinPool
{
    /// <summary>How long an idle worker polls for the next loop before it sleeps.</summary>
    const int SpinMicroseconds = 200;

    public static readonly int Workers = Math.Max(0, Environment.ProcessorCount - 1);

    sealed class Job(Action<long> body, long count)
    {
        public readonly long Count = count;
        long next, done;
        Exception? error;

        public bool Finished => Volatile.Read(ref done) == Count;
        public Exception? Error => Volatile.Read(ref error);

        public void Work()
        {
            long i;
            while ((i = Interlocked.Increment(ref next) - 1) < Count)
            {
                try { body(i); }
                catch (Exception e) { Interlocked.CompareExchange(ref error, e, null); }
                Interlocked.Increment(ref done);
            }
        }
    }

    static Job? current;
    static int busy, sleepers, started;
    static readonly SemaphoreSlim Wake = new(0);
    static readonly long SpinTicks = Stopwatch.Frequency * SpinMicroseconds / 1_000_000;

    public static bool TryRun(long count, Action<long> body)
    {
        if (Interlocked.CompareExchange(ref busy, 1, 0) != 0) return false;
        try
        {
            if (Interlocked.Exchange(ref started, 1) == 0)
                for (var w = 0; w < Workers; w++) new Thread(WorkerLoop) { IsBackground = true, Name = $"CpuParallel worker {w + 1}" }.Start();
            var job = new Job(body, count);
            Interlocked.Exchange(ref current, job); // a full fence: a worker going to sleep either sees the job or is counted below
            var sleeping = Volatile.Read(ref sleepers);
            if (sleeping > 0) Wake.Release(sleeping);
            job.Work();
            var spin = new SpinWait();
            while (!job.Finished) spin.SpinOnce(sleep1Threshold: -1); // a worker's last item
            if (job.Error is { } error) ExceptionDispatchInfo.Capture(error).Throw();
            return true;
        }
        finally
        {
            Volatile.Write(ref busy, 0);
        }
    }

    static void WorkerLoop()
    {
        Job? seen = null;
        while (true)
        {
            var job = Volatile.Read(ref current);
            if (job is not null && job != seen)
            {
                seen = job;
                job.Work();
                continue;
            }
            var start = Stopwatch.GetTimestamp();
            while (Volatile.Read(ref current) == seen && Stopwatch.GetTimestamp() - start < SpinTicks) Thread.SpinWait(20);
            if (Volatile.Read(ref current) != seen) continue;
            Interlocked.Increment(ref sleepers);
            if (Volatile.Read(ref current) == seen) Wake.Wait(); // a release meant for an earlier sleep only wakes it early
            Interlocked.Decrement(ref sleepers);
        }
    }
}
