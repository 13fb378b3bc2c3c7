using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Nn.Layers.Recurrent;
using Ember.Nn.Utils;
using Ember.Optim;

namespace Ember.Analysis;

/// <summary>
/// The notes' (003) recurrent claim on the adding problem (Hochreiter &amp; Schmidhuber 1997): each step carries a value
/// in [0, 1) and a marker; exactly two steps are marked, one in each half of the sequence, and the target is the sum
/// of their values. A plain RNN, an LSTM and a GRU of the same width read the sequence and a linear head reads the
/// last hidden state. <see cref="StepGradientNorms"/> measures ‖∂L/∂x_t‖ for every step t: how much gradient reaches
/// each earlier time step. <see cref="Train"/> trains with Adam, with or without gradient-norm clipping, and scores
/// the fraction of fresh test sequences answered within <see cref="Tolerance"/> (the criterion of the 1997 paper).
/// </summary>
public static class RecurrentGradientFlowExperiment
{
    /// <summary>The three recurrent layers compared.</summary>
    public static IReadOnlyList<string> Cells { get; } = ["rnn", "lstm", "gru"];

    /// <summary>An answer within this absolute error counts as correct.</summary>
    public const double Tolerance = 0.04;

    /// <summary>A batch of the adding problem: x (N, length, 2) = (value, marker), y (N, 1) = the sum of the two marked values.</summary>
    public static (Tensor X, Tensor Y) AddingBatch(int batch, int length, Generator generator)
    {
        if (length < 2) throw new ArgumentException($"AddingBatch: the sequence needs at least 2 steps (one marker per half), got {length}");
        var values = Torch.Rand([batch, length], generator: generator).ToArray<float>();
        var markers = new float[batch * length];
        var y = new float[batch];
        // the two marked positions: one uniform in each half
        var first = Torch.Randint(0, length / 2, [batch], generator: generator).ToArray<long>();
        var second = Torch.Randint(length / 2, length, [batch], generator: generator).ToArray<long>();
        var x = new float[batch * length * 2];
        for (int n = 0; n < batch; n++)
        {
            markers[n * length + first[n]] = 1;
            markers[n * length + second[n]] = 1;
            y[n] = values[n * length + first[n]] + values[n * length + second[n]];
            for (int t = 0; t < length; t++)
            {
                x[(n * length + t) * 2] = values[n * length + t];
                x[(n * length + t) * 2 + 1] = markers[n * length + t];
            }
        }
        return (Torch.FromArray(x, [batch, length, 2]), Torch.FromArray(y, [batch, 1]));
    }

    /// <summary>The model: a one-layer <paramref name="cell"/> (rnn = tanh RNN, lstm, gru) of <paramref name="hidden"/> units, batch-first, and a linear head on its last output.</summary>
    public static Module Build(string cell, int hidden) => new SequenceRegressor(cell, hidden);

    /// <summary>
    /// ‖∂L/∂x_t‖ (over the batch and both input features) for t = 0..length−1, L the MSE of <paramref name="model"/> on
    /// (<paramref name="x"/>, <paramref name="y"/>): the gradient that reaches each step from the loss at the end.
    /// </summary>
    public static double[] StepGradientNorms(Module model, Tensor x, Tensor y)
    {
        var input = x.Detach().Clone().RequiresGradInPlace();
        F.MseLoss(model.Call(input), y).Backward();
        var grad = input.Grad!.To(DType.Float64);
        int length = x.Size(1);
        var norms = new double[length];
        for (int t = 0; t < length; t++) norms[t] = grad.Select(1, t).Norm().Item();
        foreach (var p in model.Parameters()) p.Grad = null;
        return norms;
    }

    /// <summary>Fraction of rows of <paramref name="prediction"/> within <see cref="Tolerance"/> of <paramref name="target"/>.</summary>
    public static double Accuracy(Tensor prediction, Tensor target)
    {
        var p = prediction.ToDoubleArray();
        var y = target.ToDoubleArray();
        if (p.Length != y.Length) throw new ArgumentException($"Accuracy: {p.Length} predictions for {y.Length} targets");
        int ok = 0;
        for (int i = 0; i < p.Length; i++) if (Math.Abs(p[i] - y[i]) < Tolerance) ok++;
        return (double)ok / p.Length;
    }

    /// <summary>
    /// Trains <paramref name="model"/> on fresh batches for <paramref name="steps"/> Adam steps (lr <paramref name="lr"/>),
    /// clipping the gradient norm to <paramref name="clip"/> when given, and returns the test accuracy on
    /// <paramref name="testBatch"/> fresh sequences, the final test MSE, and the largest gradient norm seen before clipping
    /// (NaN accuracy and MSE when the loss stopped being finite). <paramref name="cancel"/> is checked before each step.
    /// </summary>
    public static (double Accuracy, double TestMse, double MaxGradNorm) Train(Module model, int length, int steps, double lr, double? clip,
        int batch, int testBatch, int seed, CancellationToken cancel = default)
    {
        var generator = new Generator(seed);
        var optimizer = new Adam(model.Parameters(), new AdamOptions { LearningRate = lr });
        var parameters = model.Parameters().ToList();
        double maxNorm = 0;
        model.Train();
        for (int step = 0; step < steps; step++)
        {
            cancel.ThrowIfCancellationRequested();
            var (x, y) = AddingBatch(batch, length, generator);
            optimizer.ZeroGrad();
            var loss = F.MseLoss(model.Call(x), y);
            if (!double.IsFinite(loss.Item())) return (double.NaN, double.NaN, double.PositiveInfinity);
            loss.Backward();
            // the total norm before clipping (ClipGradNorm returns it)
            double norm = clip is double c ? ClipGrad.ClipGradNorm(parameters, c).Item() : TotalNorm(parameters);
            maxNorm = Math.Max(maxNorm, norm);
            optimizer.Step();
        }
        model.Eval();
        var (tx, ty) = AddingBatch(testBatch, length, new Generator(seed + 1_000_003));
        Tensor prediction;
        using (Torch.NoGrad()) prediction = model.Call(tx);
        double mse = F.MseLoss(prediction, ty).Item();
        return (double.IsFinite(mse) ? Accuracy(prediction, ty) : double.NaN, mse, maxNorm);
    }

    static double TotalNorm(List<Parameter> parameters)
    {
        double sum = 0;
        foreach (var p in parameters)
            if (p.Grad is Tensor g) { double n = g.Norm().Item(); sum += n * n; }
        return Math.Sqrt(sum);
    }

    // rnn → last output → Linear(hidden, 1)
    sealed class SequenceRegressor : Module
    {
        readonly Module rnn;
        readonly Linear head;

        public SequenceRegressor(string cell, int hidden)
        {
            rnn = cell switch
            {
                "rnn" => RegisterModule(nameof(rnn), new RNN(2, hidden, batchFirst: true)),
                "lstm" => RegisterModule(nameof(rnn), new LSTM(2, hidden, batchFirst: true)),
                "gru" => RegisterModule(nameof(rnn), new GRU(2, hidden, batchFirst: true)),
                _ => throw new ArgumentException($"RecurrentGradientFlowExperiment: unknown cell '{cell}'; valid choices: {string.Join(", ", Cells)}", nameof(cell)),
            };
            head = RegisterModule(nameof(head), new Linear(hidden, 1));
        }

        public override Tensor Forward(Tensor x)
        {
            var output = rnn.Call(x);
            return head.Call(output.Select(1, output.Size(1) - 1));
        }
    }
}
