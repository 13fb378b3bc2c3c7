using Ember.Analysis;
using Ember.Interop;
using Ember.Nn;
using Ember.Training;

namespace Ember.Models;

/// <summary>
/// Inference with trained zoo models: <see cref="Load"/> rebuilds a model from a checkpoint folder and
/// <see cref="Predict"/> runs it over a batch of inputs in eval mode without recording a graph.
/// </summary>
public static class Model
{
    /// <summary>
    /// Rebuilds the zoo model <paramref name="modelName"/> (or, when null, the name the checkpoint's metadata records
    /// under "model", as <c>ember train</c> writes it) and loads the checkpoint folder's weights into it after verifying
    /// their checksums (see <see cref="Checkpoint"/>); the EMA weights when the checkpoint has them (see <see cref="Checkpoint.LoadForInference"/>). The model comes back in eval mode; with <paramref name="fuse"/>
    /// each convolution's BatchNorm is folded into it (<see cref="Fusion.FuseModel"/>), which is for inference only.
    /// Weights holding NaN or ±Inf are refused with a <see cref="CheckpointException"/> naming the tensor and file
    /// unless <paramref name="allowNonFinite"/> is set: a diverged model's predictions are all NaN. <paramref name="norm"/>
    /// builds the normalization layers the model was trained with (see <see cref="ModelZoo.Create"/>); null: its own.
    /// </summary>
    public static Module Load(string checkpointFolder, string? modelName = null, int numClasses = 10, int inChannels = 1, bool fuse = false,
        bool allowNonFinite = false, Func<int, Module>? norm = null)
    {
        ArgumentNullException.ThrowIfNull(checkpointFolder);
        if (modelName is null)
        {
            var state = Checkpoint.ReadState(checkpointFolder);
            if (!state.Metadata.TryGetValue("model", out modelName))
                throw new CheckpointException(checkpointFolder, $"does not record which model it holds; pass the model name ({string.Join(", ", ModelZoo.Names)})");
        }
        var model = ModelZoo.Create(modelName, numClasses, inChannels, norm);
        var loaded = Checkpoint.LoadForInference(checkpointFolder, model);
        if (!allowNonFinite)
            Checkpoint.RequireFinite(model.StateDict(), Path.Combine(checkpointFolder, loaded.EmaUpdates is not null ? Checkpoint.EmaFile : Checkpoint.ModelFile));
        model.Eval();
        if (fuse) Fusion.FuseModel(model);
        return model;
    }

    /// <summary>
    /// The model's outputs for every row of <paramref name="inputs"/> [N, ...], <paramref name="batchSize"/> rows at a
    /// time, concatenated along dim 0. Puts the model in eval mode and records no autograd graph.
    /// </summary>
    public static Tensor Predict(Module model, Tensor inputs, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, $"Model.Predict: batch size must be positive, got {batchSize}");
        if (inputs.Rank == 0) throw new ArgumentException($"Model.Predict: expected inputs [N, ...] with a batch dim, got shape {inputs.Shape}", nameof(inputs));
        model.Eval();
        using (Torch.NoGrad())
        {
            int n = inputs.Size(0);
            if (n <= batchSize) return model.Call(inputs);
            var parts = new List<Tensor>();
            for (int start = 0; start < n; start += batchSize)
                parts.Add(model.Call(inputs.Narrow(0, start, Math.Min(batchSize, n - start))));
            return Torch.Cat([.. parts], 0);
        }
    }
}
