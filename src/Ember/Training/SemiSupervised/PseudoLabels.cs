using Ember.Data;
using Ember.Nn;

namespace Ember.Training.SemiSupervised;

/// <summary>
/// Pseudo-labelling (Lee 2013, and the notes): a model trained on the labelled part of a data set labels the unlabelled
/// part, and the images it is confident about (largest softmax probability ≥ a threshold) join the training set with
/// its predicted class as their label; a model is then retrained on both.
/// </summary>
public static class PseudoLabels
{
    /// <summary>
    /// Runs <paramref name="model"/> in evaluation mode under no-grad over <paramref name="images"/> (in batches of
    /// <paramref name="batchSize"/>) and keeps, in index order, every image whose largest softmax probability is at least
    /// <paramref name="threshold"/>, with that class as its pseudo-label. The model's mode is restored afterwards.
    /// </summary>
    public static PseudoLabelSet Select(Module model, IDataset<Tensor> images, double threshold, int batchSize = 256)
    {
        if (!(threshold > 0 && threshold <= 1))
            throw new ArgumentOutOfRangeException(nameof(threshold), $"PseudoLabels.Select: threshold must be in (0, 1], got {threshold}");
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), $"PseudoLabels.Select: batch size must be positive, got {batchSize}");
        var indices = new List<int>();
        var labels = new List<long>();
        var confidences = new List<double>();
        bool wasTraining = model.Training;
        model.Eval();
        try
        {
            using (Torch.NoGrad())
                for (int start = 0; start < images.Count; start += batchSize)
                {
                    int n = Math.Min(batchSize, images.Count - start);
                    var batch = new Tensor[n];
                    for (int i = 0; i < n; i++) batch[i] = images[start + i];
                    var (best, classes) = model.Call(Torch.Stack(batch)).To(DType.Float64).Softmax(1).Max(1);
                    var p = best.ToDoubleArray();
                    var k = classes.ToArray<long>();
                    for (int i = 0; i < n; i++)
                        if (p[i] >= threshold) { indices.Add(start + i); labels.Add(k[i]); confidences.Add(p[i]); }
                }
        }
        finally { model.Train(wasTraining); }
        return new PseudoLabelSet([.. indices], [.. labels], [.. confidences], images.Count);
    }
}
