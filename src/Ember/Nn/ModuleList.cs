using System.Collections;
using System.Globalization;

namespace Ember.Nn;

/// <summary>
/// Holds submodules in a list and registers them as "0", "1", … so their parameters are seen (torch.nn.ModuleList).
/// It has no Forward: the owner decides how to call them.
/// </summary>
public class ModuleList : Module, IReadOnlyList<Module>
{
    /// <summary>A list of the given modules.</summary>
    public ModuleList(params Module[] modules) => Extend(modules);

    /// <summary>A list of the given modules.</summary>
    public ModuleList(IEnumerable<Module> modules) => Extend(modules);

    /// <summary>Number of modules.</summary>
    public int Count => Children().Count();

    static string Key(int i) => i.ToString(CultureInfo.InvariantCulture);

    int Normalize(int index, int n)
    {
        int i = index < 0 ? index + n : index;
        if (i < 0 || i >= n) throw new IndexOutOfRangeException($"ModuleList: index {index} is out of range for {n} modules");
        return i;
    }

    /// <summary>The module at <paramref name="index"/> (negative counts from the end); setting replaces it.</summary>
    public Module this[int index]
    {
        get => Children().ElementAt(Normalize(index, Count));
        set => RegisterModule(Key(Normalize(index, Count)), value);
    }

    /// <summary>Adds a module at the end (torch.nn.ModuleList.append).</summary>
    public ModuleList Append(Module module)
    {
        RegisterModule(Key(Count), module);
        return this;
    }

    /// <summary>Adds modules at the end (torch.nn.ModuleList.extend).</summary>
    public ModuleList Extend(IEnumerable<Module> modules)
    {
        foreach (var m in modules) Append(m);
        return this;
    }

    /// <summary>Inserts before <paramref name="index"/>, shifting later modules up one name (torch.nn.ModuleList.insert).</summary>
    public ModuleList Insert(int index, Module module)
    {
        int n = Count;
        int at = Math.Clamp(index < 0 ? index + n : index, 0, n);
        var items = Children().ToArray();
        // Same as PyTorch: move each module one slot up, from the end down to the insertion point.
        for (int i = n; i > at; i--) RegisterModule(Key(i), items[i - 1]);
        RegisterModule(Key(at), module);
        return this;
    }

    /// <inheritdoc/>
    public IEnumerator<Module> GetEnumerator() => Children().GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
