using Ember.Analysis;
using Ember.Bench.Peers;
using Ember.Detection.Model;
using Ember.Optim;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Workloads;

/// <summary>
/// The compute of one YOLOv5 training step (issue 23: what `detect train` spends its time on), the same work on both
/// sides: zero grads, forward in training mode (batch-norm batch statistics) to the per-level maps (N, na, H, W, 5 + nc),
/// a loss, backward, Adam (lr 1e-3, default betas). The loss is Σ over levels of mean(map²), a cheap function that the
/// peer can compute identically (TorchSharp has no YOLO loss); it stands in for the real loss, whose target building,
/// CIoU and BCE run on Ember's side only (see yolo-train-step). No data loading, augmentation or EMA. Ember:
/// Detection.Model.YoloV5.ForwardRaw; TorchSharp: Peers/TorchYoloV5.ForwardMaps starting from a copy of Ember's weights.
/// </summary>
public sealed class YoloV5TrainStepPair(YoloSize size, int imageSize, int batch) : IPairedWorkload
{
    const double Lr = 1e-3;
    const int Classes = 80;

    YoloV5? model;
    Tensor? x;
    TorchYoloV5? peer;
    TT? xt;
    double flops;

    public string Name => $"YOLOv5{(size.Name.Length == 1 ? "" : " ")}{size.Name} train step {batch}×3×{imageSize}² (fwd+bwd+Adam)";

    /// <summary>
    /// About three forwards of convolution FLOPs (thop's count, 2 per multiply-add): the forward, the weight gradients and
    /// the input gradients, less the stem's input gradient, which the image does not need.
    /// </summary>
    public double Flops => flops;

    /// <summary>The model of the width-0.375 rows (yolov5n's depth): between n and s, a size `detect train --model` can build.</summary>
    public static YoloSize Width0375 { get; } = new("w0.375", 0.33, 0.375);

    public Action SetUpEmber()
    {
        Torch.ManualSeed(23);
        model = new YoloV5(Classes, size);
        model.Eval();
        double forward = Profiler.Profile(model, Torch.Zeros(1, 3, imageSize, imageSize)).TotalFlops * (double)batch;
        double stem = 2.0 * batch * size.Channels(64) * 3 * 6 * 6 * (imageSize / 2) * (imageSize / 2);
        flops = 3 * forward - stem;
        model.Train();
        x = Inputs.Randn(1, batch, 3, imageSize, imageSize);
        var optimizer = new Adam(model.Parameters(), new AdamOptions { LearningRate = Lr });
        YoloV5 m = model;
        Tensor input = x;
        return () =>
        {
            optimizer.ZeroGrad();
            Loss(m.ForwardRaw(input)).Backward();
            optimizer.Step();
        };
    }

    public Action SetUpTorch()
    {
        if (model is null) SetUpEmber();
        var m = new TorchYoloV5(Classes, size);
        SameWork.CopyWeights(model!, m);
        m.train();
        peer = m;
        xt = Inputs.ToTorch(x!);
        var optimizer = torch.optim.Adam(m.parameters(), Lr);
        TT input = xt;
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            optimizer.zero_grad();
            Loss(m.ForwardMaps(input)).backward();
            optimizer.step();
        };
    }

    static Tensor Loss(Tensor[] maps)
    {
        Tensor loss = maps[0].Square().Mean();
        for (int i = 1; i < maps.Length; i++) loss = loss + maps[i].Square().Mean();
        return loss;
    }

    static TT Loss(TT[] maps)
    {
        TT loss = maps[0].square().mean();
        for (int i = 1; i < maps.Length; i++) loss = loss + maps[i].square().mean();
        return loss;
    }

    // Before any timed step both sides hold the same weights: one training forward and backward on each, comparing the
    // maps (batch statistics), the loss and the weight gradients of the stem (the end of the backward pass) and of the
    // first Detect conv. The check's forward moves both sides' running statistics alike; its gradients are cleared.
    public void CheckSameWork()
    {
        using var scope = torch.NewDisposeScope();
        var maps = model!.ForwardRaw(x!);
        var peerMaps = peer!.ForwardMaps(xt!);
        for (int i = 0; i < maps.Length; i++)
            SameWork.CheckClose($"{Name}, train-mode map {i}", maps[i], peerMaps[i], 1e-4, scaleByMagnitude: true);
        Tensor loss = Loss(maps);
        TT peerLoss = Loss(peerMaps);
        SameWork.CheckClose($"{Name}, loss", loss, peerLoss, 1e-4, scaleByMagnitude: true);
        loss.Backward();
        peerLoss.backward();
        var grads = model.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter);
        var peerGrads = peer.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        // Gradients relative to their largest entry (the stem's sum over every pixel of the batch, in different orders).
        foreach (string name in new[] { "model.24.m.0.weight", "model.0.conv.weight" })
        {
            Tensor grad = grads[name].Grad!;
            double scale = 1 / grad.Abs().Max().Item();
            SameWork.CheckClose($"{Name}, gradient of {name} / max|gradient|", grad * scale, peerGrads[name].grad!.mul(scale), 1e-3);
        }
        model.ZeroGrad();
        peer.zero_grad();
    }
}
