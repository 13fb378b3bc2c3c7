using Ember.Nn;
using Ember.Optim;

namespace Ember.Tests.Optim;

/// <summary>A damaged optimizer state dict is refused, naming the key and what was expected, and leaves the optimizer as it was.</summary>
public class OptimizerStateLoadTests
{
    static (Parameter[] Ps, Adam Opt) Stepped()
    {
        var ps = new[]
        {
            new Parameter(Torch.FromArray(new float[] { 1, -2, 3, 0.5f, 0, 2 }, [2, 3])),
            new Parameter(Torch.FromArray(new float[] { 0.5f, 1, -1, 2 }, [4])),
        };
        var opt = new Adam(ps, new() { LearningRate = 0.01 });
        for (int t = 0; t < 2; t++)
        {
            foreach (var p in ps) p.Grad = p.Detach() * (t + 1.0);
            opt.Step();
        }
        return (ps, opt);
    }

    static void Move(Dictionary<string, Tensor> tensors, string from, string to)
    {
        tensors[to] = tensors[from];
        tensors.Remove(from);
    }

    public static TheoryData<string> Names => [.. Cases.Keys];

    static readonly Dictionary<string, (Action<OptimizerStateDict> Damage, string Message)> Cases = new()
    {
        ["state for an index no group lists"] = (d => { Move(d.Tensors, "state.1.exp_avg", "state.7.exp_avg"); Move(d.Tensors, "state.1.exp_avg_sq", "state.7.exp_avg_sq"); d.Scalars["state.7.step"] = d.Scalars["state.1.step"]; d.Scalars.Remove("state.1.step"); },
            "'state.7.exp_avg' is state for parameter index 7, which no parameter group lists (the groups' 'params' hold 2 indices: 0 to 1); its moments would be dropped"),
        ["a step scalar for an index no group lists"] = (d => d.Scalars["state.2.step"] = 3, "'state.2.step' is state for parameter index 2"),
        ["an index that is not a number"] = (d => d.Tensors["state.x.exp_avg"] = d.Tensors["state.0.exp_avg"], "'state.x.exp_avg' is state for parameter index x"),
        ["a negative index"] = (d => d.Tensors["state.-1.exp_avg"] = d.Tensors["state.0.exp_avg"], "'state.-1.exp_avg' is state for parameter index -1"),
        ["params renumbered away from the state"] = (d => d.Tensors["param_groups.0.params"] = Torch.FromArray(new long[] { 0, 5 }, [2]),
            "'state.1.exp_avg' is state for parameter index 1, which no parameter group lists (the groups' 'params' hold 2 indices: 0, 5)"),
        ["an index listed twice"] = (d => d.Tensors["param_groups.0.params"] = Torch.FromArray(new long[] { 1, 1 }, [2]), "parameter index 1 appears twice"),
        ["params as floats"] = (d => d.Tensors["param_groups.0.params"] = Torch.FromArray(new float[] { 0, 1 }, [2]), "'param_groups.0.params' is a Float32 tensor of shape [2], expected a 1-d int64 tensor"),
        ["a moment of another shape"] = (d => d.Tensors["state.0.exp_avg"] = Torch.Zeros([6]), "state 'state.0.exp_avg' has shape [6], expected the parameter's shape [2, 3]"),
        ["a moment of shape [1]"] = (d => d.Tensors["state.1.exp_avg_sq"] = Torch.Zeros([1]), "state 'state.1.exp_avg_sq' has shape [1], expected the parameter's shape [4]"),
        ["a moment of another dtype"] = (d => d.Tensors["state.1.exp_avg"] = d.Tensors["state.1.exp_avg"].To(DType.Float64), "state 'state.1.exp_avg' has dtype Float64, expected the parameter's dtype Float32"),
        ["a bool moment"] = (d => d.Tensors["state.0.exp_avg_sq"] = Torch.Zeros([2, 3]).To(DType.Bool), "state 'state.0.exp_avg_sq' has dtype Bool, expected the parameter's dtype Float32"),
        ["a missing moment"] = (d => d.Tensors.Remove("state.1.exp_avg_sq"), "missing tensor 'state.1.exp_avg_sq'"),
        ["a negative step"] = (d => d.Scalars["state.0.step"] = -1, "state 'state.0.step' is -1, expected a whole number of steps ≥ 0"),
        ["a NaN step"] = (d => d.Scalars["state.0.step"] = double.NaN, "state 'state.0.step' is NaN"),
        ["a fractional step"] = (d => d.Scalars["state.1.step"] = 2.5, "state 'state.1.step' is 2.5"),
        ["a step past 2^53"] = (d => d.Scalars["state.1.step"] = 1e19, "state 'state.1.step' is 1E+19"),
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void A_damaged_state_dict_is_refused_and_changes_nothing(string name)
    {
        var (ps, opt) = Stepped();
        var dict = opt.StateDict();
        var (damage, message) = Cases[name];
        damage(dict);
        var before = opt.StateDict();
        var ex = Assert.ThrowsAny<Exception>(() => opt.LoadStateDict(dict));
        Assert.True(ex is ArgumentException or KeyNotFoundException, ex.ToString());
        Assert.Contains(message, ex.Message);
        Assert.StartsWith("Adam", ex.Message.Replace("Optimizer.LoadStateDict", "Adam.LoadStateDict"));
        // the optimizer keeps its own state: the same moments and steps as before the failed load
        var after = opt.StateDict();
        Assert.Equal(before.Scalars, after.Scalars);
        Assert.Equal(before.Tensors.Keys.Order(), after.Tensors.Keys.Order());
        foreach (var (key, t) in before.Tensors) Assert.Equal(t.ToDoubleArray(), after.Tensors[key].ToDoubleArray());
        Assert.Equal(2, opt.State(ps[0])!.Step);
    }

    [Fact]
    public void An_intact_state_dict_still_loads_into_a_fresh_optimizer()
    {
        var (ps, opt) = Stepped();
        var fresh = new Adam(ps, new() { LearningRate = 0.5 });
        fresh.LoadStateDict(opt.StateDict());
        Assert.Equal(2, fresh.State(ps[1])!.Step);
        Assert.Equal(opt.State(ps[1])!.ExpAvgSq.ToArray<float>(), fresh.State(ps[1])!.ExpAvgSq.ToArray<float>());
        Assert.Equal(0.01, fresh.ParamGroups[0].LearningRate);
    }
}
