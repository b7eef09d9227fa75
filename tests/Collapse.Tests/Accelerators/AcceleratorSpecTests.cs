using Collapse.Kernels.Validation;

namespace Collapse.Tests.Accelerators;

public class AcceleratorSpecTests
{
    [Theory]
    [InlineData("auto", AcceleratorKind.Auto, null)]
    [InlineData("cpu", AcceleratorKind.Cpu, null)]
    [InlineData("CUDA:1", AcceleratorKind.Cuda, 1)]
    [InlineData("opencl:0", AcceleratorKind.OpenCL, 0)]
    public void Parses_valid_forms(string text, AcceleratorKind kind, int? index)
    {
        var spec = AcceleratorSpec.Parse(text);
        Assert.Equal(kind, spec.Kind);
        Assert.Equal(index, spec.Index);
    }

    [Theory]
    [InlineData("gpu")]
    [InlineData("cuda:-1")]
    [InlineData("auto:0")]
    [InlineData("cpu:x")]
    [InlineData("cpu:0:1")]
    public void Rejects_invalid_forms_naming_the_value(string text)
    {
        var error = Assert.Throws<InvalidParameterException>(() => AcceleratorSpec.Parse(text));
        Assert.Equal((ParameterProblem.BadValue, AcceleratorSpec.Parameter, text), (error.Problem, error.Parameter, error.Value));
        Assert.Contains("auto, cpu, cuda, opencl", error.Valid);
        Assert.StartsWith($"accelerator '{text}' is not valid", error.Message);
    }

    [Fact]
    public void Cpu_is_always_listed_and_usable()
    {
        var devices = AcceleratorCatalog.List();
        Assert.Contains(devices, d => d.Kind == AcceleratorKind.Cpu && d.Usable);
        Assert.All(devices.Where(d => !d.Usable), d => Assert.False(string.IsNullOrEmpty(d.RefusedBecause)));
    }

    [Fact]
    public void An_absent_accelerator_is_an_error_not_a_fallback()
    {
        if (AcceleratorCatalog.List().Any(d => d.Kind == AcceleratorKind.Cuda && d.Usable))
            Assert.Throws<AcceleratorUnavailableException>(() => AcceleratorCatalog.Open(AcceleratorSpec.Parse("cuda:99")));
        else
        {
            var error = Assert.Throws<AcceleratorUnavailableException>(() => AcceleratorCatalog.Open(AcceleratorSpec.Parse("cuda")));
            Assert.Equal((ParameterProblem.Unavailable, AcceleratorSpec.Parameter, "cuda"), (error.Problem, error.Parameter, error.Value));
            Assert.DoesNotContain("--", error.Message);
        }
        Assert.Throws<AcceleratorUnavailableException>(() => AcceleratorCatalog.Open(AcceleratorSpec.Parse("cpu:7")));
    }
}
