using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Tests.Nn;

public class ContainerTests
{
    [Fact]
    public void Sequential_positional_form_names_children_by_index_and_chains_them()
    {
        var lin = new Linear(4, 3);
        var seq = new Sequential(lin, new ReLU(), new Linear(3, 2));
        Assert.Equal(3, seq.Count);
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], seq.NamedParameters().Select(p => p.Name));
        Assert.Same(lin, seq[0]);
        Assert.IsType<Linear>(seq[-1]);
        var x = NnTestUtil.Det([5, 4], 0.3, 0.1, 1);
        var expected = ((Linear)seq[2]).Forward(lin.Forward(x).Relu());
        TestUtil.Close(expected, seq.Call(x), 0, 0);
        var ex = Assert.Throws<IndexOutOfRangeException>(() => seq[3]);
        Assert.Contains("index 3", ex.Message);
        Assert.Contains("3 modules", ex.Message);
    }

    [Fact]
    public void Sequential_named_form_and_slicing_share_modules_and_keep_names()
    {
        var seq = new Sequential(("conv", (Module)new Linear(2, 2)), ("act", new ReLU()), ("fc", new Linear(2, 1)));
        Assert.Equal(["conv.weight", "conv.bias", "fc.weight", "fc.bias"], seq.NamedParameters().Select(p => p.Name));
        Assert.IsType<ReLU>(seq["act"]);
        var tail = seq.Slice(1);
        Assert.Equal(2, tail.Count);
        Assert.Equal(["act", "fc"], tail.NamedChildren().Select(c => c.Name));
        Assert.Same(seq[2], tail[1]);
        Assert.Single(seq.Slice(-1));
        Assert.Empty(seq.Slice(2, 1));
        seq.Append(new Sigmoid());
        Assert.Equal("3", seq.NamedChildren().Last().Name);
    }

    [Fact]
    public void ModuleList_registers_appends_extends_and_inserts_like_PyTorch()
    {
        var a = new Linear(1, 1); var b = new Linear(1, 2); var c = new Linear(1, 3);
        var list = new ModuleList(a, b);
        list.Append(c);
        Assert.Equal(3, list.Count);
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias", "2.weight", "2.bias"], list.NamedParameters().Select(p => p.Name));
        var d = new ReLU();
        list.Insert(1, d);
        Assert.Equal([a, d, b, c], list.ToArray());
        Assert.Equal(["0", "1", "2", "3"], list.NamedChildren().Select(n => n.Name));
        Assert.Same(c, list[-1]);
        list.Extend([new Tanh()]);
        Assert.Equal(5, list.Count);
        Assert.Throws<NotSupportedException>(() => list.Forward(Torch.Zeros(1)));
    }

    [Fact]
    public void ModuleDict_registers_by_key_in_insertion_order()
    {
        var dict = new ModuleDict(("encoder", (Module)new Linear(2, 3)), ("act", new ReLU()));
        dict["decoder"] = new Linear(3, 2);
        Assert.Equal(["encoder", "act", "decoder"], dict.Keys);
        Assert.True(dict.ContainsKey("act"));
        Assert.Equal(["encoder.weight", "encoder.bias", "decoder.weight", "decoder.bias"], dict.NamedParameters().Select(p => p.Name));
        var ex = Assert.Throws<KeyNotFoundException>(() => dict["missing"]);
        Assert.Contains("missing", ex.Message);
    }
}
