using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Quantization;

/// <summary>Post-training dynamic quantization (torch.ao.quantization.quantize_dynamic).</summary>
public static class DynamicQuantization
{
    /// <summary>
    /// Replaces every <see cref="Linear"/> inside <paramref name="model"/> by a <see cref="DynamicQuantizedLinear"/>
    /// (int8 weights per output channel, activations quantized per call) and returns the model. It changes the model in
    /// place, as PyTorch's <c>inplace=True</c>: reload the float weights from a checkpoint to get the float model back.
    /// Other layers (convolution, norms) stay float32, as in PyTorch's default set for dynamic quantization.
    /// </summary>
    public static Module QuantizeDynamic(Module model)
    {
        if (model is Linear)
            throw new ArgumentException("QuantizeDynamic: the model is itself a Linear; quantize it with DynamicQuantizedLinear.FromFloat");
        // collect first: replacing children while enumerating the module tree would change it under the enumerator
        var targets = new List<(Module Parent, string Name, Linear Linear)>();
        foreach (var (_, module) in model.NamedModules())
            foreach (var (name, child) in module.NamedChildren())
                if (child is Linear linear) targets.Add((module, name, linear));
        foreach (var (parent, name, linear) in targets)
            parent.SetModule(name, DynamicQuantizedLinear.FromFloat(linear));
        return model;
    }
}
