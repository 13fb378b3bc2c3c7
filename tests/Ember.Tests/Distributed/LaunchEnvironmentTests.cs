using System.Collections;
using Ember.Distributed;

namespace Ember.Tests.Distributed;

public class LaunchEnvironmentTests
{
    [Fact]
    public void OpenMpisVariablesGiveRankAndSize()
    {
        var env = LaunchEnvironment.Read(new Hashtable { ["OMPI_COMM_WORLD_RANK"] = "2", ["OMPI_COMM_WORLD_SIZE"] = "4", ["PMI_RANK"] = "0", ["PMI_SIZE"] = "1" });
        Assert.Equal(new LaunchEnvironment(2, 4, "OMPI_COMM_WORLD_RANK/OMPI_COMM_WORLD_SIZE"), env);
    }

    [Fact]
    public void HydrasPmiVariablesAreTheFallback()
        => Assert.Equal(new LaunchEnvironment(1, 3, "PMI_RANK/PMI_SIZE"), LaunchEnvironment.Read(new Hashtable { ["PMI_RANK"] = "1", ["PMI_SIZE"] = "3" }));

    [Fact]
    public void NoLauncherMeansNoLaunchEnvironment()
        => Assert.Null(LaunchEnvironment.Read(new Hashtable { ["HOME"] = "/root" }));

    [Theory]
    [InlineData("3", "3")]
    [InlineData("-1", "2")]
    [InlineData("0", "zero")]
    [InlineData("0", null)]
    public void InconsistentVariablesAreAnErrorNamingThem(string? rank, string? size)
    {
        var vars = new Hashtable { ["OMPI_COMM_WORLD_RANK"] = rank };
        if (size is not null) vars["OMPI_COMM_WORLD_SIZE"] = size;
        var e = Assert.Throws<DistributedException>(() => LaunchEnvironment.Read(vars));
        Assert.Contains($"OMPI_COMM_WORLD_RANK='{rank}'", e.Message);
        Assert.Contains($"OMPI_COMM_WORLD_SIZE='{size}'", e.Message);
    }
}
