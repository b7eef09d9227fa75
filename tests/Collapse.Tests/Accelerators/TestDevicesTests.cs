namespace Collapse.Tests.Accelerators;

/// <summary>
/// The accelerators the kernel tests are meant to run on are really here. With
/// <c>COLLAPSE_TEST_DEVICES=cuda</c> on a machine without CUDA no kernel row is generated, so a run
/// filtered by <c>-trait device=cuda</c> would otherwise pass with nothing run: this row fails instead.
/// </summary>
public class TestDevicesTests
{
    [Theory]
    [MemberData(nameof(TestDevices.Requested), MemberType = typeof(TestDevices))]
    public void Every_requested_accelerator_is_open_and_copies_memory(string device)
    {
        if (TestDevices.Unavailable(device) is string reason)
            Assert.Fail($"{TestDevices.Variable} asks for {device}, which cannot be opened here: {reason}");
        var accelerator = TestDevices.Get(device).Accelerator;
        var values = Enumerable.Range(0, 1000).Select(i => i * 0.5f).ToArray();
        using var buffer = accelerator.Allocate1D(values);
        Assert.Equal(values, buffer.GetAsArray1D());
    }
}
