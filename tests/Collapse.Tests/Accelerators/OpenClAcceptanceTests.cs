namespace Collapse.Tests.Accelerators;

/// <summary>
/// OpenCL devices are accepted as ILGPU decides (the OpenCL C it compiles for follows the device
/// version; a generic address space), plus the kernels' own need, float64. The OpenCL C version a
/// device reports is not the test: OpenCL 3.0 drivers (PoCL 6 among them) may report 1.2 there.
/// </summary>
public class OpenClAcceptanceTests
{
    [Theory]
    [InlineData(3, 0, 3, 0)] // PoCL 6.0: device 3.0, -cl-std=CL3.0, generic address space reported
    [InlineData(2, 1, 2, 0)]
    [InlineData(2, 0, 2, 0)]
    public void A_2x_or_3_0_device_with_generic_address_space_and_float64_is_accepted(int major, int minor, int stdMajor, int stdMinor) =>
        Assert.Null(AcceleratorCatalog.OpenClRefusal(major, minor, stdMajor, stdMinor, genericAddressSpace: true, float64: true));

    [Fact]
    public void A_1_2_device_is_refused_naming_its_version()
    {
        var reason = AcceleratorCatalog.OpenClRefusal(1, 2, 1, 2, genericAddressSpace: false, float64: true);
        Assert.NotNull(reason);
        Assert.Contains("device OpenCL 1.2", reason);
        Assert.Contains("< 2.0", reason);
    }

    [Fact]
    public void A_3_0_device_without_the_generic_address_space_is_refused_saying_so()
    {
        // Debian 12's PoCL 3.1 is such a device.
        var reason = AcceleratorCatalog.OpenClRefusal(3, 0, 3, 0, genericAddressSpace: false, float64: true);
        Assert.Equal("an OpenCL 3.0 device without the generic address space (ILGPU requires it)", reason);
    }

    [Fact]
    public void A_device_without_float64_is_refused_because_the_kernels_accumulate_in_double()
    {
        var reason = AcceleratorCatalog.OpenClRefusal(3, 0, 3, 0, genericAddressSpace: true, float64: false);
        Assert.Contains("float64", reason);
    }

    [Fact]
    public void The_facts_collapse_devices_prints_name_every_input_of_the_decision()
    {
        var text = new OpenClFacts("3.0", "1.2", "3.0", Float64: true, GenericAddressSpace: true).ToString();
        Assert.Equal("device OpenCL 3.0, OpenCL C 1.2, compiled for 3.0, float64 yes, generic address space yes", text);
    }
}
