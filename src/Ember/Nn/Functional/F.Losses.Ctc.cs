using Ember.Ops;

namespace Ember.Nn.Functional;

// The connectionist temporal classification loss (torch.nn.functional.ctc_loss).
public static partial class F
{
    /// <summary>
    /// CTC loss (torch.nn.functional.ctc_loss): <paramref name="logProbs"/> [T, N, C] (or [T, C] unbatched) are
    /// log-softmax outputs; <paramref name="targets"/> is [N, S] padded or 1-D with the targets concatenated ([S]
    /// unbatched); lengths hold one int64 per sample. Mean divides each sample's loss by its target length (at least 1)
    /// and then averages over the batch, as PyTorch. <paramref name="zeroInfinity"/> turns infinite losses (inputs too
    /// short for their targets) and their gradients into 0. The gradient is PyTorch's (see <see cref="CtcLossOp"/>).
    /// </summary>
    public static Tensor CtcLoss(Tensor logProbs, Tensor targets, Tensor inputLengths, Tensor targetLengths, int blank = 0,
        Reduction reduction = Reduction.Mean, bool zeroInfinity = false)
        => CtcLoss(logProbs, targets, Lengths(inputLengths, "input_lengths"), Lengths(targetLengths, "target_lengths"), blank, reduction, zeroInfinity);

    /// <summary>CTC loss with the lengths as arrays (PyTorch also takes tuples of ints).</summary>
    public static Tensor CtcLoss(Tensor logProbs, Tensor targets, long[] inputLengths, long[] targetLengths, int blank = 0,
        Reduction reduction = Reduction.Mean, bool zeroInfinity = false)
    {
        bool unbatched = logProbs.Rank == 2;
        if (unbatched)
        {
            logProbs = logProbs.Unsqueeze(1);
            if (targets.Rank == 1) targets = targets.Unsqueeze(0);
        }
        var nll = CtcLossOp.Nll(logProbs, targets, inputLengths, targetLengths, blank, zeroInfinity);
        switch (reduction)
        {
            case Reduction.None: return unbatched ? nll.Squeeze(0) : nll;
            case Reduction.Sum: return nll.Sum();
            case Reduction.Mean:
                var divisors = new double[targetLengths.Length];
                for (int i = 0; i < divisors.Length; i++) divisors[i] = Math.Max(targetLengths[i], 1);
                return (nll / Torch.FromArray(divisors, [divisors.Length]).To(nll.DType)).Mean();
            default: throw BatchMeanOnlyForKlDiv("ctc_loss");
        }
    }

    static long[] Lengths(Tensor lengths, string name)
    {
        if (lengths.DType.IsFloatingPoint() || lengths.Rank > 1)
            throw new ArgumentException($"ctc_loss: {name} must be a 0-D or 1-D tensor of integers, got {lengths.DType.TorchName()} of shape {lengths.Shape}");
        return lengths.Detach().To(DType.Int64).Reshape(-1).Contiguous().ToArray<long>();
    }
}
