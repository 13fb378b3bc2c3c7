using System.Runtime.CompilerServices;
using Ember.Kernels.Operators;
using Ember.Nn;

namespace Ember.Training;

/// <summary>
/// Exponential moving average of a model's weights, as YOLOv5's ModelEMA: after each optimizer step every
/// floating-point parameter and buffer becomes shadow = d·shadow + (1 − d)·live with d = decay·(1 − e^(−updates/τ)),
/// so early updates follow the live weights closely. The shadow is never trained; it is used for validation and
/// saved in checkpoints. Integer buffers (num_batches_tracked) are copied, and so are parameters that do not require
/// grad (frozen layers): their average is themselves, which blending would miss by a rounding now and then (YOLOv5
/// blends them too, so its shadow of a frozen weight drifts by such roundings).
/// </summary>
public sealed class ModelEma
{
    readonly Module model;

    /// <summary>Starts the shadow from the model's current state.</summary>
    public ModelEma(Module model, double decay = 0.9999, double tau = 2000, int updates = 0)
    {
        if (decay is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(decay), decay, "ModelEma: decay must be in [0, 1]");
        if (tau <= 0) throw new ArgumentOutOfRangeException(nameof(tau), tau, "ModelEma: tau must be positive");
        this.model = model;
        Decay = decay;
        Tau = tau;
        Updates = updates;
        Shadow = new OrderedDictionary<string, Tensor>();
        foreach (var (name, t) in model.StateDict()) Shadow[name] = t.Clone();
    }

    /// <summary>The asymptotic decay (0.9999 by default).</summary>
    public double Decay { get; }
    /// <summary>The ramp time constant in updates (2000 by default).</summary>
    public double Tau { get; }
    /// <summary>Updates applied so far.</summary>
    public int Updates { get; private set; }
    /// <summary>The averaged state dict (same names as the model's).</summary>
    public OrderedDictionary<string, Tensor> Shadow { get; }

    /// <summary>The decay used at update number <paramref name="updates"/>: decay·(1 − e^(−updates/τ)).</summary>
    public double DecayAt(int updates) => Decay * (1 - Math.Exp(-updates / Tau));

    /// <summary>Folds the model's current weights into the shadow (call after each optimizer step).</summary>
    public void Update()
    {
        Updates++;
        double d = DecayAt(Updates);
        HashSet<string>? frozen = null;
        foreach (var (name, p) in model.NamedParameters()) if (!p.RequiresGrad) (frozen ??= []).Add(name);
        using (Torch.NoGrad())
            foreach (var (name, live) in model.StateDict())
            {
                var shadow = Shadow[name];
                if (frozen?.Contains(name) == true) shadow.CopyFrom(live);
                else if (shadow.DType == DType.Float32 && live.DType == DType.Float32 && shadow.IsContiguous && live.IsContiguous && shadow.Shape == live.Shape)
                    Blend(shadow.Span<float>(), live.Span<float>(), (float)d, (float)(1 - d));
                else if (shadow.DType.IsFloatingPoint())
                {
                    shadow.MulInPlace(d);
                    shadow.AddInPlace(live, 1 - d);
                }
                else shadow.CopyFrom(live);
            }
    }

    // shadow = shadow·d + live·(1 − d) in one pass, rounded as MulInPlace(d) then AddInPlace(live, 1 − d) round it (float
    // scalars, the product and the sum each rounded to float), without their temporaries: those were ~40 pooled buffers
    // per update, and renting them cost a blocking collection per optimizer step. Whole vectors first, lane for lane the
    // same two products and sum (no fused multiply-add), so the bits are those of the scalar loop, which does the tail.
    internal static unsafe void Blend(Span<float> shadow, ReadOnlySpan<float> live, float d, float a)
    {
        if (live.Length < shadow.Length) throw new ArgumentException($"ModelEma: {live.Length} live values for {shadow.Length} shadow values");
        int i = 0;
        fixed (float* s = shadow) fixed (float* l = live)
            i = SimdPath.Width switch
            {
                SimdWidth.Vector512 => BlendVectors<Simd512<float>>(s, l, shadow.Length, d, a),
                SimdWidth.Vector256 => BlendVectors<Simd256<float>>(s, l, shadow.Length, d, a),
                _ => Simd128<float>.IsHardwareAccelerated ? BlendVectors<Simd128<float>>(s, l, shadow.Length, d, a) : 0,
            };
        for (; i < shadow.Length; i++)
        {
            float decayed = shadow[i] * d;
            shadow[i] = decayed + live[i] * a;
        }
    }

    // Called once per tensor per update: a tier-0 or OSR loop would run far slower than the scalar one it replaces.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static unsafe int BlendVectors<TVec>(float* shadow, float* live, int n, float d, float a) where TVec : struct, ISimd<TVec, float>
    {
        TVec vd = TVec.Create(d), va = TVec.Create(a);
        int i = 0;
        for (; i <= n - TVec.Count; i += TVec.Count)
        {
            TVec decayed = TVec.Load(shadow + i) * vd;
            (decayed + TVec.Load(live + i) * va).Store(shadow + i);
        }
        return i;
    }

    /// <summary>Loads the shadow into the model until the returned scope is disposed, then restores the live weights (for validation).</summary>
    public IDisposable Apply()
    {
        var backup = new OrderedDictionary<string, Tensor>();
        foreach (var (name, t) in model.StateDict()) backup[name] = t.Clone();
        model.LoadStateDict(Shadow);
        return new Restore(model, backup);
    }

    sealed class Restore(Module model, OrderedDictionary<string, Tensor> backup) : IDisposable
    {
        bool done;
        public void Dispose()
        {
            if (done) return;
            model.LoadStateDict(backup);
            done = true;
        }
    }

    /// <summary>Replaces the shadow and the update count (when resuming from a checkpoint).</summary>
    public void Load(IReadOnlyDictionary<string, Tensor> shadow, int updates)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(updates);
        foreach (var name in shadow.Keys)
            if (!Shadow.ContainsKey(name)) throw new KeyNotFoundException($"ModelEma: the saved shadow has an entry '{name}' the model does not have");
        // every entry checked before any is copied, so a bad file leaves the shadow as it was
        foreach (var (name, t) in Shadow)
        {
            if (!shadow.TryGetValue(name, out var value))
                throw new KeyNotFoundException($"ModelEma: the saved shadow has no entry '{name}'");
            // CopyFrom would broadcast a [1] tensor over the whole shadow: the shapes must match exactly
            if (value.Shape != t.Shape || value.DType != t.DType)
                throw new ArgumentException($"ModelEma: the saved shadow's '{name}' is {value.DType} {value.Shape}, the model's is {t.DType} {t.Shape}");
        }
        using (Torch.NoGrad())
            foreach (var (name, t) in Shadow) t.CopyFrom(shadow[name]);
        Updates = updates;
    }
}
