using System.Collections;

namespace Ember.Nn;

/// <summary>Holds submodules by name, in insertion order, registered under their keys (torch.nn.ModuleDict). No Forward.</summary>
public class ModuleDict : Module, IEnumerable<KeyValuePair<string, Module>>
{
    /// <summary>An empty dictionary.</summary>
    public ModuleDict() { }

    /// <summary>A dictionary of the given (name, module) pairs, in order.</summary>
    public ModuleDict(params (string Name, Module Module)[] modules)
    {
        foreach (var (name, m) in modules) RegisterModule(name, m);
    }

    /// <summary>The module registered as <paramref name="key"/>; setting adds or replaces it.</summary>
    public Module this[string key]
    {
        get
        {
            foreach (var (name, m) in NamedChildren()) if (name == key) return m;
            throw new KeyNotFoundException($"ModuleDict: no module named '{key}' (keys: {string.Join(", ", Keys)})");
        }
        set => RegisterModule(key, value);
    }

    /// <summary>Adds or replaces <paramref name="key"/>.</summary>
    public ModuleDict Add(string key, Module module)
    {
        RegisterModule(key, module);
        return this;
    }

    /// <summary>Whether <paramref name="key"/> is present.</summary>
    public bool ContainsKey(string key) => NamedChildren().Any(c => c.Name == key);

    /// <summary>Number of entries.</summary>
    public int Count => Children().Count();

    /// <summary>Keys in insertion order.</summary>
    public IEnumerable<string> Keys => NamedChildren().Select(c => c.Name);

    /// <summary>Modules in insertion order.</summary>
    public IEnumerable<Module> Values => Children();

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, Module>> GetEnumerator()
        => NamedChildren().Select(c => new KeyValuePair<string, Module>(c.Name, c.Module)).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
