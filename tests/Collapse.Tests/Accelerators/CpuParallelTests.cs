using Collapse.Kernels.Cpu;

namespace Collapse.Tests.Accelerators;

/// <summary>The CPU path's loop dispatcher: every item once, from any number of callers, errors surfaced.</summary>
public class CpuParallelTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(1000)]
    public void Every_item_runs_exactly_once_over_many_back_to_back_loops(int count)
    {
        for (var round = 0; round < 2000; round++)
        {
            var hits = new int[count];
            CpuParallel.For(count, i => Interlocked.Increment(ref hits[i]));
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void Concurrent_and_nested_callers_each_get_all_their_items()
    {
        // Four callers at once, each body calling For again: all but one caller at a time take the Parallel.For fallback.
        var totals = new long[4];
        Parallel.For(0, 4, c =>
        {
            for (var round = 0; round < 200; round++)
                CpuParallel.For(8, i => CpuParallel.For(5, j => Interlocked.Add(ref totals[c], 1 + i * 5 + j)));
        });
        Assert.All(totals, t => Assert.Equal(200L * (40 * 41 / 2), t));
    }

    [Fact]
    public void A_body_that_throws_fails_the_loop_after_every_other_item_ran()
    {
        var ran = 0;
        var error = Assert.Throws<InvalidOperationException>(() => CpuParallel.For(64, i =>
        {
            Interlocked.Increment(ref ran);
            if (i == 17) throw new InvalidOperationException("item 17");
        }));
        Assert.Equal("item 17", error.Message);
        Assert.Equal(64, ran);
        // The pool is free again afterwards.
        var hits = new int[10];
        CpuParallel.For(10, i => Interlocked.Increment(ref hits[i]));
        Assert.All(hits, h => Assert.Equal(1, h));
    }
}
