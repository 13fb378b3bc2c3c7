using Ember.Nn.Layers;

namespace Ember.Tests.Nn;

public class GroupNormChannelsPerGroupTests
{
    [Theory]
    [InlineData(64, 16, 4)]
    [InlineData(16, 16, 1)]
    [InlineData(8, 16, 1)]
    [InlineData(96, 32, 3)]
    public void GroupsFollowTheChannelsPerGroup(int channels, int perGroup, int groups)
    {
        var gn = GroupNorm.WithChannelsPerGroup(channels, perGroup);
        Assert.Equal(groups, gn.NumGroups);
        Assert.Equal(channels, gn.NumChannels);
        var x = TestUtil.Leaf([2, channels, 3, 3], seed: channels);
        TestUtil.Close(new GroupNorm(groups, channels).Forward(x), gn.Forward(x), rtol: 0, atol: 0);
    }

    [Fact]
    public void ChannelsThatDoNotSplitEvenlyAreAnError()
    {
        var e = Assert.Throws<ArgumentException>(() => GroupNorm.WithChannelsPerGroup(40));
        Assert.Contains("num_channels (40) is not a multiple of channels_per_group (16)", e.Message);
    }
}
