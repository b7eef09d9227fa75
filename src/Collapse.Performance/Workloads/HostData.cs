using Collapse.Kernels.Cpu;

namespace Collapse.Performance.Workloads;

/// <summary>Inputs for workloads, drawn on the host from the counter-based generator (so every run times the same numbers).</summary>
static class HostData
{
    /// <summary>count points per replicate of d standard normals, laid out [replicate][point][ld] with zero padding.</summary>
    public static double[] Points(int replicates, int count, int d, int ld, uint stream)
    {
        var points = new double[(long)replicates * count * ld];
        var normals = new double[(long)count * d];
        for (var r = 0; r < replicates; r++)
        {
            var s = new RandomStream(7, (uint)r, 0, stream);
            // The AVX2 fill gives the same numbers as the scalar definition, several times faster.
            if (SimdNormals.IsSupported) SimdNormals.Fill(s, 0, normals);
            else
                for (var i = 0; i < normals.Length; i++) normals[i] = Philox.Normal(s, (ulong)i);
            for (var p = 0; p < count; p++)
                normals.AsSpan(p * d, d).CopyTo(points.AsSpan((int)(((long)r * count + p) * ld), d));
        }
        return points;
    }
}
