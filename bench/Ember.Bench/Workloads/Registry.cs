using Ember.Detection.Model;

namespace Ember.Bench.Workloads;

/// <summary>The rows of the side-by-side table, in order, and the workloads that are not written yet.</summary>
public static class Registry
{
    /// <summary>Every paired workload; add a new one here (one small file per workload in this folder).</summary>
    public static IPairedWorkload[] All() =>
    [
        new MatMulPair(64), new MatMulPair(128), new MatMulPair(256), new MatMulPair(512), new MatMulPair(1024), new MatMulPair(2048),
        new LinearPair(),
        new LinearInferencePair(int8: false), new LinearInferencePair(int8: true),
        new MlpStepPair(),
        new CnnStepPair(),
        new TransformerLayerPair(),
        RecurrentStepPair.Lstm(), RecurrentStepPair.Gru(), RecurrentStepPair.Rnn(),
        new ConvPair(64, 32, 28, 64, backward: false), new ConvPair(64, 32, 28, 64, backward: true),
        new ConvPair(32, 64, 56, 64, backward: false), new ConvPair(32, 64, 56, 64, backward: true),
        new MaxPoolPair(backward: false), new MaxPoolPair(backward: true),
        new ResNet18ForwardPair(),
        new YoloV5ForwardPair(YoloSize.N, 320, 1), new YoloV5ForwardPair(YoloSize.N, 320, 8),
        new YoloV5ForwardPair(YoloSize.N, 640, 1), new YoloV5ForwardPair(YoloSize.N, 640, 8),
        new YoloV5ForwardPair(YoloSize.S, 320, 1), new YoloV5ForwardPair(YoloSize.S, 320, 8),
        new YoloV5ForwardPair(YoloSize.S, 640, 1), new YoloV5ForwardPair(YoloSize.S, 640, 8),
        new YoloV5TrainStepPair(YoloSize.N, 256, 16), new YoloV5TrainStepPair(YoloV5TrainStepPair.Width0375, 256, 16),
        new SoftmaxPair(), new SoftmaxPair(backward: true),
        new LayerNormPair(), new LayerNormPair(backward: true),
        new GeluPair(), new GeluPair(tanh: true),
        new SiluPair(),
        new AddPair(),
        new BroadcastMulPair(column: false), new BroadcastMulPair(column: true),
        new ReducePair(mean: false, dim: 0), new ReducePair(mean: false, dim: 1),
        new ReducePair(mean: true, dim: 0), new ReducePair(mean: true, dim: 1),
        new OpOverheadPair(recordGraph: false), new OpOverheadPair(recordGraph: true),
    ];

    /// <summary>
    /// Workloads of issue 12 whose Ember pieces do not exist yet (listed as pending in the docs): none now. The Fashion-MNIST
    /// epoch and its memory are not paired workloads: `compare` runs them through Epoch/EpochWorkload after these rows.
    /// </summary>
    public static readonly (string Name, string Waiting)[] Pending = [];
}
