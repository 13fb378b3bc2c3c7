using Ember.Nn.Layers;

namespace Ember.Nn.Lora;

/// <summary>
/// LoRA fine-tuning of a trained model (the notes' incremental fine-tuning): every selected Linear layer and 1×1 Conv2d
/// (groups 1) gets a <see cref="LoraAdapter"/> whose output is added to the layer's through a forward hook, and every parameter of the
/// base model is frozen, so only the adapters train. <see cref="Merge"/> folds the adapters into the base weights
/// (W ← W + (α/r)·B·A, reshaped to [out, in, 1, 1] for a convolution) for export, leaving a plain model. The base model is this module's child "base_model" (so
/// <c>Train()</c>/<c>Eval()</c> reach it) and each adapter a child named "lora_" + the layer's path with '.' as '_';
/// give the optimizer <see cref="TrainableParameters"/>, and save <see cref="AdapterStateDict"/> as the adapter checkpoint.
/// </summary>
public sealed class LoraModel : Module
{
    readonly List<(string Path, Module Layer, LoraAdapter Adapter, IDisposable Hook)> adapted = [];
    readonly List<(Parameter Parameter, bool RequiresGrad)> frozen = [];
    bool detached;

    LoraModel(Module model) => Model = RegisterModule("base_model", model);

    /// <summary>The wrapped base model (its forward includes the adapters until <see cref="Merge"/> or <see cref="Remove"/>).</summary>
    public Module Model { get; }

    /// <summary>The adapted layers (Linear or 1×1 Conv2d) by path, with their adapters.</summary>
    public IReadOnlyList<(string Path, Module Layer, LoraAdapter Adapter)> Adapters => [.. adapted.Select(a => (a.Path, a.Layer, a.Adapter))];

    /// <summary>
    /// Adds rank-<paramref name="rank"/> adapters (scale α/r) to the Linear layers and 1×1 Conv2d layers (groups 1) of
    /// <paramref name="model"/> for which <paramref name="target"/> (given the layer's path) is true, or all of them, and
    /// freezes the base model. A Conv2d the target selects that is not 1×1 with groups 1 is an error.
    /// </summary>
    public static LoraModel Apply(Module model, int rank = 8, double alpha = 16, Func<string, bool>? target = null, Generator? generator = null)
    {
        var lora = new LoraModel(model);
        foreach (var (path, module) in model.NamedModules())
        {
            if (module is not (Linear or Conv2d)) continue;
            if (module is Conv2d conv && (conv.KernelSize != (1, 1) || conv.Groups != 1))
            {
                // a k×k kernel's update is not a product of a 1×1 down- and up-projection; without a filter, skip it
                if (target is not null && target(path))
                    throw new ArgumentException($"LoraModel.Apply: {path} (Conv2d {conv.InChannels}→{conv.OutChannels}, kernel {conv.KernelSize.H}×{conv.KernelSize.W}, groups {conv.Groups}) " +
                        "was selected, but adapters apply to Linear and 1×1 Conv2d layers with groups 1 only");
                continue;
            }
            if (target is not null && !target(path)) continue;
            var (inFeatures, outFeatures) = module is Linear l ? (l.InFeatures, l.OutFeatures) : (((Conv2d)module).InChannels, ((Conv2d)module).OutChannels);
            var adapter = new LoraAdapter(inFeatures, outFeatures, rank, alpha, generator);
            lora.RegisterModule("lora_" + path.Replace('.', '_'), adapter);
            var hook = module is Conv2d c
                ? module.RegisterForwardHook((_, input, output) => output + adapter.Delta(input, c))
                : module.RegisterForwardHook((_, input, output) => output + adapter.Delta(input));
            lora.adapted.Add((path, module, adapter, hook));
        }
        if (lora.adapted.Count == 0)
            throw new ArgumentException($"LoraModel.Apply: no Linear or 1×1 Conv2d layer of {model.GetType().Name} was selected" + (target is null ? "" : " by the target filter"));
        foreach (var p in model.Parameters())
        {
            lora.frozen.Add((p, p.RequiresGrad));
            p.RequiresGradInPlace(false);
        }
        return lora;
    }

    /// <summary>The adapters' parameters: the only ones that train.</summary>
    public IEnumerable<Parameter> TrainableParameters() => adapted.SelectMany(a => a.Adapter.Parameters());

    /// <summary>The adapters' tensors by name ("lora_{path}.lora_A" / ".lora_B"), without the frozen base.</summary>
    public OrderedDictionary<string, Tensor> AdapterStateDict()
    {
        var all = StateDict();
        var adapters = new OrderedDictionary<string, Tensor>();
        foreach (var (key, value) in all)
            if (!key.StartsWith("base_model.", StringComparison.Ordinal)) adapters.Add(key, value);
        return adapters;
    }

    /// <summary>
    /// The base model's state dict (its own keys, without "base_model.") with each adapted layer's weight replaced by
    /// W + (α/r)·B·A: what <see cref="Merge"/> would leave, computed into new tensors so that training can go on. Loaded
    /// into a plain copy of the model, it computes what the adapted model does (for checkpoints and export).
    /// </summary>
    public OrderedDictionary<string, Tensor> MergedStateDict()
    {
        if (detached) throw new InvalidOperationException("LoraModel: the adapters were merged or removed; use the base model's StateDict");
        var state = Model.StateDict();
        using (Torch.NoGrad())
            foreach (var (path, layer, adapter, _) in adapted)
            {
                var weight = layer is Linear linear ? linear.Weight : ((Conv2d)layer).Weight;
                string key = path.Length == 0 ? "weight" : path + ".weight";
                state[key] = (weight + adapter.WeightDelta().Reshape(weight.Shape.ToArray()).To(weight.DType)).Detach();
            }
        return state;
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor input)
    {
        if (detached) throw new InvalidOperationException("LoraModel: the adapters were merged or removed; call the base model itself");
        return Model.Call(input);
    }

    /// <summary>
    /// Folds each adapter into its layer's weight (W ← W + (α/r)·B·A), removes the hooks and restores the base
    /// parameters' requires-grad flags: the base model alone now computes what the adapted model did.
    /// </summary>
    public Module Merge()
    {
        using (Torch.NoGrad())
            foreach (var (_, layer, adapter, _) in adapted)
            {
                var weight = layer is Linear linear ? linear.Weight : ((Conv2d)layer).Weight;
                weight.CopyFrom(weight + adapter.WeightDelta().Reshape(weight.Shape.ToArray()).To(weight.DType));
            }
        return Remove();
    }

    /// <summary>Removes the adapters without merging them and unfreezes the base model as it was: the original model again.</summary>
    public Module Remove()
    {
        if (detached) throw new InvalidOperationException("LoraModel: the adapters were already merged or removed");
        foreach (var a in adapted) a.Hook.Dispose();
        foreach (var (p, requiresGrad) in frozen) p.RequiresGradInPlace(requiresGrad);
        detached = true;
        return Model;
    }
}
