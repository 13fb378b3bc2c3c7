using System.Collections;
using System.Globalization;

namespace Ember.Nn;

/// <summary>
/// Runs its children in order, each through <see cref="Module.Call"/> so hooks fire (torch.nn.Sequential).
/// Positional entries are named "0", "1", …; the named form takes (name, module) pairs like PyTorch's OrderedDict form.
/// </summary>
public class Sequential : Module, IEnumerable<Module>
{
    /// <summary>An empty Sequential; add entries with <see cref="Append(Module)"/>.</summary>
    public Sequential() { }

    /// <summary>Positional form: children named "0", "1", ….</summary>
    public Sequential(params Module[] modules)
    {
        foreach (var m in modules) Append(m);
    }

    /// <summary>Named form (PyTorch's <c>Sequential(OrderedDict([...]))</c>).</summary>
    public Sequential(params (string Name, Module Module)[] modules)
    {
        foreach (var (name, m) in modules) RegisterModule(name, m);
    }

    /// <summary>Number of children.</summary>
    public int Count => Children().Count();

    /// <summary>The child at <paramref name="index"/>; negative counts from the end.</summary>
    public Module this[int index] => NamedChildren().ElementAt(Normalize(index)).Module;

    /// <summary>The child registered as <paramref name="name"/>.</summary>
    public Module this[string name]
    {
        get
        {
            foreach (var (n, m) in NamedChildren()) if (n == name) return m;
            throw new KeyNotFoundException($"Sequential: no child named '{name}'");
        }
    }

    int Normalize(int index)
    {
        int n = Count;
        int i = index < 0 ? index + n : index;
        if (i < 0 || i >= n) throw new IndexOutOfRangeException($"Sequential: index {index} is out of range for {n} modules");
        return i;
    }

    /// <summary>
    /// A new Sequential holding children [start, end) under their original names, sharing the modules (PyTorch's
    /// <c>seq[start:end]</c>). Bounds follow Python slicing: negative counts from the end, out-of-range clamps.
    /// </summary>
    public Sequential Slice(int start, int? end = null)
    {
        int n = Count;
        int s = Math.Clamp(start < 0 ? start + n : start, 0, n);
        int e = Math.Clamp(end is int en ? (en < 0 ? en + n : en) : n, 0, n);
        return new Sequential(NamedChildren().Skip(s).Take(Math.Max(0, e - s)).ToArray());
    }

    /// <summary>Adds <paramref name="module"/> at the end, named by its position (torch.nn.Sequential.append).</summary>
    public Sequential Append(Module module)
    {
        RegisterModule(Count.ToString(CultureInfo.InvariantCulture), module);
        return this;
    }

    /// <summary>Adds <paramref name="module"/> at the end under <paramref name="name"/> (torch.nn.Module.add_module).</summary>
    public Sequential Append(string name, Module module)
    {
        RegisterModule(name, module);
        return this;
    }

    /// <summary>x → m₀(x) → m₁(…) → …; the empty Sequential is the identity.</summary>
    public override Tensor Forward(Tensor input)
    {
        foreach (var m in Children()) input = m.Call(input);
        return input;
    }

    /// <inheritdoc/>
    public IEnumerator<Module> GetEnumerator() => Children().GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
