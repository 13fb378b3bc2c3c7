using Ember.Autograd;
using Ember.Detection.Loss;
using Ember.Detection.Model;

namespace Ember.Tests.Detection;

public class YoloLossTests
{
    static readonly float[] TargetRows =
    [
        0, 1, 0.3f, 0.55f, 0.25f, 0.25f,
        1, 0, 0.7f, 0.7f, 0.9f, 0.9f,
        0, 2, 0.05f, 0.5625f, 0.1875f, 0.1875f,
    ];

    static DetectHead Head() => new(3, DetectHead.DefaultAnchors, [4, 4, 4], [8, 16, 32]);

    // Raw maps of a 64×64 input (grids 8, 4, 2; or 4, 2, 1 for a 32×32 one), batch 2, nc = 3, in float64.
    static Tensor[] RawMaps(long seed, bool requiresGrad = false, int grid = 8)
    {
        var g = new Generator(seed);
        var maps = new Tensor[3];
        for (int i = 0; i < 3; i++)
        {
            int s = grid >> i;
            maps[i] = Torch.Randn([2, 3, s, s, 8], DType.Float64, g);
            if (requiresGrad) maps[i].RequiresGrad = true;
        }
        return maps;
    }

    static double Sig(double x) => 1 / (1 + Math.Exp(-x));
    static double Bce(double x, double t) => Math.Max(x, 0) - x * t + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    static double Focal(double x, double t, double gamma)
    {
        double p = Sig(x), pt = t * p + (1 - t) * (1 - p), af = t * 0.25 + (1 - t) * 0.75;
        return Bce(x, t) * af * Math.Pow(1 - pt, gamma);
    }

    // CIoU of two (cx, cy, w, h) boxes from the paper's definition, α held as a number
    static double Ciou(double[] a, double[] b)
    {
        const double eps = 1e-7;
        double ax1 = a[0] - a[2] / 2, ax2 = a[0] + a[2] / 2, ay1 = a[1] - a[3] / 2, ay2 = a[1] + a[3] / 2;
        double bx1 = b[0] - b[2] / 2, bx2 = b[0] + b[2] / 2, by1 = b[1] - b[3] / 2, by2 = b[1] + b[3] / 2;
        double inter = Math.Max(0, Math.Min(ax2, bx2) - Math.Max(ax1, bx1)) * Math.Max(0, Math.Min(ay2, by2) - Math.Max(ay1, by1));
        double union = a[2] * a[3] + b[2] * b[3] - inter + eps, iou = inter / union;
        double cw = Math.Max(ax2, bx2) - Math.Min(ax1, bx1), ch = Math.Max(ay2, by2) - Math.Min(ay1, by1);
        double c2 = cw * cw + ch * ch + eps, rho2 = Math.Pow(a[0] - b[0], 2) + Math.Pow(a[1] - b[1], 2);
        double v = 4 / (Math.PI * Math.PI) * Math.Pow(Math.Atan(b[2] / b[3]) - Math.Atan(a[2] / a[3]), 2);
        double alpha = v / (v - iou + 1 + eps);
        return iou - (rho2 / c2 + v * alpha);
    }

    // The whole loss with scalar loops: only the (separately hand-tested) assignment is shared with the code under test.
    static (double Total, double Box, double Obj, double Cls) Reference(Tensor[] maps, YoloLossOptions o)
    {
        double[] strides = [8, 16, 32], balance = [4.0, 1.0, 0.4];
        double cp = 1 - 0.5 * o.LabelSmoothing, cn = 0.5 * o.LabelSmoothing;
        double lbox = 0, lobj = 0, lcls = 0;
        for (int i = 0; i < 3; i++)
        {
            var p = maps[i].ToDoubleArray();
            int s = 8 >> i, cells = 2 * 3 * s * s;
            var anchors = new float[6];
            for (int k = 0; k < 6; k++) anchors[k] = (float)(DetectHead.DefaultAnchors[i][k] / strides[i]);
            var lt = TargetAssignment.Build(TargetRows, s, s, anchors);
            var tobj = new double[cells];
            if (lt.Count > 0)
            {
                double boxSum = 0, clsSum = 0;
                for (int k = 0; k < lt.Count; k++)
                {
                    int cell = ((lt.Image[k] * 3 + lt.Anchor[k]) * s + lt.GridY[k]) * s + lt.GridX[k];
                    int at = cell * 8;
                    double[] pb =
                    [
                        2 * Sig(p[at]) - 0.5, 2 * Sig(p[at + 1]) - 0.5,
                        Math.Pow(2 * Sig(p[at + 2]), 2) * lt.AnchorSize[2 * k], Math.Pow(2 * Sig(p[at + 3]), 2) * lt.AnchorSize[2 * k + 1],
                    ];
                    double ciou = Ciou(pb, [lt.Box[4 * k], lt.Box[4 * k + 1], lt.Box[4 * k + 2], lt.Box[4 * k + 3]]);
                    boxSum += 1 - ciou;
                    tobj[cell] = Math.Max(ciou, 0);
                    for (int c = 0; c < 3; c++)
                    {
                        double t = c == lt.Class[k] ? cp : cn;
                        clsSum += o.FocalGamma > 0 ? Focal(p[at + 5 + c], t, o.FocalGamma) : Bce(p[at + 5 + c], t);
                    }
                }
                lbox += boxSum / lt.Count;
                lcls += clsSum / (lt.Count * 3);
            }
            double objSum = 0;
            for (int c = 0; c < cells; c++)
                objSum += o.FocalGamma > 0 ? Focal(p[c * 8 + 4], tobj[c], o.FocalGamma) : Bce(p[c * 8 + 4], tobj[c]);
            lobj += balance[i] * objSum / cells;
        }
        double box = lbox * o.Box, obj = lobj * o.Objectness, cls = lcls * o.Class;
        return ((box + obj + cls) * 2, box, obj, cls);
    }

    [Theory]
    [InlineData(0.0, 0.0)]
    [InlineData(0.1, 0.0)]
    [InlineData(0.0, 1.5)]
    public void Loss_equals_an_independent_scalar_computation(double smoothing, double gamma)
    {
        var options = new YoloLossOptions { LabelSmoothing = smoothing, FocalGamma = gamma }.ScaledFor(3, 3, 64);
        var maps = RawMaps(7);
        var result = new YoloLoss(Head(), options).Compute(maps, Torch.FromArray(TargetRows, [3, 6]));
        var expected = Reference(maps, options);
        Assert.Equal(expected.Box, result.Box, 10);
        Assert.Equal(expected.Obj, result.Objectness, 10);
        Assert.Equal(expected.Cls, result.Class, 10);
        Assert.Equal(expected.Total, result.Total.Item(), 10);
        Assert.True(result.Box > 0 && result.Class > 0);
    }

    [Fact]
    public void Gains_scale_as_yolov5_train_py()
    {
        var o = new YoloLossOptions().ScaledFor(numLevels: 3, numClasses: 8, imageSize: 320);
        Assert.Equal(0.05, o.Box, 12);
        Assert.Equal(0.5 * 8 / 80.0, o.Class, 12);
        Assert.Equal(0.25, o.Objectness, 12);
        Assert.Equal([4.0, 1.0, 0.4], o.BalanceFor(3));
    }

    [Fact]
    public void Objectness_and_class_gradients_match_finite_differences()
    {
        var loss = new YoloLoss(Head(), new YoloLossOptions { LabelSmoothing = 0.1 });
        var boxes = RawMaps(3, grid: 4);
        var rest = RawMaps(4, grid: 4);
        // the box channels are constants here (they set the IoU objectness target, which YOLOv5 detaches);
        // inputs are the objectness and class channels of every level
        var inputs = rest.Select(r => (r.Narrow(-1, 4, 4).Contiguous() * 0.5).Detach()).ToArray();
        foreach (var x in inputs) x.RequiresGrad = true;
        var targets = Torch.FromArray(TargetRows, [3, 6]);
        GradCheck.Check(xs => loss.Compute([.. Enumerable.Range(0, 3).Select(i => Torch.Cat([boxes[i].Narrow(-1, 0, 4), xs[i]], -1))], targets).Total,
            inputs);
    }

    [Fact]
    public void A_step_against_the_box_gradient_lowers_the_box_loss()
    {
        var loss = new YoloLoss(Head(), new YoloLossOptions { Objectness = 0, Class = 0 });
        var maps = RawMaps(9, requiresGrad: true);
        var targets = Torch.FromArray(TargetRows, [3, 6]);
        var before = loss.Compute(maps, targets);
        before.Total.Backward();
        Assert.All(maps, m => Assert.True(m.Grad!.Abs().Sum().Item() > 0));
        var stepped = maps.Select(m => (m.Detach() - m.Grad! * 0.5).Detach()).ToArray();
        Assert.True(loss.Compute(stepped, targets).Box < before.Box);
    }

    [Fact]
    public void Flat_training_output_gives_the_same_loss_as_the_level_maps()
    {
        var model = new YoloV5(3, YoloSize.N);
        var x = Torch.Rand([2, 3, 64, 64], DType.Float32, new Generator(1));
        var loss = new YoloLoss(model.Detect);
        var targets = Torch.FromArray(TargetRows, [3, 6]);
        var flat = model.Call(x);
        var viaFlat = loss.Forward(flat, targets).Item();
        var viaLevels = loss.Compute(model.Detect.Split(flat, model.Detect.LastShapes), targets).Total.Item();
        Assert.Equal(viaLevels, viaFlat, 5);
        var ex = Assert.Throws<ArgumentException>(() => loss.Forward(flat, Torch.FromArray(new float[] { 0, 3, 0.5f, 0.5f, 0.1f, 0.1f }, [1, 6])));
        Assert.Contains("class 3", ex.Message);
        loss.Forward(flat, targets).Backward();
        Assert.All(model.Parameters(), p => Assert.NotNull(p.Grad));

        // an eval-mode (decoded) output is scored on the raw maps behind it, not on the decoded numbers
        model.Eval();
        using (Torch.NoGrad())
        {
            var decoded = model.Call(x);
            var expected = loss.Compute(model.ForwardRaw(x), targets).Total.Item();
            Assert.Equal(expected, loss.Forward(decoded, targets).Item(), 5);
            Assert.Null(model.Detect.RawOf(decoded.Clone()));
        }
    }
}
