namespace Ember.Autograd;

/// <summary>
/// Activation checkpointing (torch.utils.checkpoint.checkpoint, the reentrant variant): forward runs without recording,
/// so the segment's activations are not kept; backward runs the segment again with recording on and back-propagates
/// through it. With preserveRngState the default generator is rewound for the recomputation, so dropout draws the same mask.
/// </summary>
internal static class Checkpointing
{
    public const string NodeName = "CheckpointFunctionBackward";

    public static Tensor Checkpoint(Func<Tensor[], Tensor> function, Tensor[] inputs, bool preserveRngState)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(inputs);
        if (!GradMode.IsEnabled) return function(inputs);
        var generator = Generator.Default;
        var rng = preserveRngState ? generator.GetState() : null;
        bool inputsRecorded = Recording.IsOn(inputs);
        Tensor output;
        if (inputsRecorded)
            using (Torch.NoGrad()) output = function(inputs);
        else
        {
            // No input requires grad, but parameters inside the segment may: run it recording (its graph is dropped at
            // once, so the memory is the same transient peak as the recomputation) to learn whether the output needs a node.
            output = function(inputs);
            if (!output.RequiresGrad) return output;
        }
        if (output.RequiresGrad || Array.Exists(inputs, x => ReferenceEquals(x, output))) output = output.Detach();
        if (!output.DType.IsFloatingPoint()) return output;
        var recorded = inputsRecorded ? inputs : [];
        var node = new Node(NodeName, recorded, (g, _) => Recompute(function, inputs, g, generator, rng, inputsRecorded)) { RunsUserCode = true };
        node.Save(inputs);
        output.SetGradFn(node);
        return output;
    }

    static Tensor?[] Recompute(Func<Tensor[], Tensor> function, Tensor[] inputs, Tensor gradOutput, Generator generator,
        GeneratorState? rng, bool inputsRecorded)
    {
        if (Engine.InsideGrad)
            throw new InvalidOperationException("checkpoint: checkpointing is not compatible with Torch.Grad() (it accumulates into the parameters' Grad); use Backward()");
        var detached = new Tensor[inputs.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            detached[i] = inputs[i].Detach();
            if (inputs[i].RequiresGrad) detached[i].RequiresGrad = true;
        }
        bool createGraph = GradMode.IsEnabled;
        var now = rng is null ? null : generator.GetState();
        Tensor output;
        try
        {
            if (rng is not null) generator.SetState(rng);
            using (Torch.EnableGrad()) output = function(detached);
        }
        finally
        {
            if (now is not null) generator.SetState(now);
        }
        if (output.Shape != gradOutput.Shape)
            throw new InvalidOperationException($"checkpoint: the recomputed output has shape {output.Shape}, but forward gave {gradOutput.Shape}; the function must be deterministic");
        var grads = output.RequiresGrad ? Engine.BackwardCapturing(output, gradOutput, detached, createGraph) : new Tensor?[inputs.Length];
        return inputsRecorded ? grads : [];
    }
}
