using System.Collections;

namespace Ember.Tuning;

/// <summary>
/// The hyper-parameters that evolution may change, in a fixed order (the order of the evolve.csv columns and of the
/// random draws, so it is part of what makes a seeded run reproducible). YOLOv5's <c>meta</c> dictionary in train.py.
/// </summary>
public sealed class SearchSpace : IReadOnlyList<HyperParameter>
{
    readonly List<HyperParameter> items = [];
    readonly Dictionary<string, int> index = new(StringComparer.Ordinal);

    /// <summary>An empty space; fill it with <see cref="Add(string, double, double, double)"/>.</summary>
    public SearchSpace() { }

    /// <summary>A space holding <paramref name="parameters"/> in order.</summary>
    public SearchSpace(IEnumerable<HyperParameter> parameters)
    {
        foreach (var p in parameters) Add(p);
    }

    /// <summary>Adds a hyper-parameter (name, mutation gain, lower limit, upper limit); returns this space for chaining.</summary>
    public SearchSpace Add(string name, double gain, double lower, double upper) => Add(new HyperParameter(name, gain, lower, upper));

    /// <summary>Adds a hyper-parameter; returns this space for chaining.</summary>
    public SearchSpace Add(HyperParameter parameter)
    {
        parameter.Validate();
        if (index.ContainsKey(parameter.Name)) throw new ArgumentException($"search space: hyper-parameter '{parameter.Name}' is already defined");
        index[parameter.Name] = items.Count;
        items.Add(parameter);
        return this;
    }

    /// <summary>The hyper-parameter at position <paramref name="i"/>.</summary>
    public HyperParameter this[int i] => items[i];

    /// <summary>The hyper-parameter called <paramref name="name"/>.</summary>
    public HyperParameter this[string name] => index.TryGetValue(name, out int i) ? items[i]
        : throw new KeyNotFoundException($"search space: no hyper-parameter '{name}'; known: {string.Join(", ", Names)}");

    /// <summary>Number of hyper-parameters.</summary>
    public int Count => items.Count;

    /// <summary>The names in order.</summary>
    public IReadOnlyList<string> Names => items.ConvertAll(p => p.Name);

    /// <summary>Whether <paramref name="name"/> is in the space.</summary>
    public bool Contains(string name) => index.ContainsKey(name);

    /// <summary>Position of <paramref name="name"/>, or -1.</summary>
    public int IndexOf(string name) => index.TryGetValue(name, out int i) ? i : -1;

    /// <inheritdoc/>
    public IEnumerator<HyperParameter> GetEnumerator() => items.GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>
    /// YOLOv5's default meta dictionary for detection training (hyp.scratch), for reference and for CLI defaults; most
    /// keys only make sense for a detector.
    /// </summary>
    public static SearchSpace Yolov5() => new SearchSpace()
        .Add("lr0", 1, 1e-5, 1e-1).Add("lrf", 1, 0.01, 1.0).Add("momentum", 0.3, 0.6, 0.98).Add("weight_decay", 1, 0.0, 0.001)
        .Add("warmup_epochs", 1, 0.0, 5.0).Add("warmup_momentum", 1, 0.0, 0.95).Add("warmup_bias_lr", 1, 0.0, 0.2)
        .Add("box", 1, 0.02, 0.2).Add("cls", 1, 0.2, 4.0).Add("cls_pw", 1, 0.5, 2.0).Add("obj", 1, 0.2, 4.0).Add("obj_pw", 1, 0.5, 2.0)
        .Add("iou_t", 0, 0.1, 0.7).Add("anchor_t", 1, 2.0, 8.0).Add("anchors", 2, 2.0, 10.0).Add("fl_gamma", 0, 0.0, 2.0)
        .Add("hsv_h", 1, 0.0, 0.1).Add("hsv_s", 1, 0.0, 0.9).Add("hsv_v", 1, 0.0, 0.9).Add("degrees", 1, 0.0, 45.0)
        .Add("translate", 1, 0.0, 0.9).Add("scale", 1, 0.0, 0.9).Add("shear", 1, 0.0, 10.0).Add("perspective", 0, 0.0, 0.001)
        .Add("flipud", 1, 0.0, 1.0).Add("fliplr", 0, 0.0, 1.0).Add("mosaic", 1, 0.0, 1.0).Add("mixup", 1, 0.0, 1.0).Add("copy_paste", 1, 0.0, 1.0);
}
