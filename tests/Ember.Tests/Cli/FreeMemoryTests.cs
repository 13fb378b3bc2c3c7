using Ember.Cli.Commands;

namespace Ember.Tests.Cli;

/// <summary>
/// What <see cref="FreeMemory"/> reads as free now, from the files a machine, a cgroup v2 container and a cgroup v1
/// container show (the v1 one as this VM's: a memory group without a limit).
/// </summary>
public class FreeMemoryTests
{
    const string MemInfo = "MemTotal:       24683784 kB\nMemFree:        20000000 kB\nMemAvailable:   24201460 kB\nSwapTotal:             0 kB\n";
    const long Available = 24201460L * 1024;

    static long? Read(Dictionary<string, string> files) => FreeMemory.Read(path => files.GetValueOrDefault(path));

    [Fact]
    public void A_machine_without_a_limited_group_has_what_meminfo_calls_available()
    {
        Assert.Equal(Available, Read(new() { ["/proc/meminfo"] = MemInfo, ["/proc/self/cgroup"] = "0::/user.slice/session-1.scope\n" }));
        // this VM: cgroup v1, the memory group without a limit (long.MaxValue rounded down to a page)
        Assert.Equal(Available, Read(new()
        {
            ["/proc/meminfo"] = MemInfo,
            ["/proc/self/cgroup"] = "9:name=systemd:/\n4:memory:/process_api/0779\n0::/\n",
            ["/sys/fs/cgroup/memory/process_api/0779/memory.limit_in_bytes"] = "9223372036854771712\n",
            ["/sys/fs/cgroup/memory/process_api/0779/memory.usage_in_bytes"] = "2559102976\n",
            ["/sys/fs/cgroup/memory/process_api/0779/memory.stat"] = "cache 100\ntotal_inactive_file 0\nhierarchical_memory_limit 9223372036854771712\n",
        }));
        Assert.Null(Read(new()));
    }

    [Fact]
    public void A_v2_container_has_its_limit_less_what_it_uses_without_the_cache_it_can_drop()
    {
        // 4 GiB limit, 3 GiB charged of which 512 MiB is inactive file cache: 1.5 GiB left, less than the machine's 23 GiB
        var files = new Dictionary<string, string>
        {
            ["/proc/meminfo"] = MemInfo,
            ["/proc/self/cgroup"] = "0::/\n",
            ["/sys/fs/cgroup/memory.max"] = "4294967296\n",
            ["/sys/fs/cgroup/memory.current"] = "3221225472\n",
            ["/sys/fs/cgroup/memory.stat"] = "anon 2684354560\nfile 536870912\nactive_file 0\ninactive_file 536870912\n",
        };
        Assert.Equal(1536L << 20, Read(files));
        // over its limit (the kernel reclaims, then kills): nothing free
        files["/sys/fs/cgroup/memory.current"] = "5368709120\n";
        files["/sys/fs/cgroup/memory.stat"] = "inactive_file 0\n";
        Assert.Equal(0, Read(files));
    }

    [Fact]
    public void A_v2_group_without_a_limit_of_its_own_has_the_room_its_parents_leave()
    {
        // the run's own group says "max"; its parent slice allows 2 GiB and uses 1.25 GiB; the grandparent has no file
        Assert.Equal(768L << 20, Read(new()
        {
            ["/proc/meminfo"] = MemInfo,
            ["/proc/self/cgroup"] = "0::/work.slice/ember.scope\n",
            ["/sys/fs/cgroup/work.slice/ember.scope/memory.max"] = "max\n",
            ["/sys/fs/cgroup/work.slice/ember.scope/memory.current"] = "1073741824\n",
            ["/sys/fs/cgroup/work.slice/memory.max"] = "2147483648\n",
            ["/sys/fs/cgroup/work.slice/memory.current"] = "1342177280\n",
            ["/sys/fs/cgroup/work.slice/memory.stat"] = "inactive_file 0\n",
        }));
        // a container without its own cgroup namespace: the host's path is not mounted, the container's group is the root
        Assert.Equal(1L << 30, Read(new()
        {
            ["/proc/meminfo"] = MemInfo,
            ["/proc/self/cgroup"] = "0::/kubepods/burstable/pod1/abc\n",
            ["/sys/fs/cgroup/memory.max"] = "2147483648\n",
            ["/sys/fs/cgroup/memory.current"] = "1073741824\n",
        }));
    }

    [Fact]
    public void A_v1_container_has_the_least_of_its_limit_and_hierarchical_limit_less_its_usage()
    {
        // limit 8 GiB, a parent's 3 GiB (hierarchical), usage 2.5 GiB with 0.5 GiB inactive cache: 1 GiB left
        Assert.Equal(1L << 30, Read(new()
        {
            ["/proc/meminfo"] = MemInfo,
            ["/proc/self/cgroup"] = "5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n",
            ["/sys/fs/cgroup/memory/memory.limit_in_bytes"] = "8589934592\n",
            ["/sys/fs/cgroup/memory/memory.usage_in_bytes"] = "2684354560\n",
            ["/sys/fs/cgroup/memory/memory.stat"] = "cache 536870912\ninactive_file 1\ntotal_inactive_file 536870912\nhierarchical_memory_limit 3221225472\n",
        }));
    }

    [LinuxFact]
    public void On_this_machine_it_reads_meminfo_and_is_at_most_the_machine()
    {
        var free = FreeMemory.Now();
        long total = long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal:")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) * 1024;
        Assert.True(free is > 0 && free <= total, $"free {free}, total {total}");
    }
}
