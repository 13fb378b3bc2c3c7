using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Analysis;

/// <summary>
/// The variance shift of the notes (Li et al. 2019): dropout placed before a BatchNorm makes the BN's input vary more in
/// training than in evaluation, so the running variance it learned does not fit the test-time inputs. This measures,
/// for every BatchNorm of a model, the per-channel variance of its input on one batch with the model in training mode
/// and in evaluation mode, averaged over channels. A shift of 1 means the two agree.
/// </summary>
public static class VarianceShift
{
    /// <summary>
    /// Runs <paramref name="batch"/> through <paramref name="model"/> once in training and once in evaluation mode, under
    /// no-grad, and reports each BatchNorm's input variance in both. The model's buffers (running statistics) and mode
    /// are restored afterwards, so measuring does not change the model.
    /// </summary>
    public static IReadOnlyList<VarianceShiftLayer> Measure(Module model, Tensor batch)
    {
        var layers = model.NamedModules().Where(m => m.Module is BatchNorm).ToList();
        if (layers.Count == 0) throw new ArgumentException($"VarianceShift: the model ({model.GetType().Name}) has no BatchNorm layer");
        var saved = model.Buffers().Select(b => b.Clone()).ToList();
        bool wasTraining = model.Training;
        try
        {
            var train = Capture(model, layers, batch, training: true);
            var eval = Capture(model, layers, batch, training: false);
            return [.. layers.Select((l, i) => new VarianceShiftLayer(l.Name, train[i], eval[i]))];
        }
        finally
        {
            using (Torch.NoGrad())
                foreach (var (buffer, copy) in model.Buffers().Zip(saved)) buffer.CopyFrom(copy);
            model.Train(wasTraining);
        }
    }

    /// <summary>
    /// Li et al.'s form of the shift: for every BatchNorm, the mean over channels of its running variance (what training
    /// taught it to expect) against the mean per-channel variance of its input when <paramref name="batch"/> runs through
    /// the model in evaluation mode, under no-grad; reported as <see cref="VarianceShiftLayer.TrainVariance"/> and
    /// <see cref="VarianceShiftLayer.EvalVariance"/>. Unlike <see cref="Measure"/> it does not depend on how far the
    /// batch statistics upstream differ from the running ones. The model's mode is restored; its buffers do not change.
    /// </summary>
    public static IReadOnlyList<VarianceShiftLayer> MeasureRunning(Module model, Tensor batch)
    {
        var layers = model.NamedModules().Where(m => m.Module is BatchNorm { RunningVar: not null }).ToList();
        if (layers.Count == 0) throw new ArgumentException($"VarianceShift: the model ({model.GetType().Name}) has no BatchNorm layer with running statistics");
        bool wasTraining = model.Training;
        try
        {
            var eval = Capture(model, layers, batch, training: false);
            return [.. layers.Select((l, i) => new VarianceShiftLayer(l.Name, ((BatchNorm)l.Module).RunningVar!.To(DType.Float64).Mean().Item(), eval[i]))];
        }
        finally { model.Train(wasTraining); }
    }

    static double[] Capture(Module model, List<(string Name, Module Module)> layers, Tensor batch, bool training)
    {
        var variances = new double[layers.Count];
        var hooks = new List<IDisposable>();
        for (int i = 0; i < layers.Count; i++)
        {
            int index = i;
            hooks.Add(layers[i].Module.RegisterForwardPreHook((_, input) => { variances[index] = MeanChannelVariance(input); return null; }));
        }
        try
        {
            model.Train(training);
            using (Torch.NoGrad()) model.Call(batch);
        }
        finally
        {
            foreach (var hook in hooks) hook.Dispose();
        }
        return variances;
    }

    // Per-channel (dim 1) unbiased variance over the batch and every spatial position, averaged over channels.
    static double MeanChannelVariance(Tensor input)
    {
        var dims = Enumerable.Range(0, input.Rank).Where(d => d != 1).ToArray();
        return input.To(DType.Float64).Var(dims).Mean().Item();
    }
}
