namespace Collapse.Kernels.Cpu;

/// <summary>
/// Per-thread scratch arrays for the CPU kernels, kept between calls: allocating them per call
/// (megabytes on the large-object heap, every iteration) cost a third of the CPU path's time in
/// page faults. Arrays are pinned, so kernels take pointers without <c>fixed</c>. Contents are
/// not cleared; each slot has one user at a time.
/// </summary>
static class ThreadScratch
{
    public const int Normals = 0, Centred = 1, TileSums = 2, Vector = 3, KdeValues = 4, KdeBounds = 5, NormalMoments = 6;

    [ThreadStatic] static double[]?[]? doubles;
    [ThreadStatic] static float[]? floats;
    [ThreadStatic] static int[]?[]? ints;

    public const int KdeOrder = 0, KdeKept = 1, Permutation = 2;

    public static unsafe double* Doubles(int slot, long length)
    {
        doubles ??= new double[7][];
        var array = doubles[slot];
        if (array is null || array.Length < length)
            doubles[slot] = array = GC.AllocateUninitializedArray<double>((int)Math.Max(length, 16), pinned: true);
        return (double*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref array[0]);
    }

    public static unsafe int* Ints(int slot, long length)
    {
        ints ??= new int[3][];
        var array = ints[slot];
        if (array is null || array.Length < length)
            ints[slot] = array = GC.AllocateUninitializedArray<int>((int)Math.Max(length, 16), pinned: true);
        return (int*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref array[0]);
    }

    /// <summary><see cref="Floats"/> as a pointer (the array is pinned).</summary>
    public static unsafe float* FloatPointer(long length) => (float*)System.Runtime.CompilerServices.Unsafe.AsPointer(ref Floats(length)[0]);

    public static float[] Floats(long length)
    {
        if (floats is null || floats.Length < length)
            floats = GC.AllocateUninitializedArray<float>((int)Math.Max(length, 16), pinned: true);
        return floats;
    }
}
