namespace Ember.Nn.Losses;

/// <summary>
/// A weighted sum of named loss terms (the notes' 多loss加权混合): total = Σ wᵢ·ℓᵢ. After each call the unweighted value of
/// every term is kept in <see cref="LastValues"/> (and wᵢ·ℓᵢ in <see cref="LastWeightedValues"/>), so that a term that
/// dominates or stalls the total can be seen and its weight changed with <see cref="SetWeight"/>.
/// Terms are either loss modules on the same (input, target), or values computed elsewhere and passed by name
/// (box, objectness and class losses of a detector take different inputs).
/// </summary>
public sealed class WeightedLoss : Loss
{
    readonly List<(string Name, Func<Tensor, Tensor, Tensor>? Fn)> terms = new();
    readonly Dictionary<string, double> weights = new();
    readonly Dictionary<string, double> lastValues = new();
    readonly Dictionary<string, double> lastWeighted = new();

    /// <summary>Adds a loss module as a term (registered as a submodule under <paramref name="name"/>).</summary>
    public WeightedLoss Add(string name, Loss loss, double weight = 1)
    {
        AddTerm(name, loss.Forward, weight);
        RegisterModule(name, loss);
        return this;
    }

    /// <summary>Adds a loss function of (input, target) as a term.</summary>
    public WeightedLoss Add(string name, Func<Tensor, Tensor, Tensor> loss, double weight = 1)
    {
        AddTerm(name, loss, weight);
        return this;
    }

    /// <summary>Declares a term whose value is computed by the caller and passed to <see cref="Combine"/>.</summary>
    public WeightedLoss Add(string name, double weight = 1)
    {
        AddTerm(name, null, weight);
        return this;
    }

    void AddTerm(string name, Func<Tensor, Tensor, Tensor>? fn, double weight)
    {
        if (string.IsNullOrEmpty(name) || weights.ContainsKey(name))
            throw new ArgumentException($"WeightedLoss: term name '{name}' must be non-empty and unique");
        terms.Add((name, fn));
        weights[name] = weight;
    }

    /// <summary>The term names in the order they were added.</summary>
    public IReadOnlyList<string> Names => terms.Select(t => t.Name).ToList();

    /// <summary>The weight of a term.</summary>
    public double Weight(string name) => weights.TryGetValue(name, out var w) ? w : throw Unknown(name);

    /// <summary>Changes the weight of a term (to rebalance terms during training).</summary>
    public void SetWeight(string name, double weight)
    {
        if (!weights.ContainsKey(name)) throw Unknown(name);
        weights[name] = weight;
    }

    /// <summary>Each term's unweighted value at the last call.</summary>
    public IReadOnlyDictionary<string, double> LastValues => lastValues;

    /// <summary>Each term's weighted value wᵢ·ℓᵢ at the last call.</summary>
    public IReadOnlyDictionary<string, double> LastWeightedValues => lastWeighted;

    /// <summary>Σ wᵢ·ℓᵢ(input, target) over the terms added with a loss; terms without one are an error here.</summary>
    public override Tensor Forward(Tensor input, Tensor target)
    {
        var values = new Dictionary<string, Tensor>();
        foreach (var (name, fn) in terms)
            values[name] = fn is null
                ? throw new InvalidOperationException($"WeightedLoss: term '{name}' has no loss function; pass its value to Combine")
                : fn(input, target);
        return Combine(values);
    }

    /// <summary>Σ wᵢ·valueᵢ over every term, with each value given by name (each a scalar tensor).</summary>
    public Tensor Combine(IReadOnlyDictionary<string, Tensor> values)
    {
        if (terms.Count == 0) throw new InvalidOperationException("WeightedLoss: no terms");
        var missing = terms.Select(t => t.Name).Where(n => !values.ContainsKey(n)).ToList();
        var extra = values.Keys.Where(k => !weights.ContainsKey(k)).ToList();
        if (missing.Count > 0 || extra.Count > 0)
            throw new ArgumentException($"WeightedLoss: values must name every term exactly; missing [{string.Join(", ", missing)}], unknown [{string.Join(", ", extra)}]");
        Tensor? total = null;
        foreach (var (name, _) in terms)
        {
            var value = values[name];
            if (value.NumEl != 1) throw new ArgumentException($"WeightedLoss: term '{name}' must be a scalar loss, got shape {value.Shape}");
            var weighted = value * weights[name];
            lastValues[name] = value.Item();
            lastWeighted[name] = lastValues[name] * weights[name];
            total = total is null ? weighted : total + weighted;
        }
        return total!;
    }

    static KeyNotFoundException Unknown(string name) => new($"WeightedLoss: no term named '{name}'");

    /// <inheritdoc/>
    protected override string ExtraRepr() => string.Join(", ", terms.Select(t => $"{t.Name}×{weights[t.Name]}"));
}
