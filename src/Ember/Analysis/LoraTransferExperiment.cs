using System.Diagnostics;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Nn.Lora;
using Ember.Optim;

namespace Ember.Analysis;

/// <summary>
/// The notes' incremental fine-tuning demonstration: a small CNN (3×3 and 1×1 conv-BN-ReLU blocks, global average
/// pooling, two Linear layers) is pretrained on one task (5 classes, scored on their 5 logits), then adapted to another
/// task (the other 5 classes, on the other 5 logits) two ways: full fine-tuning of every parameter, and LoRA on every
/// Linear and 1×1 convolution with the base frozen (its BatchNorm statistics too: the BNs stay in evaluation mode), the
/// adapters merged afterwards. Each row reports the new task's accuracy, the old task's after adaptation, the trainable
/// parameters and the training time.
/// </summary>
public static class LoraTransferExperiment
{
    /// <summary>The CNN: 1→32 3×3, pool, 32→64 1×1, pool, 64→64 3×3, 64→128 1×1 (each conv bias-free with BN and ReLU), GAP, 128→128, 128→classes.</summary>
    public static Sequential Build(int inChannels = 1, int numClasses = 10) => new(
        new Conv2d(inChannels, 32, 3, padding: 1, bias: false), new BatchNorm2d(32), new ReLU(), new MaxPool2d(2),
        new Conv2d(32, 64, 1, bias: false), new BatchNorm2d(64), new ReLU(), new MaxPool2d(2),
        new Conv2d(64, 64, 3, padding: 1, bias: false), new BatchNorm2d(64), new ReLU(),
        new Conv2d(64, 128, 1, bias: false), new BatchNorm2d(128), new ReLU(),
        new AdaptiveAvgPool2d(1), new Flatten(), new Linear(128, 128), new ReLU(), new Linear(128, numClasses));

    /// <summary>
    /// Pretrains on (<paramref name="oldImages"/>, <paramref name="oldLabels"/>) whose labels are the classes
    /// [0, <paramref name="split"/>), then adapts a copy to (<paramref name="newImages"/>, <paramref name="newLabels"/>)
    /// (classes [split, C)) by full fine-tuning and another by LoRA (rank <paramref name="rank"/>, α <paramref name="alpha"/>);
    /// scores on the test sets of both tasks. Rows: pretrain, full, lora.
    /// </summary>
    public static IReadOnlyList<LoraTransferRow> Run(long seed, int split, Tensor oldImages, Tensor oldLabels, Tensor newImages, Tensor newLabels,
        Tensor oldTestImages, Tensor oldTestLabels, Tensor newTestImages, Tensor newTestLabels,
        int epochs = 2, int batchSize = 128, double lr = 2e-3, double loraLr = 5e-3, int rank = 8, double alpha = 16, int numClasses = 10)
    {
        var rows = new List<LoraTransferRow>();
        Torch.ManualSeed(seed);
        var model = Build((int)oldImages.Size(1), numClasses);
        int old = split, fresh = numClasses - split;
        double seconds = Fit(model, model.Parameters(), oldImages, oldLabels, 0, old, epochs, batchSize, lr, seed, frozenNorms: false);
        long total = model.Parameters().Sum(p => p.NumEl);
        rows.Add(new LoraTransferRow("pretrain", seed, total, total, double.NaN, Accuracy(model, oldTestImages, oldTestLabels, 0, old), double.NaN, seconds));
        var pretrained = model.StateDict();

        var full = Build((int)oldImages.Size(1), numClasses);
        full.LoadStateDict(Clone(pretrained));
        seconds = Fit(full, full.Parameters(), newImages, newLabels, split, fresh, epochs, batchSize, lr, seed + 1, frozenNorms: false);
        rows.Add(new LoraTransferRow("full", seed, total, total, Accuracy(full, newTestImages, newTestLabels, split, fresh),
            Accuracy(full, oldTestImages, oldTestLabels, 0, old), double.NaN, seconds));

        var adapted = Build((int)oldImages.Size(1), numClasses);
        adapted.LoadStateDict(Clone(pretrained));
        var lora = LoraModel.Apply(adapted, rank, alpha, generator: new Generator(seed + 2));
        long trainable = lora.TrainableParameters().Sum(p => p.NumEl);
        seconds = Fit(lora, lora.TrainableParameters(), newImages, newLabels, split, fresh, epochs, batchSize, loraLr, seed + 1, frozenNorms: true);
        double loraNew = Accuracy(lora, newTestImages, newTestLabels, split, fresh), loraOld = Accuracy(lora, oldTestImages, oldTestLabels, 0, old);
        var merged = lora.Merge();
        rows.Add(new LoraTransferRow("lora", seed, trainable, total, loraNew, loraOld, Accuracy(merged, newTestImages, newTestLabels, split, fresh), seconds));
        return rows;
    }

    static OrderedDictionary<string, Tensor> Clone(OrderedDictionary<string, Tensor> state)
    {
        var copy = new OrderedDictionary<string, Tensor>();
        foreach (var (key, value) in state) copy.Add(key, value.Clone());
        return copy;
    }

    // AdamW on the task's own logits [first, first + count); with frozenNorms the BNs stay in evaluation mode.
    static double Fit(Module model, IEnumerable<Parameter> parameters, Tensor images, Tensor labels, int first, int count, int epochs, int batchSize,
        double lr, long seed, bool frozenNorms)
    {
        var clock = Stopwatch.StartNew();
        var optimizer = new AdamW(parameters.Cast<Tensor>().ToList(), new AdamWOptions { LearningRate = lr });
        var shuffle = new Generator(seed);
        var target = labels - first;
        int n = (int)images.Size(0);
        model.Train();
        if (frozenNorms) foreach (var m in model.Modules()) if (m is BatchNorm) m.Eval();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            var order = Torch.Randperm(n, shuffle);
            for (int start = 0; start < n; start += batchSize)
            {
                var index = order.Narrow(0, start, Math.Min(batchSize, n - start));
                optimizer.ZeroGrad();
                F.CrossEntropy(model.Call(images.IndexSelect(0, index)).Narrow(1, first, count), target.IndexSelect(0, index)).Backward();
                optimizer.Step();
            }
        }
        model.Eval();
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>Accuracy among the logits [first, first + count) on images whose labels lie in that range, in evaluation mode.</summary>
    public static double Accuracy(Module model, Tensor images, Tensor labels, int first, int count)
    {
        model.Eval();
        double right = 0;
        int n = (int)images.Size(0);
        using (Torch.NoGrad())
            for (int start = 0; start < n; start += 500)
            {
                int m = Math.Min(500, n - start);
                var predicted = model.Call(images.Narrow(0, start, m)).Narrow(1, first, count).ArgMax(1) + first;
                right += predicted.Eq(labels.Narrow(0, start, m)).To(DType.Float64).Sum().Item();
            }
        return right / n;
    }
}
