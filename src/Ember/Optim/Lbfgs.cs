namespace Ember.Optim;

/// <summary>
/// L-BFGS (torch.optim.LBFGS): a quasi-Newton method that builds an inverse-Hessian estimate from the last
/// <see cref="LbfgsOptions.HistorySize"/> steps and gradient changes (two-loop recursion), with an optional strong-Wolfe
/// line search. Each <see cref="Step(Func{Tensor})"/> runs up to MaxIter iterations and re-evaluates the closure, which
/// must zero the gradients, compute the loss, call Backward and return the loss. One parameter group only, as PyTorch.
/// The iteration follows PyTorch's step by step (the same stopping tests, first step min(1, 1/‖g‖₁)·lr, the same cubic
/// interpolation and zoom), computed in float64.
/// </summary>
public sealed class Lbfgs : Optimizer<LbfgsOptions, LbfgsState>
{
    double[]? d, prevFlatGrad;
    double t, hDiag = 1, prevLoss;
    readonly List<double[]> oldDirs = new(), oldSteps = new();
    readonly List<double> ro = new();

    /// <summary>Creates the optimizer over <paramref name="parameters"/>.</summary>
    public Lbfgs(IEnumerable<Tensor> parameters, LbfgsOptions? options = null)
        : base([new ParamGroup<LbfgsOptions>(parameters)], options ?? new LbfgsOptions()) { }

    /// <inheritdoc/>
    public override string Name => "LBFGS";

    /// <summary>L-BFGS re-evaluates the function: call <see cref="Step(Func{Tensor})"/> with a closure.</summary>
    public override void Step() => throw new InvalidOperationException("LBFGS: Step needs a closure that re-evaluates the model and returns the loss: Step(() => { ZeroGrad(); var loss = ...; loss.Backward(); return loss; })");

    /// <summary>Never called: <see cref="Step(Func{Tensor})"/> updates all parameters at once.</summary>
    protected override void Update(Tensor parameter, Tensor grad, LbfgsState state, LbfgsOptions options) => throw new InvalidOperationException("LBFGS: per-parameter updates are not used");

    /// <inheritdoc/>
    protected override LbfgsState CreateState(Tensor parameter, LbfgsOptions options) => new();

    IReadOnlyList<Tensor> Params => Groups[0].Parameters;

    /// <summary>Runs up to MaxIter L-BFGS iterations; returns the loss of the closure's first evaluation, as PyTorch.</summary>
    public override Tensor Step(Func<Tensor> closure)
    {
        ArgumentNullException.ThrowIfNull(closure);
        if (Groups.Count != 1) throw new InvalidOperationException("LBFGS: doesn't support per-parameter options (parameter groups)");
        var o = Groups[0].Options;
        var state = Counters;
        double Evaluate() { using (Torch.EnableGrad()) return closure().Item(); }

        Tensor origLoss;
        using (Torch.EnableGrad()) origLoss = closure();
        double loss = origLoss.Item();
        int currentEvals = 1;
        state.FuncEvals++;
        var flatGrad = GatherFlatGrad();
        bool optCond = MaxAbs(flatGrad) <= o.ToleranceGrad;
        if (optCond) return origLoss;

        int nIter = 0;
        while (nIter < o.MaxIter)
        {
            nIter++;
            state.Iterations++;
            if (state.Iterations == 1)
            {
                d = Scaled(flatGrad, -1);
                oldDirs.Clear(); oldSteps.Clear(); ro.Clear();
                hDiag = 1;
            }
            else
            {
                var y = new double[flatGrad.Length];
                var s = new double[flatGrad.Length];
                for (int i = 0; i < y.Length; i++) { y[i] = flatGrad[i] - prevFlatGrad![i]; s[i] = d![i] * t; }
                double ys = Dot(y, s);
                if (ys > 1e-10)
                {
                    if (oldDirs.Count == o.HistorySize) { oldDirs.RemoveAt(0); oldSteps.RemoveAt(0); ro.RemoveAt(0); }
                    oldDirs.Add(y); oldSteps.Add(s); ro.Add(1.0 / ys);
                    hDiag = ys / Dot(y, y);
                }
                // two-loop recursion: d = −H·g
                int numOld = oldDirs.Count;
                var al = new double[numOld];
                var q = Scaled(flatGrad, -1);
                for (int i = numOld - 1; i >= 0; i--)
                {
                    al[i] = Dot(oldSteps[i], q) * ro[i];
                    AddScaled(q, oldDirs[i], -al[i]);
                }
                var r = Scaled(q, hDiag);
                for (int i = 0; i < numOld; i++)
                {
                    double be = Dot(oldDirs[i], r) * ro[i];
                    AddScaled(r, oldSteps[i], al[i] - be);
                }
                d = r;
            }
            prevFlatGrad = (double[])flatGrad.Clone();
            prevLoss = loss;

            t = state.Iterations == 1 ? Math.Min(1.0, 1.0 / SumAbs(flatGrad)) * o.LearningRate : o.LearningRate;
            double gtd = Dot(flatGrad, d!);
            if (gtd > -o.ToleranceChange) break;

            int lsEvals;
            if (o.LineSearch == LbfgsLineSearch.StrongWolfe)
            {
                var xInit = CloneParams();
                (double, double[]) Objective(double step, double[] dir)
                {
                    AddToParams(step, dir);
                    double f = Evaluate();
                    var g = GatherFlatGrad();
                    SetParams(xInit);
                    return (f, g);
                }
                (loss, flatGrad, t, lsEvals) = StrongWolfe(Objective, t, d!, loss, flatGrad, gtd, toleranceChange: o.ToleranceChange);
                AddToParams(t, d!);
                optCond = MaxAbs(flatGrad) <= o.ToleranceGrad;
            }
            else
            {
                AddToParams(t, d!);
                lsEvals = 0;
                if (nIter != o.MaxIter)
                {
                    loss = Evaluate();
                    flatGrad = GatherFlatGrad();
                    optCond = MaxAbs(flatGrad) <= o.ToleranceGrad;
                    lsEvals = 1;
                }
            }
            currentEvals += lsEvals;
            state.FuncEvals += lsEvals;

            if (nIter == o.MaxIter) break;
            if (currentEvals >= o.EffectiveMaxEval) break;
            if (optCond) break;
            if (MaxAbs(d!) * Math.Abs(t) <= o.ToleranceChange) break;
            if (Math.Abs(loss - prevLoss) < o.ToleranceChange) break;
        }
        return origLoss;
    }

    /// <summary>The function-evaluation and iteration counters (PyTorch keeps them in the first parameter's state).</summary>
    public LbfgsState Counters { get; } = new();

    double[] GatherFlatGrad()
    {
        int n = 0;
        foreach (var p in Params) n += p.NumEl;
        var flat = new double[n];
        int offset = 0;
        foreach (var p in Params)
        {
            if (p.Grad is { } g) g.ToDoubleArray().CopyTo(flat, offset);   // a missing gradient counts as zeros, as PyTorch
            offset += p.NumEl;
        }
        return flat;
    }

    void AddToParams(double step, double[] direction)
    {
        int offset = 0;
        using (Torch.NoGrad())
            foreach (var p in Params)
            {
                var values = p.ToDoubleArray();
                for (int i = 0; i < values.Length; i++) values[i] += step * direction[offset + i];
                p.CopyFrom(Torch.FromArray(values, p.Shape.ToArray()).To(p.DType));
                offset += values.Length;
            }
    }

    double[][] CloneParams()
    {
        var copies = new double[Params.Count][];
        for (int i = 0; i < copies.Length; i++) copies[i] = Params[i].ToDoubleArray();
        return copies;
    }

    void SetParams(double[][] values)
    {
        using (Torch.NoGrad())
            for (int i = 0; i < values.Length; i++)
                Params[i].CopyFrom(Torch.FromArray(values[i], Params[i].Shape.ToArray()).To(Params[i].DType));
    }

    /// <summary>
    /// Cubic interpolation of two points with function values and derivatives (PyTorch's _cubic_interpolate): the
    /// minimiser clamped into the bounds, or their midpoint when the cubic has none.
    /// </summary>
    internal static double CubicInterpolate(double x1, double f1, double g1, double x2, double f2, double g2, (double Min, double Max)? bounds = null)
    {
        var (xmin, xmax) = bounds ?? (x1 <= x2 ? (x1, x2) : (x2, x1));
        double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
        double d2Square = d1 * d1 - g1 * g2;
        if (d2Square >= 0)
        {
            double d2 = Math.Sqrt(d2Square);
            double minPos = x1 <= x2
                ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
            return Math.Min(Math.Max(minPos, xmin), xmax);
        }
        return (xmin + xmax) / 2;
    }

    /// <summary>PyTorch's _strong_wolfe: bracketing, then zoom with cubic interpolation. Returns (f, g, t, evaluations).</summary>
    internal static (double F, double[] G, double T, int Evals) StrongWolfe(Func<double, double[], (double, double[])> objective,
        double t, double[] d, double f, double[] g, double gtd, double c1 = 1e-4, double c2 = 0.9, double toleranceChange = 1e-9, int maxLs = 25)
    {
        double dNorm = MaxAbs(d);
        var (fNew, gNew) = objective(t, d);
        int evals = 1;
        double gtdNew = Dot(gNew, d);
        double tPrev = 0, fPrev = f, gtdPrev = gtd;
        var gPrev = g;
        bool done = false;
        int lsIter = 0;
        double[] bracket = [], bracketF = [], bracketGtd = [];
        double[][] bracketG = [];
        while (lsIter < maxLs)
        {
            if (fNew > f + c1 * t * gtd || (lsIter > 1 && fNew >= fPrev))
            {
                (bracket, bracketF, bracketG, bracketGtd) = ([tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew]);
                break;
            }
            if (Math.Abs(gtdNew) <= -c2 * gtd)
            {
                (bracket, bracketF, bracketG, bracketGtd) = ([t], [fNew], [gNew], [gtdNew]);
                done = true;
                break;
            }
            if (gtdNew >= 0)
            {
                (bracket, bracketF, bracketG, bracketGtd) = ([tPrev, t], [fPrev, fNew], [gPrev, gNew], [gtdPrev, gtdNew]);
                break;
            }
            double minStep = t + 0.01 * (t - tPrev), maxStep = t * 10, tmp = t;
            t = CubicInterpolate(tPrev, fPrev, gtdPrev, t, fNew, gtdNew, (minStep, maxStep));
            (tPrev, fPrev, gPrev, gtdPrev) = (tmp, fNew, gNew, gtdNew);
            (fNew, gNew) = objective(t, d);
            evals++;
            gtdNew = Dot(gNew, d);
            lsIter++;
        }
        if (lsIter == maxLs)
            (bracket, bracketF, bracketG, bracketGtd) = ([0, t], [f, fNew], [g, gNew], [gtd, gtdNew]);

        // zoom
        bool insufficientProgress = false;
        var (low, high) = bracketF[0] <= bracketF[^1] ? (0, 1) : (1, 0);
        while (!done && lsIter < maxLs)
        {
            if (Math.Abs(bracket[1] - bracket[0]) * dNorm < toleranceChange) break;
            t = CubicInterpolate(bracket[0], bracketF[0], bracketGtd[0], bracket[1], bracketF[1], bracketGtd[1]);
            double bMax = Math.Max(bracket[0], bracket[1]), bMin = Math.Min(bracket[0], bracket[1]);
            double eps = 0.1 * (bMax - bMin);
            if (Math.Min(bMax - t, t - bMin) < eps)
            {
                // too close to an end of the bracket: move away unless the last step already made progress
                if (insufficientProgress || t >= bMax || t <= bMin)
                {
                    t = Math.Abs(t - bMax) < Math.Abs(t - bMin) ? bMax - eps : bMin + eps;
                    insufficientProgress = false;
                }
                else insufficientProgress = true;
            }
            else insufficientProgress = false;

            (fNew, gNew) = objective(t, d);
            evals++;
            gtdNew = Dot(gNew, d);
            lsIter++;
            if (fNew > f + c1 * t * gtd || fNew >= bracketF[low])
            {
                (bracket[high], bracketF[high], bracketG[high], bracketGtd[high]) = (t, fNew, gNew, gtdNew);
                (low, high) = bracketF[0] <= bracketF[1] ? (0, 1) : (1, 0);
            }
            else
            {
                if (Math.Abs(gtdNew) <= -c2 * gtd) done = true;
                else if (gtdNew * (bracket[high] - bracket[low]) >= 0)
                    (bracket[high], bracketF[high], bracketG[high], bracketGtd[high]) = (bracket[low], bracketF[low], bracketG[low], bracketGtd[low]);
                (bracket[low], bracketF[low], bracketG[low], bracketGtd[low]) = (t, fNew, gNew, gtdNew);
            }
        }
        return (bracketF[low], bracketG[low], bracket[low], evals);
    }

    static double Dot(double[] a, double[] b) { double s = 0; for (int i = 0; i < a.Length; i++) s += a[i] * b[i]; return s; }
    static double MaxAbs(double[] a) { double m = 0; foreach (var v in a) m = Math.Max(m, Math.Abs(v)); return m; }
    static double SumAbs(double[] a) { double s = 0; foreach (var v in a) s += Math.Abs(v); return s; }
    static double[] Scaled(double[] a, double k) { var r = new double[a.Length]; for (int i = 0; i < a.Length; i++) r[i] = a[i] * k; return r; }
    static void AddScaled(double[] a, double[] b, double k) { for (int i = 0; i < a.Length; i++) a[i] += k * b[i]; }
}
