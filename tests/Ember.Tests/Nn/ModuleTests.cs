using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Tests.Nn;

public class ModuleTests
{
    sealed class Net : Module
    {
        public readonly Sequential Features;
        public readonly Linear Head;
        public Net()
        {
            Features = RegisterModule("features", new Sequential(new Linear(4, 3), new ReLU(), new BatchNorm1d(3)));
            Head = RegisterModule("head", new Linear(3, 2));
        }
        public override Tensor Forward(Tensor input) => Head.Call(Features.Call(input));
    }

    [Fact]
    public void Registry_names_are_hierarchical_and_in_declaration_order()
    {
        var net = new Net();
        Assert.Equal(["features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias", "head.weight", "head.bias"],
            net.NamedParameters().Select(p => p.Name));
        Assert.Equal(["features.2.running_mean", "features.2.running_var", "features.2.num_batches_tracked"], net.NamedBuffers().Select(b => b.Name));
        Assert.Equal(["", "features", "features.0", "features.1", "features.2", "head"], net.NamedModules().Select(m => m.Name));
        Assert.Equal(6, net.Parameters().Count());
        Assert.Equal(3, net.Buffers().Count());
        Assert.Equal(4 * 3 + 3 + 3 + 3 + 3 * 2 + 2, net.ParameterCount());
        Assert.Equal(DType.Int64, net.NamedBuffers().Last().Buffer.DType);
    }

    [Fact]
    public void Train_and_eval_recurse_into_every_submodule()
    {
        var net = new Net();
        Assert.All(net.Modules(), m => Assert.True(m.Training));
        net.Eval();
        Assert.All(net.Modules(), m => Assert.False(m.Training));
        net.Features.Train();
        Assert.False(net.Training);
        Assert.True(net.Features[2].Training);
    }

    [Fact]
    public void ZeroGrad_clears_and_RequiresGrad_false_freezes_a_subtree()
    {
        var net = new Net();
        var x = NnTestUtil.Det([5, 4], 0.3, 0.1, 1);
        net.Call(x).Sum().Backward();
        Assert.All(net.Parameters(), p => Assert.NotNull(p.Grad));
        net.ZeroGrad();
        Assert.All(net.Parameters(), p => Assert.Null(p.Grad));

        net.Features.RequiresGrad(false);
        Assert.Equal(3 * 2 + 2, net.ParameterCount(onlyTrainable: true));
        net.Call(x).Sum().Backward();
        Assert.Null(((Linear)net.Features[0]).Weight.Grad);
        Assert.NotNull(net.Head.Weight.Grad);
    }

    [Fact]
    public void StateDict_round_trips_parameters_and_buffers()
    {
        var a = new Net();
        a.Call(NnTestUtil.Det([5, 4], 0.3, 0.1, 1)); // moves the BN running statistics
        var sd = a.StateDict();
        Assert.Equal(["features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias", "features.2.running_mean",
            "features.2.running_var", "features.2.num_batches_tracked", "head.weight", "head.bias"], sd.Keys);
        var b = new Net();
        var keep = b.Head.Weight;
        var result = b.LoadStateDict(sd);
        Assert.Empty(result.MissingKeys);
        Assert.Same(keep, b.Head.Weight);
        foreach (var (key, value) in b.StateDict()) TestUtil.Close(sd[key], value, 0, 0);
        Assert.Equal(1L, ((BatchNorm1d)b.Features[2]).NumBatchesTracked!.Item<long>());
    }

    [Fact]
    public void Strict_loading_lists_missing_unexpected_and_mismatched_keys_in_one_message()
    {
        var net = new Net();
        var sd = net.StateDict();
        sd.Remove("head.bias");
        sd["extra.weight"] = Torch.Zeros(2);
        sd["features.0.weight"] = Torch.Zeros(7, 4);
        var ex = Assert.Throws<InvalidOperationException>(() => net.LoadStateDict(sd));
        Assert.Contains("Net", ex.Message);
        Assert.Contains("Missing key(s) in state_dict: \"head.bias\"", ex.Message);
        Assert.Contains("Unexpected key(s) in state_dict: \"extra.weight\"", ex.Message);
        Assert.Contains("size mismatch for features.0.weight: copying a param with shape [7, 4] from checkpoint, the shape in current model is [3, 4]", ex.Message);
    }

    [Fact]
    public void ToString_prints_the_tree_like_PyTorch()
    {
        var seq = new Sequential(new Linear(4, 3), new ReLU());
        Assert.Equal("Sequential(\n  (0): Linear(in_features=4, out_features=3, bias=True)\n  (1): ReLU()\n)", seq.ToString());
        var net = new Net();
        Assert.Equal("Net(\n  (features): Sequential(\n    (0): Linear(in_features=4, out_features=3, bias=True)\n    (1): ReLU()\n" +
            "    (2): BatchNorm1d(3, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)\n  )\n" +
            "  (head): Linear(in_features=3, out_features=2, bias=True)\n)", net.ToString());
    }

    [Fact]
    public void Layer_reprs_match_PyTorch()
    {
        Assert.Equal("ReLU(inplace=True)", new ReLU(inplace: true).ToString());
        Assert.Equal("LeakyReLU(negative_slope=0.01)", new LeakyReLU().ToString());
        Assert.Equal("RReLU(lower=0.125, upper=0.3333333333333333)", new RReLU().ToString());
        Assert.Equal("ELU(alpha=1.0)", new ELU().ToString());
        Assert.Equal("GELU(approximate='tanh')", new GELU(GeluApproximate.Tanh).ToString());
        Assert.Equal("Hardtanh(min_val=-1.0, max_val=1.0)", new Hardtanh().ToString());
        Assert.Equal("Softplus(beta=1.0, threshold=20.0)", new Softplus().ToString());
        Assert.Equal("Softmax(dim=1)", new Softmax(1).ToString());
        Assert.Equal("PReLU(num_parameters=1)", new PReLU().ToString());
        Assert.Equal("Flatten(start_dim=1, end_dim=-1)", new Flatten().ToString());
        Assert.Equal("Unflatten(dim=1, unflattened_size=(2, 3))", new Unflatten(1, 2, 3).ToString());
        Assert.Equal("Embedding(10, 3, padding_idx=0)", new Embedding(10, 3, paddingIdx: 0).ToString());
        Assert.Equal("LayerNorm((4,), eps=1e-05, elementwise_affine=True)", new LayerNorm(4).ToString());
        Assert.Equal("GroupNorm(2, 4, eps=1e-05, affine=True)", new GroupNorm(2, 4).ToString());
        Assert.Equal("InstanceNorm2d(3, eps=1e-05, momentum=0.1, affine=False, track_running_stats=False)", new InstanceNorm2d(3).ToString());
        Assert.Equal("BatchNorm2d(3, eps=1e-05, momentum=None, affine=True, track_running_stats=True)", new BatchNorm2d(3, momentum: null).ToString());
        Assert.Equal("Dropout(p=0.5, inplace=False)", new Dropout().ToString());
        Assert.Equal("DropPath(drop_prob=0.100)", new DropPath(0.1).ToString());
    }

    [Fact]
    public void Forward_hooks_run_through_Call_inside_Sequential()
    {
        var relu = new ReLU();
        var seq = new Sequential(new Identity(), relu);
        var seen = new List<string>();
        using (relu.RegisterForwardPreHook((m, x) => { seen.Add("pre"); return x * 2.0; }))
        using (relu.RegisterForwardHook((m, x, y) => { seen.Add("post"); return y + 1.0; }))
        {
            var y = seq.Call(Torch.Tensor(-1f, 3f));
            TestUtil.Close([1, 7], y);
        }
        Assert.Equal(["pre", "post"], seen);
        TestUtil.Close([0, 3], seq.Call(Torch.Tensor(-1f, 3f)));
    }
}
