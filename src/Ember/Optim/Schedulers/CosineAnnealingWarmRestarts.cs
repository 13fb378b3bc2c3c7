namespace Ember.Optim.Schedulers;

/// <summary>
/// SGDR: cosine annealing restarted every T_i steps, T_i growing by T_mult after each restart
/// (torch.optim.lr_scheduler.CosineAnnealingWarmRestarts): lr = η_min + (initial_lr − η_min)(1 + cos(π·T_cur/T_i))/2.
/// </summary>
public sealed class CosineAnnealingWarmRestarts : LRScheduler
{
    readonly int t0, tMult;
    readonly double etaMin;

    /// <summary>First period <paramref name="t0"/> steps, each next one <paramref name="tMult"/> times longer.</summary>
    public CosineAnnealingWarmRestarts(Optimizer optimizer, int t0, int tMult = 1, double etaMin = 0, int lastEpoch = -1) : base(optimizer, lastEpoch)
    {
        if (t0 <= 0) throw new ArgumentException($"CosineAnnealingWarmRestarts: Expected positive integer T_0, but got {t0}");
        if (tMult < 1) throw new ArgumentException($"CosineAnnealingWarmRestarts: Expected integer T_mult >= 1, but got {tMult}");
        this.t0 = t0;
        this.tMult = tMult;
        this.etaMin = etaMin;
        TI = t0;
        TCur = lastEpoch;
        InitialStep();
    }

    /// <summary>Length of the current period (PyTorch's <c>T_i</c>).</summary>
    public double TI { get; private set; }

    /// <summary>Steps since the last restart (PyTorch's <c>T_cur</c>; fractional after <see cref="Step(double)"/>).</summary>
    public double TCur { get; private set; }

    /// <inheritdoc/>
    protected override double[] GetLr() => BaseLrs.Select(b => etaMin + (b - etaMin) * (1 + Math.Cos(Math.PI * TCur / TI)) / 2).ToArray();

    /// <inheritdoc/>
    public override void Step()
    {
        if (LastEpoch < 0) { Step(0.0); return; }
        TCur += 1;
        if (TCur >= TI)
        {
            TCur -= TI;
            TI *= tMult;
        }
        LastEpoch++;
        Apply(GetLr());
    }

    /// <summary>Jumps to a (possibly fractional) epoch, e.g. <c>epoch + batch / batches</c> to anneal within an epoch.</summary>
    public void Step(double epoch)
    {
        if (epoch < 0) throw new ArgumentException($"CosineAnnealingWarmRestarts: Expected non-negative epoch, but got {epoch}");
        if (epoch >= t0)
        {
            if (tMult == 1) TCur = epoch % t0;
            else
            {
                int n = (int)Math.Log(epoch / t0 * (tMult - 1) + 1, tMult);
                TCur = epoch - t0 * (Math.Pow(tMult, n) - 1) / (tMult - 1);
                TI = t0 * Math.Pow(tMult, n);
            }
        }
        else
        {
            TI = t0;
            TCur = epoch;
        }
        LastEpoch = (int)Math.Floor(epoch);
        Apply(GetLr());
    }

    internal override void StepTo(int epoch) => Step((double)epoch);

    /// <inheritdoc/>
    public override Dictionary<string, double> StateDict()
    {
        var d = base.StateDict();
        d["T_i"] = TI;
        d["T_cur"] = TCur;
        return d;
    }

    /// <inheritdoc/>
    public override void LoadStateDict(IReadOnlyDictionary<string, double> state)
    {
        base.LoadStateDict(state);
        TI = Get(state, "T_i");
        TCur = Get(state, "T_cur");
    }
}
