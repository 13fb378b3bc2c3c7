namespace Ember.Bench.Workloads;

/// <summary>The rows of the side-by-side table, in order, and the workloads that are not written yet.</summary>
public static class Registry
{
    /// <summary>Every paired workload; add a new one here (one small file per workload in this folder).</summary>
    public static IPairedWorkload[] All() =>
    [
        new MatMulPair(64), new MatMulPair(128), new MatMulPair(256), new MatMulPair(512), new MatMulPair(1024), new MatMulPair(2048),
        new LinearPair(),
        new MlpStepPair(),
        new CnnStepPair(),
        new TransformerLayerPair(),
        new ConvPair(64, 32, 28, 64, backward: false), new ConvPair(64, 32, 28, 64, backward: true),
        new ConvPair(32, 64, 56, 64, backward: false), new ConvPair(32, 64, 56, 64, backward: true),
        new MaxPoolPair(backward: false), new MaxPoolPair(backward: true),
        new ResNet18ForwardPair(),
        new SoftmaxPair(),
        new LayerNormPair(),
        new GeluPair(),
        new AddPair(),
        new OpOverheadPair(recordGraph: false), new OpOverheadPair(recordGraph: true),
    ];

    /// <summary>Workloads of issue 12 whose Ember pieces are being built on other branches (listed as pending in the docs).</summary>
    public static readonly (string Name, string Waiting)[] Pending =
    [
        ("LayerNorm 4096×1024", "F.LayerNorm / nn.LayerNorm"),
        ("GELU 4M, fused", "F.Gelu (the row above times a composite of core ops)"),
        ("MLP train step with nn.Linear, CrossEntropyLoss, optim.SGD", "those modules (the row above is the same step from core ops)"),
        ("CNN train step, batch 128, Adam", "the default CNN model, optim.Adam"),
        ("transformer encoder layer fwd+bwd (32, 64, 128)", "nn.MultiheadAttention, nn.TransformerEncoderLayer"),
        ("ResNet-18 forward 8×3×224×224", "nn.BatchNorm2d, the ResNet-18 model"),
        ("Fashion-MNIST epoch, default CNN", "data loading, the trainer"),
        ("peak memory of that epoch", "the epoch above"),
    ];
}
