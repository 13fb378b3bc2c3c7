using Ember.Kernels.Gemm;

namespace Ember.Tests.Kernels;

/// <summary><see cref="CacheSizes.L3Share"/>: the L3 the buffer-reuse and streaming rules may count on.</summary>
public sealed class CacheSizesTests
{
    [Theory]
    [InlineData(32L << 20, 2, 32L << 20)]    // the 2-vCPU Zen 5 VM of sessions 12-20: taken at its word
    [InlineData(300L << 20, 2, 8L << 20)]    // this session's Intel Xeon VM: the host socket's L3, 4 MiB per vCPU counted
    [InlineData(256L << 20, 64, 256L << 20)] // a whole server socket
    [InlineData(8L << 20, 4, 8L << 20)]      // a desktop
    [InlineData(32L << 20, 1, 4L << 20)]     // one vCPU beside a 32 MiB L3: more than 16 MiB per processor
    [InlineData(16L << 20, 0, 16L << 20)]    // a processor count below one counts as one
    public void The_L3_share_is_the_reported_L3_unless_that_exceeds_16_MiB_per_processor(long l3, int processors, long expected)
        => Assert.Equal(expected, CacheSizes.ShareOf(l3, processors));

    // The ways split L1 into sets of whole 64-byte lines (32 KiB 8-way here: 64 sets; 48 KiB 12-way: 64 sets).
    [Fact]
    public void The_L1_ways_of_this_machine_divide_it_into_whole_lines()
    {
        Assert.InRange(CacheSizes.L1Ways, 1, 64);
        Assert.Equal(0, CacheSizes.L1 % (CacheSizes.L1Ways * 64));
    }

    [Fact]
    public void The_L3_share_of_this_machine_is_at_most_its_L3()
        => Assert.InRange(CacheSizes.L3Share, 1, CacheSizes.L3);
}
