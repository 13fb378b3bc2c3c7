using Ember.Analysis;
using Ember.Bench.Peers;
using Ember.Detection.Model;
using TorchSharp;
using TT = TorchSharp.torch.Tensor;

namespace Ember.Bench.Workloads;

/// <summary>
/// YOLOv5 inference (issue 23's target: images/s for n and s at 320 and 640): eval mode, no grad, the decoded
/// (N, boxes, 85) output as YOLOv5's inference returns it (80 classes). Ember: Detection.Model.YoloV5; TorchSharp:
/// the same network (Peers/TorchYoloV5) starting from a copy of Ember's weights. Images/s = batch / time.
/// </summary>
public sealed class YoloV5ForwardPair(YoloSize size, int imageSize, int batch) : IPairedWorkload
{
    YoloV5? model;
    Tensor? x;
    TorchYoloV5? peer;
    TT? xt;
    double flops;

    public string Name => $"YOLOv5{size.Name} forward {batch}×3×{imageSize}² (eval)";

    public double Flops => flops;

    /// <summary>Images per call, for the images/s the issue asks for.</summary>
    public int Batch => batch;

    public Action SetUpEmber()
    {
        Torch.ManualSeed(23);
        model = new YoloV5(80, size);
        // BN statistics away from a fresh layer's identity, so that the check below compares BN as well
        var gen = new Generator(24);
        using (Torch.NoGrad())
            foreach (var norm in model.Modules().OfType<Ember.Nn.Layers.NormBase>())
            {
                norm.RunningMean?.CopyFrom(Torch.Randn([norm.NumFeatures], generator: gen) * 0.1);
                norm.RunningVar?.CopyFrom(Torch.Rand([norm.NumFeatures], generator: gen) + 0.5);
            }
        model.Eval();
        // thop's count, as YOLOv5 reports it (yolov5s 16.5 GFLOPs at 640 is 2 × thop's MACs); profiled on one image
        flops = Profiler.Profile(model, Torch.Zeros(1, 3, imageSize, imageSize)).TotalFlops * (double)batch;
        x = Inputs.Randn(1, batch, 3, imageSize, imageSize);
        YoloV5 m = model;
        Tensor input = x;
        return () => { using (Torch.NoGrad()) m.Call(input); };
    }

    public Action SetUpTorch()
    {
        if (model is null) SetUpEmber();
        var m = new TorchYoloV5(80, size);
        SameWork.CopyWeights(model!, m);
        m.eval();
        peer = m;
        xt = Inputs.ToTorch(x!);
        TT input = xt;
        return () =>
        {
            using var scope = torch.NewDisposeScope();
            using var grad = torch.no_grad();
            m.forward(input);
        };
    }

    public void CheckSameWork()
    {
        using var scope = torch.NewDisposeScope();
        using var grad = torch.no_grad();
        using var noGrad = Torch.NoGrad();
        Tensor y = model!.Call(x!);
        TT yt = peer!.forward(xt!);
        // boxes are in pixels (hundreds), so their tolerance scales with them; scores are in [0, 1]
        SameWork.CheckClose(Name + " boxes", y.Narrow(-1, 0, 4), yt.narrow(-1, 0, 4), 1e-4, scaleByMagnitude: true);
        SameWork.CheckClose(Name + " scores", y.Narrow(-1, 4, 81), yt.narrow(-1, 4, 81), 1e-4);
    }
}
