using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Tests.Nn;

/// <summary>
/// Module full backward hooks and backward pre-hooks with PyTorch's semantics (register_full_backward_hook): grad_input and
/// grad_output are the gradients of the module's input and output; replacements change only what flows to the input.
/// </summary>
public class ModuleBackwardHookTests
{
    static (Linear Layer, Tensor X, Tensor V) Setup()
    {
        var layer = new Linear(3, 2);
        var x = Torch.FromArray([1f, -2f, 0.5f, 0.25f, 1f, -1f], [2, 3]).RequiresGradInPlace();
        var v = Torch.FromArray([1f, 2f, -1f, 0.5f], [2, 2]);
        return (layer, x, v);
    }

    [Fact]
    public void HookSeesGradientsOfInputAndOutput()
    {
        var (layer, x, v) = Setup();
        Tensor?[]? gin = null, gout = null;
        layer.RegisterFullBackwardHook((m, gi, go) => { Assert.Same(layer, m); gin = gi; gout = go; return null; });
        (layer.Call(x) * v).Sum().Backward();
        TestUtil.Close(v, gout![0]!, 0, 0);
        TestUtil.Close(v.MatMul(layer.Weight.Detach()), gin![0]!, 1e-6, 1e-6);
        TestUtil.Close(gin[0]!, x.Grad!, 0, 0);
    }

    [Fact]
    public void ReplacedGradInputReachesTheInputButNotTheParameters()
    {
        var (layer, x, v) = Setup();
        (layer.Call(x) * v).Sum().Backward();
        var weightGrad = layer.Weight.Grad!.Clone();
        layer.ZeroGrad(); x.Grad = null;
        layer.RegisterFullBackwardHook((m, gi, go) => [gi[0]! * 0.0]);
        (layer.Call(x) * v).Sum().Backward();
        Assert.All(x.Grad!.ToDoubleArray(), g => Assert.Equal(0.0, g));
        TestUtil.Close(weightGrad, layer.Weight.Grad!, 0, 0);
    }

    [Fact]
    public void PreHookRunsFirstAndItsReplacementGradOutputIsWhatTheModuleAndHooksSee()
    {
        var (layer, x, v) = Setup();
        var order = new List<string>();
        layer.RegisterFullBackwardPreHook((m, go) => { order.Add("pre"); return [go[0]! * 2.0]; });
        layer.RegisterFullBackwardHook((m, gi, go) => { order.Add("hook1"); TestUtil.Close(v * 2.0, go[0]!, 0, 0); return [gi[0]! + 1.0]; });
        Tensor? seenByHook2 = null;
        layer.RegisterFullBackwardHook((m, gi, go) => { order.Add("hook2"); seenByHook2 = gi[0]; return null; });
        (layer.Call(x) * v).Sum().Backward();
        Assert.Equal(["pre", "hook1", "hook2"], order);
        var expected = (v * 2.0).MatMul(layer.Weight.Detach()) + 1.0;
        TestUtil.Close(expected, seenByHook2!, 1e-6, 1e-6);
        TestUtil.Close(expected, x.Grad!, 1e-6, 1e-6);
        TestUtil.Close((v * 2.0).T.MatMul(x.Detach()), layer.Weight.Grad!, 1e-6, 1e-6);
    }

    [Fact]
    public void GradOutputIsWithRespectToTheForwardHooksReplacementOutput()
    {
        var (layer, x, v) = Setup();
        layer.RegisterForwardHook((m, input, output) => output * 3.0);
        Tensor?[]? gin = null, gout = null;
        layer.RegisterFullBackwardHook((m, gi, go) => { gin = gi; gout = go; return null; });
        (layer.Call(x) * v).Sum().Backward();
        TestUtil.Close(v, gout![0]!, 0, 0);
        TestUtil.Close((v * 3.0).MatMul(layer.Weight.Detach()), gin![0]!, 1e-6, 1e-6);
    }

    [Fact]
    public void InputWithoutGradGivesNullGradInputAndRemovedHooksAreNotCalled()
    {
        var (layer, x, v) = Setup();
        int calls = 0;
        Tensor?[]? gin = null;
        var handle = layer.RegisterFullBackwardHook((m, gi, go) => { calls++; gin = gi; return null; });
        (layer.Call(x.Detach()) * v).Sum().Backward();
        Assert.Equal(1, calls);
        Assert.Single(gin!);
        Assert.Null(gin![0]);
        handle.Dispose();
        (layer.Call(x) * v).Sum().Backward();
        Assert.Equal(1, calls);
    }

    [Fact]
    public void HooksInsideASequentialFireInReverseModuleOrder()
    {
        var a = new Linear(3, 3); var b = new Linear(3, 2);
        var net = new Sequential(a, new ReLU(), b);
        var order = new List<string>();
        a.RegisterFullBackwardHook((m, gi, go) => { order.Add("a"); return null; });
        b.RegisterFullBackwardHook((m, gi, go) => { order.Add("b"); return null; });
        net.Call(Torch.Randn([4, 3], generator: new Generator(1)).RequiresGradInPlace()).Sum().Backward();
        Assert.Equal(["b", "a"], order);
    }
}
