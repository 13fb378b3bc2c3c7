using System.Text;
using Ember.Autograd;

namespace Ember.Nn;

/// <summary>
/// Base class of layers and models (torch.nn.Module). Parameters, buffers and submodules live in three ordered
/// registries filled explicitly in the constructor, so names (<c>features.0.weight</c>) and order are deterministic.
/// Override <see cref="Forward(Tensor)"/>; invoke through <see cref="Call(Tensor)"/> (PyTorch's <c>module(x)</c>) so hooks run.
/// </summary>
public abstract class Module
{
    readonly OrderedDictionary<string, Parameter?> parameters = new();
    readonly OrderedDictionary<string, Tensor?> buffers = new();
    readonly HashSet<string> nonPersistent = new();
    readonly OrderedDictionary<string, Module> modules = new();
    readonly List<Func<Module, Tensor, Tensor?>> preHooks = new();
    readonly List<Func<Module, Tensor, Tensor, Tensor?>> hooks = new();
    readonly List<Func<Module, Tensor?[], Tensor?[], Tensor?[]?>> backwardHooks = new();
    readonly List<Func<Module, Tensor?[], Tensor?[]?>> backwardPreHooks = new();

    /// <summary>True in training mode (the default), false after <see cref="Eval"/>.</summary>
    public bool Training { get; private set; } = true;

    /// <summary>The computation. Layers with other inputs define their own Forward overloads.</summary>
    public virtual Tensor Forward(Tensor input)
        => throw new NotSupportedException($"{GetType().Name}: this module does not take a single tensor input");

    /// <summary>Whether any forward or backward hook is registered (fused eval paths skip modules' Call, so they need none).</summary>
    internal bool HasHooks => preHooks.Count > 0 || hooks.Count > 0 || backwardHooks.Count > 0 || backwardPreHooks.Count > 0;

    /// <summary>Runs forward pre-hooks, <see cref="Forward(Tensor)"/> and forward hooks (PyTorch's <c>module(x)</c>).</summary>
    public Tensor Call(Tensor input)
    {
        try
        {
            if (preHooks.Count == 0 && hooks.Count == 0 && backwardHooks.Count == 0 && backwardPreHooks.Count == 0) return Forward(input);
            foreach (var hook in preHooks.ToArray()) input = hook(this, input) ?? input;
            // as PyTorch's _call_impl: the input is wrapped after the pre-hooks, the output after the forward hooks
            var backwardHook = GradMode.IsEnabled && (backwardHooks.Count > 0 || backwardPreHooks.Count > 0)
                ? new BackwardHook(this, backwardHooks.ToArray(), backwardPreHooks.ToArray()) : null;
            if (backwardHook is not null) input = backwardHook.SetupInput(input);
            var output = Forward(input);
            foreach (var hook in hooks.ToArray()) output = hook(this, input, output) ?? output;
            if (backwardHook is not null) output = backwardHook.SetupOutput(output);
            return output;
        }
        catch (ModuleException e) { throw e.Within(NameInParent); }
        // a module called directly (no parent) keeps the op's own error; inside a model the path is prefixed, to a
        // wrong shape and to a dtype the op does not implement alike
        catch (Exception e) when (e is (ArgumentException or NotSupportedException) && NameInParent is not null) { throw new ModuleException(NameInParent, GetType().Name, e); }
        // Between modules no op holds a span into a pooled buffer, so the dead activations may go back to the pool.
        finally { Backends.Cpu.StoragePool.ReleaseRing(); }
    }

    /// <summary>The name this module was registered under in its parent (for error paths like "features.3").</summary>
    internal string? NameInParent { get; private set; }

    /// <summary>Registers a hook called before forward; it may return a replacement input. Dispose the result to remove it.</summary>
    public IDisposable RegisterForwardPreHook(Func<Module, Tensor, Tensor?> hook)
    {
        preHooks.Add(hook);
        return new Removal(() => preHooks.Remove(hook));
    }

    /// <summary>Registers a hook called after forward with (module, input, output); it may return a replacement output.</summary>
    public IDisposable RegisterForwardHook(Func<Module, Tensor, Tensor, Tensor?> hook)
    {
        hooks.Add(hook);
        return new Removal(() => hooks.Remove(hook));
    }

    /// <summary>
    /// Registers a hook called during backward with (module, grad_input, grad_output), the gradients with respect to the
    /// module's input and output (register_full_backward_hook); it may return a replacement grad_input (null keeps it).
    /// grad_input holds null when the input does not require grad. Hooks run in registration order, each seeing the
    /// previous one's replacement. Takes effect through <see cref="Call(Tensor)"/>; dispose the result to remove it.
    /// </summary>
    public IDisposable RegisterFullBackwardHook(Func<Module, Tensor?[], Tensor?[], Tensor?[]?> hook)
    {
        backwardHooks.Add(hook);
        return new Removal(() => backwardHooks.Remove(hook));
    }

    /// <summary>
    /// Registers a hook called during backward with (module, grad_output) before grad_input is computed
    /// (register_full_backward_pre_hook); it may return a replacement grad_output. Dispose the result to remove it.
    /// </summary>
    public IDisposable RegisterFullBackwardPreHook(Func<Module, Tensor?[], Tensor?[]?> hook)
    {
        backwardPreHooks.Add(hook);
        return new Removal(() => backwardPreHooks.Remove(hook));
    }

    sealed class Removal(Action remove) : IDisposable
    {
        bool done;
        public void Dispose() { if (!done) { remove(); done = true; } }
    }

    /// <summary>Registers a submodule under <paramref name="name"/> and returns it.</summary>
    protected T RegisterModule<T>(string name, T module) where T : Module
    {
        CheckName(name, "module");
        modules[name] = module;
        module.NameInParent ??= name;
        return module;
    }

    /// <summary>Registers a parameter (null keeps the slot, like PyTorch's register_parameter(name, None)).</summary>
    protected Parameter? RegisterParameter(string name, Parameter? parameter)
    {
        CheckName(name, "parameter");
        parameters[name] = parameter;
        return parameter;
    }

    /// <summary>Registers a parameter created from <paramref name="data"/>.</summary>
    protected Parameter RegisterParameter(string name, Tensor data) => RegisterParameter(name, new Parameter(data))!;

    /// <summary>Registers a buffer: state that is saved but not trained (BN's running_mean). Non-persistent buffers stay out of the state dict.</summary>
    protected Tensor? RegisterBuffer(string name, Tensor? buffer, bool persistent = true)
    {
        CheckName(name, "buffer");
        buffer?.MarkShared();   // the module reads it later: Tensor.Dispose must leave its buffer alone
        buffers[name] = buffer;
        if (!persistent) nonPersistent.Add(name); else nonPersistent.Remove(name);
        return buffer;
    }

    /// <summary>Replaces a registered buffer's tensor (BN's num_batches_tracked increments this way).</summary>
    protected void SetBuffer(string name, Tensor value)
    {
        if (!buffers.ContainsKey(name)) throw new KeyNotFoundException($"{GetType().Name}: no buffer named '{name}'");
        value.MarkShared();
        buffers[name] = value;
    }

    /// <summary>Replaces a registered parameter (for weight surgery such as conv+BN fusion).</summary>
    public void SetParameter(string name, Parameter? value)
    {
        if (!parameters.ContainsKey(name)) throw new KeyNotFoundException($"{GetType().Name}: no parameter named '{name}'");
        parameters[name] = value;
    }

    /// <summary>Replaces a registered submodule (for model surgery: fusion, swapping a head).</summary>
    public void SetModule(string name, Module module)
    {
        if (!modules.ContainsKey(name)) throw new KeyNotFoundException($"{GetType().Name}: no submodule named '{name}'");
        modules[name] = module;
    }

    void CheckName(string name, string kind)
    {
        if (string.IsNullOrEmpty(name) || name.Contains('.'))
            throw new ArgumentException($"{GetType().Name}: {kind} name '{name}' must be non-empty and contain no '.'");
        if ((kind != "parameter" && parameters.ContainsKey(name)) || (kind != "buffer" && buffers.ContainsKey(name)) || (kind != "module" && modules.ContainsKey(name)))
            throw new ArgumentException($"{GetType().Name}: attribute '{name}' already exists");
    }

    /// <summary>Parameters of this module and (by default) its descendants, in registration order.</summary>
    public IEnumerable<Parameter> Parameters(bool recurse = true) => NamedParameters(recurse: recurse).Select(p => p.Parameter);

    /// <summary>(dotted name, parameter) pairs; a parameter shared by two modules is listed once.</summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string prefix = "", bool recurse = true)
    {
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (path, module) in recurse ? NamedModules(prefix) : [(prefix, this)])
            foreach (var (name, p) in module.parameters)
                if (p is not null && seen.Add(p)) yield return (Join(path, name), p);
    }

    /// <summary>Buffers of this module and its descendants.</summary>
    public IEnumerable<Tensor> Buffers(bool recurse = true) => NamedBuffers(recurse: recurse).Select(b => b.Buffer);

    /// <summary>(dotted name, buffer) pairs.</summary>
    public IEnumerable<(string Name, Tensor Buffer)> NamedBuffers(string prefix = "", bool recurse = true)
    {
        foreach (var (path, module) in recurse ? NamedModules(prefix) : [(prefix, this)])
            foreach (var (name, b) in module.buffers)
                if (b is not null) yield return (Join(path, name), b);
    }

    /// <summary>Direct submodules.</summary>
    public IEnumerable<Module> Children() => modules.Values;

    /// <summary>(name, direct submodule) pairs.</summary>
    public IEnumerable<(string Name, Module Module)> NamedChildren() => modules.Select(kv => (kv.Key, kv.Value));

    /// <summary>This module and all descendants, depth first.</summary>
    public IEnumerable<Module> Modules() => NamedModules().Select(m => m.Module);

    /// <summary>(dotted path, module) for this module ("" or prefix) and all descendants; shared modules appear once.</summary>
    public IEnumerable<(string Name, Module Module)> NamedModules(string prefix = "")
    {
        var seen = new HashSet<Module>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<(string, Module)>();
        stack.Push((prefix, this));
        while (stack.Count > 0)
        {
            var (path, module) = stack.Pop();
            if (!seen.Add(module)) continue;
            yield return (path, module);
            foreach (var (name, child) in module.modules.Reverse()) stack.Push((Join(path, name), child));
        }
    }

    static string Join(string prefix, string name) => prefix.Length == 0 ? name : prefix + "." + name;

    /// <summary>Calls <paramref name="fn"/> on every submodule (children first) and this module (torch.nn.Module.apply).</summary>
    public Module Apply(Action<Module> fn)
    {
        foreach (var child in modules.Values) child.Apply(fn);
        fn(this);
        return this;
    }

    /// <summary>Sets training mode recursively (torch.nn.Module.train).</summary>
    public Module Train(bool mode = true)
    {
        Training = mode;
        foreach (var child in modules.Values) child.Train(mode);
        return this;
    }

    /// <summary>Sets evaluation mode recursively: dropout off, BN uses running statistics.</summary>
    public Module Eval() => Train(false);

    /// <summary>Clears parameter gradients (set to null by default, as PyTorch 2 does).</summary>
    public void ZeroGrad(bool setToNone = true)
    {
        foreach (var p in Parameters())
        {
            if (setToNone) p.Grad = null;
            else if (p.Grad is not null) using (Torch.NoGrad()) p.Grad.ZeroInPlace();
        }
    }

    /// <summary>Sets requires_grad on every parameter of this subtree (freezing a backbone: <c>RequiresGrad(false)</c>).</summary>
    public Module RequiresGrad(bool requiresGrad = true)
    {
        foreach (var p in Parameters()) p.RequiresGrad = requiresGrad;
        return this;
    }

    /// <summary>Total number of parameter elements (optionally only trainable ones).</summary>
    public long ParameterCount(bool onlyTrainable = false)
        => Parameters().Where(p => !onlyTrainable || p.RequiresGrad).Sum(p => (long)p.NumEl);

    /// <summary>Parameters and persistent buffers by dotted name, detached, in registration order (torch.nn.Module.state_dict).</summary>
    public OrderedDictionary<string, Tensor> StateDict()
    {
        var result = new OrderedDictionary<string, Tensor>();
        foreach (var (path, module) in NamedModules())
        {
            foreach (var (name, p) in module.parameters)
                if (p is not null) result[Join(path, name)] = p.Detach();
            foreach (var (name, b) in module.buffers)
                if (b is not null && !module.nonPersistent.Contains(name)) result[Join(path, name)] = b.Detach();
        }
        return result;
    }

    /// <summary>
    /// Copies values by name into the existing parameters and buffers (identity is kept, so optimizers stay valid).
    /// Strict mode reports every missing key, unexpected key, shape mismatch and dtype-kind mismatch (bool or integer values
    /// for a floating-point parameter, or the reverse) in one error; otherwise missing and unexpected keys are returned.
    /// </summary>
    public LoadStateDictResult LoadStateDict(IReadOnlyDictionary<string, Tensor> stateDict, bool strict = true)
    {
        var own = new OrderedDictionary<string, (Module Module, string Name, bool IsParameter)>();
        foreach (var (path, module) in NamedModules())
        {
            foreach (var (name, p) in module.parameters) if (p is not null) own[Join(path, name)] = (module, name, true);
            foreach (var (name, b) in module.buffers)
                if (b is not null && !module.nonPersistent.Contains(name)) own[Join(path, name)] = (module, name, false);
        }
        var missing = own.Keys.Where(k => !stateDict.ContainsKey(k)).ToList();
        var unexpected = stateDict.Keys.Where(k => !own.ContainsKey(k)).ToList();
        var mismatched = new List<string>();
        foreach (var (key, (module, name, isParameter)) in own)
        {
            if (!stateDict.TryGetValue(key, out var value)) continue;
            var target = isParameter ? module.parameters[name]! : module.buffers[name]!;
            if (target.Shape != value.Shape)
                mismatched.Add($"size mismatch for {key}: copying a param with shape {value.Shape} from checkpoint, the shape in current model is {target.Shape}");
            else if (Kind(target.DType) != Kind(value.DType))
                // float64 → float32 is a precision change torch also allows; bool or integer data in a float weight is damage
                mismatched.Add($"dtype mismatch for {key}: copying a param of dtype {value.DType} from checkpoint, the dtype in current model is {target.DType}");
        }
        if (mismatched.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
        {
            var sb = new StringBuilder($"Error(s) in loading state_dict for {GetType().Name}:");
            if (strict && missing.Count > 0) sb.Append("\n\tMissing key(s) in state_dict: ").Append(string.Join(", ", missing.Select(k => $"\"{k}\"")));
            if (strict && unexpected.Count > 0) sb.Append("\n\tUnexpected key(s) in state_dict: ").Append(string.Join(", ", unexpected.Select(k => $"\"{k}\"")));
            foreach (var m in mismatched) sb.Append("\n\t").Append(m);
            throw new InvalidOperationException(sb.ToString());
        }
        using (Torch.NoGrad())
            foreach (var (key, (module, name, isParameter)) in own)
                if (stateDict.TryGetValue(key, out var value))
                {
                    var target = isParameter ? module.parameters[name]! : module.buffers[name]!;
                    target.Detach().CopyFrom(value);
                    target.BumpVersion();
                }
        return new LoadStateDictResult(missing, unexpected);
    }

    static int Kind(DType dtype) => dtype.IsFloatingPoint() ? 0 : dtype == DType.Bool ? 1 : 2;

    /// <summary>Extra text inside this module's printed parentheses, e.g. "in_features=784, out_features=10, bias=True".</summary>
    protected virtual string ExtraRepr() => "";

    /// <summary>Prints the module tree like PyTorch.</summary>
    public override string ToString()
    {
        var name = GetType().Name;
        if (modules.Count == 0) return $"{name}({ExtraRepr()})";
        var sb = new StringBuilder(name).Append('(');
        var extra = ExtraRepr();
        if (extra.Length > 0) sb.Append("\n  ").Append(extra);
        foreach (var (childName, child) in modules)
            sb.Append("\n  (").Append(childName).Append("): ").Append(child.ToString().Replace("\n", "\n  "));
        return sb.Append("\n)").ToString();
    }
}

/// <summary>Keys that <see cref="Module.LoadStateDict"/> did not match (non-strict mode).</summary>
public sealed record LoadStateDictResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);
