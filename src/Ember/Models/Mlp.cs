using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Models;

/// <summary>A multilayer perceptron: flatten, then Linear → BatchNorm1d → ReLU → Dropout per hidden layer, then a linear head.</summary>
public sealed class Mlp : Module
{
    readonly Sequential layers;

    /// <summary>An MLP from <paramref name="inFeatures"/> through <paramref name="hidden"/> to <paramref name="numClasses"/> outputs.</summary>
    public Mlp(int inFeatures = 784, int[]? hidden = null, int numClasses = 10, double dropout = 0.2)
    {
        hidden ??= [256, 128];
        var modules = new List<Module> { new Flatten() };
        int width = inFeatures;
        foreach (var h in hidden)
        {
            modules.Add(new Linear(width, h));
            modules.Add(new BatchNorm1d(h));
            modules.Add(new ReLU());
            if (dropout > 0) modules.Add(new Dropout(dropout));
            width = h;
        }
        modules.Add(new Linear(width, numClasses));
        layers = RegisterModule("layers", new Sequential(modules.ToArray()));
    }

    /// <inheritdoc/>
    public override Tensor Forward(Tensor x) => layers.Call(x);
}
