namespace Ember.Optim;

/// <summary>
/// The bookkeeping shared by every optimizer (PyTorch's Optimizer base): typed param groups filled from defaults,
/// per-parameter typed state keyed by the parameter, state dicts. A subclass creates its state and applies its
/// update rule to one parameter; the rule itself is a static pure method on spans.
/// </summary>
public abstract class Optimizer<TOptions, TState> : Optimizer
    where TOptions : OptimizerOptions
    where TState : ParameterState
{
    readonly List<ParamGroup<TOptions>> groups = new();
    readonly Dictionary<Tensor, TState> state = new(ReferenceEqualityComparer.Instance);
    readonly TOptions defaults;

    /// <summary>Validates <paramref name="defaults"/> and adds each group.</summary>
    protected Optimizer(IEnumerable<ParamGroup<TOptions>> paramGroups, TOptions defaults)
    {
        defaults.Validate(Name);
        this.defaults = defaults with { };
        var list = paramGroups.ToList();
        if (list.Count == 0 || list.All(g => g.Parameters.Count == 0))
            throw new ArgumentException($"{Name}: optimizer got an empty parameter list");
        foreach (var g in list) AddParamGroup(g);
    }

    /// <summary>The typed groups.</summary>
    public IReadOnlyList<ParamGroup<TOptions>> Groups => groups;

    /// <inheritdoc/>
    public override IReadOnlyList<IParamGroup> ParamGroups => groups;

    /// <inheritdoc/>
    public override OptimizerOptions Defaults => defaults;

    /// <summary>
    /// Adds a group (PyTorch's <c>add_param_group</c>), e.g. to train layers unfrozen later. Its options are the defaults
    /// with the group's overrides. A parameter may belong to one group only.
    /// </summary>
    public void AddParamGroup(ParamGroup<TOptions> group)
    {
        if (group.IsAttached) throw new ArgumentException($"{Name}: this parameter group already belongs to an optimizer");
        var seen = new HashSet<Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var p in group.Parameters)
        {
            if (!p.DType.IsFloatingPoint())
                throw new ArgumentException($"{Name}: can only optimize floating-point tensors, got {p.DType} (shape {p.Shape})");
            if (!p.IsLeaf) throw new ArgumentException($"{Name}: can't optimize a non-leaf Tensor (shape {p.Shape}, grad_fn {p.GradFn})");
            if (!seen.Add(p)) throw new ArgumentException($"{Name}: a parameter group contains the same parameter twice (shape {p.Shape})");
        }
        foreach (var other in groups)
            foreach (var p in other.Parameters)
                if (seen.Contains(p))
                    throw new ArgumentException($"{Name}: some parameters appear in more than one parameter group (shape {p.Shape})");
        group.Attach(defaults);
        group.Options.Validate(Name);
        groups.Add(group);
    }

    /// <summary>The state of <paramref name="parameter"/>, or null before its first update.</summary>
    public TState? State(Tensor parameter) => state.GetValueOrDefault(parameter);

    /// <inheritdoc/>
    public override void Step()
    {
        using var _ = Torch.NoGrad();
        foreach (var group in groups)
            foreach (var p in group.Parameters)
            {
                var grad = p.Grad;
                if (grad == null) continue;
                if (!grad.Shape.Equals(p.Shape))
                    throw new ArgumentException($"{Name}.Step: gradient of shape {grad.Shape} doesn't match its parameter's shape {p.Shape}");
                if (grad.DType != p.DType)
                    throw new ArgumentException($"{Name}.Step: gradient dtype {grad.DType} doesn't match its parameter's dtype {p.DType} (shape {p.Shape})");
                if (!state.TryGetValue(p, out var s)) state[p] = s = CreateState(p, group.Options);
                if (p.DType.IsReducedFloat())
                {
                    UpdateReduced(p, grad, s, group.Options);
                    continue;
                }
                var target = p.IsContiguous ? p : p.Contiguous();
                Update(target, grad.Detach().Contiguous(), s, group.Options);
                if (ReferenceEquals(target, p)) p.BumpVersion();
                else p.CopyFrom(target);
                // Between parameter updates no span is live: the update's temporaries may go back to the pool.
                Backends.Cpu.StoragePool.ReleaseRing();
            }
    }

    /// <summary>
    /// The update of a float16/bfloat16 parameter. PyTorch runs its update ops on the half tensors (state in the parameter's
    /// dtype, each op computing in float32 and rounding its result); here the rule runs in float32 on widened copies of the
    /// parameter, gradient and state, and each is rounded back once (round to nearest even), so the state stays in the
    /// parameter's dtype as PyTorch's and the step is at least as accurate (results agree with PyTorch's to about one unit
    /// in the last place of the half type).
    /// </summary>
    void UpdateReduced(Tensor p, Tensor grad, TState s, TOptions options)
    {
        var p32 = p.To(DType.Float32).Contiguous();      // a new tensor: the dtype differs
        s.Convert(DType.Float32);
        try { Update(p32, grad.Detach().To(DType.Float32).Contiguous(), s, options); }
        finally { s.Convert(p.DType); }
        p.CopyFrom(p32);
        Backends.Cpu.StoragePool.ReleaseRing();
    }

    /// <summary>The state of a parameter before its first update (PyTorch's lazy state initialisation).</summary>
    protected abstract TState CreateState(Tensor parameter, TOptions options);

    /// <summary>Updates the contiguous <paramref name="parameter"/> in place from the contiguous <paramref name="grad"/>.</summary>
    protected abstract void Update(Tensor parameter, Tensor grad, TState state, TOptions options);

    /// <inheritdoc/>
    public override OptimizerStateDict StateDict()
    {
        var dict = new OptimizerStateDict();
        int index = 0;
        for (int g = 0; g < groups.Count; g++)
        {
            var group = groups[g];
            string prefix = $"param_groups.{g}.";
            foreach (var (name, value) in group.Options.Scalars()) dict.Scalars[prefix + name] = value;
            if (group.InitialLearningRate is double initial) dict.Scalars[prefix + "initial_lr"] = initial;
            var ids = new long[group.Parameters.Count];
            for (int i = 0; i < ids.Length; i++, index++)
            {
                ids[i] = index;
                if (state.TryGetValue(group.Parameters[i], out var s)) s.Save(dict, $"state.{index}.");
            }
            dict.Tensors[prefix + "params"] = Torch.FromArray(ids, [ids.Length]);
        }
        return dict;
    }

    /// <inheritdoc/>
    public override void LoadStateDict(OptimizerStateDict stateDict)
    {
        int savedGroups = 0;
        while (stateDict.Tensors.ContainsKey($"param_groups.{savedGroups}.params")) savedGroups++;
        if (savedGroups != groups.Count)
            throw new ArgumentException($"{Name}.LoadStateDict: loaded state dict has {savedGroups} parameter groups, the optimizer has {groups.Count}");
        var loadedOptions = new TOptions[groups.Count];
        var indices = new long[groups.Count][];
        var known = new HashSet<long>();
        for (int g = 0; g < groups.Count; g++)
        {
            string prefix = $"param_groups.{g}.";
            var ids = stateDict.Tensor(prefix + "params");
            if (ids.DType != DType.Int64 || ids.Shape.Rank != 1)
                throw new ArgumentException($"{Name}.LoadStateDict: '{prefix}params' is a {ids.DType} tensor of shape {ids.Shape}, expected a 1-d int64 tensor of parameter indices");
            indices[g] = ids.ToArray<long>();
            if (indices[g].Length != groups[g].Parameters.Count)
                throw new ArgumentException($"{Name}.LoadStateDict: loaded state dict contains a parameter group of {indices[g].Length} parameters that doesn't match the size of optimizer's group {g} ({groups[g].Parameters.Count} parameters)");
            foreach (long id in indices[g])
                if (!known.Add(id)) throw new ArgumentException($"{Name}.LoadStateDict: parameter index {id} appears twice in the groups' 'params'; each parameter has one index");
            var options = defaults with { };
            options.Load(key => stateDict.Scalar(prefix + key), key => stateDict.Scalars.ContainsKey(prefix + key));
            options.Validate(Name);
            loadedOptions[g] = options;
        }
        // Per-parameter state whose index names no parameter would be dropped silently (moments lost on resume).
        CheckStateIndices(stateDict.Tensors.Keys, known);
        CheckStateIndices(stateDict.Scalars.Keys, known);
        var loaded = new List<(Tensor Parameter, TState State)>();
        for (int g = 0; g < groups.Count; g++)
            for (int i = 0; i < indices[g].Length; i++)
            {
                string statePrefix = $"state.{indices[g][i]}.";
                if (!stateDict.Tensors.Keys.Any(k => k.StartsWith(statePrefix, StringComparison.Ordinal))
                    && !stateDict.Scalars.Keys.Any(k => k.StartsWith(statePrefix, StringComparison.Ordinal))) continue;
                var p = groups[g].Parameters[i];
                var s = CreateState(p, loadedOptions[g]);
                s.Load(stateDict, statePrefix, p);
                loaded.Add((p, s));
            }
        // Everything checked and read: now replace, so a failed load leaves the optimizer as it was.
        state.Clear();
        for (int g = 0; g < groups.Count; g++)
        {
            groups[g].SetOptions(loadedOptions[g]);
            groups[g].InitialLearningRate = stateDict.Scalars.TryGetValue($"param_groups.{g}.initial_lr", out var initial) ? initial : null;
        }
        foreach (var (p, s) in loaded) state[p] = s;
    }

    void CheckStateIndices(IEnumerable<string> keys, HashSet<long> known)
    {
        foreach (var key in keys.Order(StringComparer.Ordinal)) // the first damaged key, the same on every run
        {
            if (!key.StartsWith("state.", StringComparison.Ordinal)) continue;
            int dot = key.IndexOf('.', "state.".Length);
            var index = dot < 0 ? key["state.".Length..] : key["state.".Length..dot];
            if (!long.TryParse(index, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long id) || !known.Contains(id))
                throw new ArgumentException($"{Name}.LoadStateDict: '{key}' is state for parameter index {index}, which no parameter group lists (the groups' 'params' hold {known.Count} indices: {Describe(known)}); its moments would be dropped");
        }
    }

    static string Describe(HashSet<long> ids)
    {
        if (ids.Count == 0) return "none";
        long min = ids.Min(), max = ids.Max();
        return max - min + 1 == ids.Count ? $"{min} to {max}" : string.Join(", ", ids.Order().Take(10)) + (ids.Count > 10 ? ", …" : "");
    }
}
