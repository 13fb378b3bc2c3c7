using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ember.Cli.Configuration;
using Ember.Data;
using Ember.Data.Imbalance;
using Ember.Interop;
using Ember.Models;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Training;
using Ember.Training.SemiSupervised;

namespace Ember.Cli.Commands;

/// <summary>
/// `ember train --labelled N [--pseudo-label T]`: hides the labels of all but N training images; with a threshold, first
/// trains a teacher on the labelled ones, lets it pseudo-label the rest (<see cref="PseudoLabels"/>), and hands the run
/// the labelled images plus the confident pseudo-labelled ones. The counts, the teacher's test accuracy and the
/// pseudo-labels' precision (the hidden labels are known here) go to pseudo_labels.csv in the run folder, and the
/// pseudo-labels themselves to pseudo_labels_selected.csv, which a resumed run reads back instead of training the teacher
/// again: it continues on the same training set even when --epochs (which the teacher also trains for) is extended.
/// </summary>
static class PseudoLabelStage
{
    /// <summary>The header of pseudo_labels.csv.</summary>
    internal const string CsvHeader = "labelled,unlabelled,threshold,selected,precision,teacher_top1,teacher_seconds";

    /// <summary>The file of the pseudo-labels taken: one row per image, its index in the training split and its pseudo-label.</summary>
    internal const string SelectionFile = "pseudo_labels_selected.csv";

    /// <summary>The header of <see cref="SelectionFile"/>.</summary>
    internal const string SelectionHeader = "index,label";

    /// <summary>
    /// The training set of the run: <paramref name="trainSplit"/>'s images at <paramref name="source"/> (whose labels are
    /// <paramref name="labels"/>) cut down to the labelled ones, plus the pseudo-labelled ones when config.PseudoLabel &gt; 0.
    /// <paramref name="plainSplit"/> is the same split without augmentation, which the teacher labels. When
    /// <paramref name="resumeFolder"/> is given, the pseudo-labels are those its <see cref="SelectionFile"/> records.
    /// </summary>
    internal static (IDataset<(Tensor Image, long Label)> Set, long[] Labels) Run(TrainConfig config, IDataset<(Tensor Image, long Label)> trainSplit,
        IDataset<(Tensor Image, long Label)> plainSplit, int[] source, long[] labels, IDataset<(Tensor Image, long Label)> testSet, int classes, string? runDir,
        string? resumeFolder = null)
    {
        if (config.Labelled > labels.Length)
            throw new ConfigException($"labelled {config.Labelled} is more than the {labels.Length} training images the run has (after limit and imbalance); use at most {labels.Length}");
        var (labelled, unlabelled) = LabelledSplit(labels, classes, config.Labelled);
        IDataset<(Tensor Image, long Label)> labelledSet = new Subset<(Tensor, long)>(trainSplit, [.. labelled.Select(p => source[p])]);
        long[] labelledLabels = [.. labelled.Select(p => labels[p])];
        if (config.PseudoLabel == 0)
        {
            Console.WriteLine($"labelled: {labelled.Length} of {labels.Length} training images keep their labels; the other {unlabelled.Length} are left out");
            return (labelledSet, labelledLabels);
        }

        int[] poolSource = [.. unlabelled.Select(p => source[p])];
        if (resumeFolder is not null)
        {
            var (indices, pseudo) = ReadSelection(Path.Combine(resumeFolder, SelectionFile), poolSource, classes);
            Console.WriteLine($"pseudo-labels: {indices.Length} of {unlabelled.Length} unlabelled images, as {Path.Combine(resumeFolder, SelectionFile)} records (the teacher is not trained again)");
            var recorded = new Relabelled(new Subset<(Tensor, long)>(trainSplit, indices), pseudo);
            return (new ConcatDataset<(Tensor, long)>(labelledSet, recorded), [.. labelledLabels, .. pseudo]);
        }

        var clock = Stopwatch.StartNew();
        var teacher = Teacher(config, labelledSet, labelledLabels, classes);
        double teacherSeconds = clock.Elapsed.TotalSeconds;
        var pool = new Subset<(Tensor Image, long Label)>(plainSplit, poolSource);
        var selection = PseudoLabels.Select(teacher, new TransformDataset<(Tensor Image, long Label), Tensor>(pool, (item, _) => item.Image), config.PseudoLabel);
        double precision = selection.Precision([.. unlabelled.Select(p => labels[p])]);
        double teacherTop1 = TrainJob.Score(teacher.Call, new DataLoader<(Tensor, long)>(testSet, 500), classes).Confusion.Accuracy;
        var line = string.Create(CultureInfo.InvariantCulture,
            $"pseudo-labels: a teacher trained on {labelled.Length} labelled images ({teacherSeconds:F0} s, test top-1 {100 * teacherTop1:F2}%) labelled {selection.Count} of {unlabelled.Length} unlabelled images with confidence ≥ {config.PseudoLabel} (precision {100 * precision:F2}%)");
        Console.WriteLine(line);
        if (runDir is not null)
            AtomicFile.WriteAllText(Path.Combine(runDir, "pseudo_labels.csv"), CsvHeader + "\n" + string.Create(CultureInfo.InvariantCulture,
                $"{labelled.Length},{unlabelled.Length},{config.PseudoLabel},{selection.Count},{precision:R},{teacherTop1:R},{teacherSeconds:F1}\n"));
        if (runDir is not null)
        {
            var rows = new StringBuilder(SelectionHeader).Append('\n');
            for (int i = 0; i < selection.Count; i++)
                rows.Append(poolSource[selection.Indices[i]].ToString(CultureInfo.InvariantCulture)).Append(',').Append(selection.Labels[i].ToString(CultureInfo.InvariantCulture)).Append('\n');
            AtomicFile.WriteAllText(Path.Combine(runDir, SelectionFile), rows.ToString());
        }

        var pseudoSet = new Relabelled(new Subset<(Tensor, long)>(trainSplit, [.. selection.Indices.Select(i => poolSource[i])]), selection.Labels);
        return (new ConcatDataset<(Tensor, long)>(labelledSet, pseudoSet), [.. labelledLabels, .. selection.Labels]);
    }

    /// <summary>
    /// The recorded pseudo-labels: training-split indices, each one of this run's unlabelled images (<paramref name="pool"/>)
    /// at most once, and labels below <paramref name="classes"/>; anything else is an error naming the file and row.
    /// </summary>
    internal static (int[] Indices, long[] Labels) ReadSelection(string file, int[] pool, int classes)
    {
        if (!File.Exists(file))
            throw new CheckpointException(file, "is missing: the resumed run cannot continue on the pseudo-labels it trained with (start a new run)");
        var lines = File.ReadAllLines(file);
        if (lines.Length == 0 || lines[0] != SelectionHeader)
            throw new CheckpointException(file, $"does not start with the header '{SelectionHeader}'");
        var unlabelled = new HashSet<int>(pool);
        var seen = new HashSet<int>();
        var indices = new int[lines.Length - 1];
        var labels = new long[lines.Length - 1];
        for (int r = 1; r < lines.Length; r++)
        {
            var fields = lines[r].Split(',');
            if (fields.Length != 2 || !int.TryParse(fields[0], NumberStyles.None, CultureInfo.InvariantCulture, out int index)
                || !long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long label))
                throw new CheckpointException(file, $": row {r + 1} is '{lines[r]}', expected two non-negative integers 'index,label'");
            if (!unlabelled.Contains(index) || !seen.Add(index))
                throw new CheckpointException(file, $": row {r + 1} names training image {index}, which is not an unlabelled image of this run or was named before");
            if (label >= classes)
                throw new CheckpointException(file, $": row {r + 1} has label {label}, expected one of the {classes} classes (0 to {classes - 1})");
            (indices[r - 1], labels[r - 1]) = (index, label);
        }
        return (indices, labels);
    }

    /// <summary>
    /// Positions (into <paramref name="labels"/>) of the labelled images: class k of C keeps its first ⌈N/C⌉ images for
    /// k &lt; N mod C and ⌊N/C⌋ for the others (all it has if fewer), in order; the rest are unlabelled, in order.
    /// </summary>
    internal static (int[] Labelled, int[] Unlabelled) LabelledSplit(IReadOnlyList<long> labels, int classes, int count)
    {
        var quota = new int[classes];
        for (int k = 0; k < classes; k++) quota[k] = count / classes + (k < count % classes ? 1 : 0);
        var labelled = new List<int>();
        var unlabelled = new List<int>();
        for (int i = 0; i < labels.Count; i++)
            (quota[labels[i]]-- > 0 ? labelled : unlabelled).Add(i);
        return ([.. labelled], [.. unlabelled]);
    }

    // The run's model (with its norm, dropout kind and DropBlock), optimizer, schedule, epochs, batch size, loss, sampler and bias prior on the labelled images alone
    // (EMA, MixUp and AMP apply to the run's own model only).
    static Module Teacher(TrainConfig config, IDataset<(Tensor Image, long Label)> labelled, long[] labels, int classes)
    {
        var sampler = config.Sampler == "weighted" ? new WeightedRandomSampler(ClassWeights.SampleWeights(labels, classes), labels.Length) : null;
        var loader = new DataLoader<(Tensor, long)>(labelled, config.BatchSize, shuffle: sampler is null, sampler: sampler, numWorkers: config.Workers, seed: config.Seed);
        var model = TrainJob.CreateModel(config, classes);
        if (config.BiasPrior) Init.ClassPriorBias(TrainJob.Classifier(model).Bias!, ClassWeights.Counts(labels, classes));
        var optimizer = TrainJob.CreateOptimizer(config, model);
        var (scheduler, plateau, perStep) = TrainJob.CreateSchedule(config, optimizer, TrainJob.StepsPerEpoch(loader.Count, config.Accumulate));
        if (plateau is not null)
            throw new ConfigException("pseudo_label: the plateau schedule watches the validation loss, which the teacher does not compute; use another --schedule");
        double smoothing = config.LabelSmoothing;
        Func<Tensor, Tensor, Tensor> loss = config.Loss == "focal"
            ? (output, target) => F.SoftmaxFocalLoss(output, target)
            : (output, target) => F.CrossEntropy(output, target, labelSmoothing: smoothing);
        var options = new TrainerOptions
        {
            Epochs = config.Epochs, AccumulationSteps = config.Accumulate, ClipGradNorm = config.ClipGrad > 0 ? config.ClipGrad : null,
            FloodLevel = config.Flooding > 0 ? config.Flooding : null, SchedulerPerStep = perStep,
        };
        var trainer = new Trainer(model, optimizer, loss, options, scheduler);
        if (config.DropBlock > 0) trainer.Add(new Training.Callbacks.DropBlockSchedule(model, config.DropBlock));
        trainer.Fit(epoch => loader.Iterate(epoch - 1).Select(b => (b[0], b[1])), null, 1, loader.Count);
        return model;
    }

    // The images of a set with other labels: the pseudo-labels in place of the hidden ones.
    sealed class Relabelled(IDataset<(Tensor Image, long Label)> images, long[] labels) : IDataset<(Tensor Image, long Label)>
    {
        public int Count => images.Count;
        public (Tensor Image, long Label) this[int index] => (images[index].Image, labels[index]);
        public (Tensor Image, long Label) Get(int index, Generator generator) => (images.Get(index, generator).Image, labels[index]);
    }
}
