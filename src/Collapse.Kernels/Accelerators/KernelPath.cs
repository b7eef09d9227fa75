namespace Collapse.Kernels.Accelerators;

/// <summary>
/// Which implementation serves a family's hot loops (Gaussian sampling, moments and factorization;
/// KDE scoring; the language model's matrix products): chosen per sweep, for every family.
/// </summary>
public enum KernelPath
{
    /// <summary>SIMD C# on a CPU accelerator when AVX2/FMA is present, ILGPU kernels otherwise.</summary>
    Auto,
    /// <summary>Always the ILGPU kernels (the GPU path; on the CPU accelerator, for comparison).</summary>
    Ilgpu,
}
