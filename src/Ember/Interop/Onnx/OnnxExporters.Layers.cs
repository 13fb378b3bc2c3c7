using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Interop;

static partial class OnnxExporters
{
    static void AddLayers(Dictionary<Type, OnnxExporter> t)
    {
        Add<Sequential>(t, Chain);
        Add<Identity>(t, (g, m, p, x) => x);
        // dropout of every kind is the identity in eval mode
        Add<Dropout>(t, (g, m, p, x) => x);
        Add<Dropout2d>(t, (g, m, p, x) => x);
        Add<AlphaDropout>(t, (g, m, p, x) => x);
        Add<DropPath>(t, (g, m, p, x) => x);
        Add<DropBlock2d>(t, (g, m, p, x) => x);
        Add<Linear>(t, Linear);
        Add<Conv2d>(t, Conv2d);
        Add<ConvTranspose2d>(t, ConvTranspose2d);
        Add<BatchNorm1d>(t, BatchNorm);
        Add<BatchNorm2d>(t, BatchNorm);
        Add<LayerNorm>(t, LayerNorm);
        Add<MaxPool2d>(t, MaxPool2d);
        Add<AvgPool2d>(t, AvgPool2d);
        Add<AdaptiveAvgPool2d>(t, AdaptiveAvgPool2d);
        Add<AdaptiveMaxPool2d>(t, AdaptiveMaxPool2d);
        Add<Flatten>(t, Flatten);
        Add<Unflatten>(t, Unflatten);
        Add<Softmax>(t, (g, m, p, x) => Unary(g, p, "Softmax", x, m.Call(x.Value), AttributeProto.Int("axis", m.Dim)));
        Add<LogSoftmax>(t, (g, m, p, x) => Unary(g, p, "LogSoftmax", x, m.Call(x.Value), AttributeProto.Int("axis", m.Dim)));
        Add<Softmin>(t, (g, m, p, x) => Unary(g, p, "Softmax", Unary(g, p, "Neg", x, -x.Value), m.Call(x.Value), AttributeProto.Int("axis", m.Dim)));
        Add<PixelShuffle>(t, (g, m, p, x) => Unary(g, p, "DepthToSpace", x, m.Call(x.Value),
            AttributeProto.Int("blocksize", m.UpscaleFactor), AttributeProto.String("mode", "CRD")));
        Add<PixelUnshuffle>(t, PixelUnshuffle);
    }

    /// <summary>y = x·Wᵀ + b: Gemm for [N, in]; MatMul by Wᵀ (and Add) for other ranks, as Gemm takes only matrices.</summary>
    static OnnxValue Linear(OnnxGraphBuilder g, Linear linear, string path, OnnxValue x)
    {
        var value = linear.Call(x.Value);
        var w = Weight(g, path, "weight", linear.Weight);
        var b = linear.Bias is null ? null : Weight(g, path, "bias", linear.Bias);
        if (x.Value.Rank == 2)
            return new(g.Node(path, "Gemm", b is null ? [x.Name, w] : [x.Name, w, b], AttributeProto.Int("transB", 1)), value);
        var wt = g.Node(path, "Transpose", [w], AttributeProto.IntList("perm", 1, 0));
        var y = g.Node(path, "MatMul", [x.Name, wt]);
        return new(b is null ? y : g.Node(path, "Add", [y, b]), value);
    }

    static OnnxValue Conv2d(OnnxGraphBuilder g, Conv2d conv, string path, OnnxValue x)
    {
        if (conv.PaddingMode != PaddingMode.Constant)
            throw Unsupported(path, conv, $"padding mode {conv.PaddingMode} is not supported (zeros only)");
        var (kh, kw) = conv.KernelSize;
        var (dh, dw) = conv.Dilation;
        long[] pads;
        if (conv.Padding.IsSame)
        {
            // 'same' pads dilation·(k − 1) in total, the odd one at the bottom/right
            int th = dh * (kh - 1), tw = dw * (kw - 1);
            pads = [th / 2, tw / 2, th - th / 2, tw - tw / 2];
        }
        else pads = [conv.Padding.H, conv.Padding.W, conv.Padding.H, conv.Padding.W];
        var inputs = new List<string> { x.Name, Weight(g, path, "weight", conv.Weight) };
        if (conv.Bias is not null) inputs.Add(Weight(g, path, "bias", conv.Bias));
        return new(g.Node(path, "Conv", inputs,
            AttributeProto.IntList("kernel_shape", kh, kw), AttributeProto.IntList("strides", conv.Stride.H, conv.Stride.W),
            AttributeProto.IntList("pads", pads), AttributeProto.IntList("dilations", dh, dw), AttributeProto.Int("group", conv.Groups)),
            conv.Call(x.Value));
    }

    static OnnxValue ConvTranspose2d(OnnxGraphBuilder g, ConvTranspose2d conv, string path, OnnxValue x)
    {
        var (k, s, p, op, d) = (conv.KernelSize, conv.Stride, conv.Padding, conv.OutputPadding, conv.Dilation);
        var inputs = new List<string> { x.Name, Weight(g, path, "weight", conv.Weight) };
        if (conv.Bias is not null) inputs.Add(Weight(g, path, "bias", conv.Bias));
        return new(g.Node(path, "ConvTranspose", inputs,
            AttributeProto.IntList("kernel_shape", k.H, k.W), AttributeProto.IntList("strides", s.H, s.W), AttributeProto.IntList("pads", p.H, p.W, p.H, p.W),
            AttributeProto.IntList("output_padding", op.H, op.W), AttributeProto.IntList("dilations", d.H, d.W), AttributeProto.Int("group", conv.Groups)),
            conv.Call(x.Value));
    }

    /// <summary>Eval-mode batch norm with the running statistics (a missing affine becomes scale 1, bias 0).</summary>
    static OnnxValue BatchNorm(OnnxGraphBuilder g, BatchNorm bn, string path, OnnxValue x)
    {
        if (bn.RunningMean is null || bn.RunningVar is null)
            throw Unsupported(path, bn, "it tracks no running statistics, so even in eval mode it normalizes by batch statistics; only running-statistics BatchNorm exports");
        var dtype = bn.RunningMean.DType;
        var scale = bn.Weight is null ? g.Constant(Torch.Ones([bn.NumFeatures], dtype)) : Weight(g, path, "weight", bn.Weight);
        var bias = bn.Bias is null ? g.Constant(Torch.Zeros([bn.NumFeatures], dtype)) : Weight(g, path, "bias", bn.Bias);
        var inputs = new[] { x.Name, scale, bias, Weight(g, path, "running_mean", bn.RunningMean), Weight(g, path, "running_var", bn.RunningVar) };
        return new(g.Node(path, "BatchNormalization", inputs, AttributeProto.Float("epsilon", bn.Eps)), bn.Call(x.Value));
    }

    static OnnxValue LayerNorm(OnnxGraphBuilder g, LayerNorm ln, string path, OnnxValue x)
    {
        var scale = ln.Weight is null ? g.Constant(Torch.Ones([.. ln.NormalizedShape], x.Value.DType)) : Weight(g, path, "weight", ln.Weight);
        var inputs = new List<string> { x.Name, scale };
        if (ln.Bias is not null) inputs.Add(Weight(g, path, "bias", ln.Bias));
        return new(g.Node(path, "LayerNormalization", inputs, AttributeProto.Int("axis", -ln.NormalizedShape.Count), AttributeProto.Float("epsilon", ln.Eps)),
            ln.Call(x.Value));
    }

    static OnnxValue MaxPool2d(OnnxGraphBuilder g, MaxPool2d pool, string path, OnnxValue x)
    {
        var (k, s, p, d) = (pool.KernelSize, pool.Stride, pool.Padding, pool.Dilation);
        return Unary(g, path, "MaxPool", x, pool.Call(x.Value), AttributeProto.IntList("kernel_shape", k.H, k.W), AttributeProto.IntList("strides", s.H, s.W),
            AttributeProto.IntList("pads", p.H, p.W, p.H, p.W), AttributeProto.IntList("dilations", d.H, d.W), AttributeProto.Int("ceil_mode", pool.CeilMode ? 1 : 0));
    }

    static OnnxValue AvgPool2d(OnnxGraphBuilder g, AvgPool2d pool, string path, OnnxValue x)
    {
        if (pool.DivisorOverride is not null) throw Unsupported(path, pool, "divisor_override has no ONNX AveragePool equivalent");
        var (k, s, p) = (pool.KernelSize, pool.Stride, pool.Padding);
        return Unary(g, path, "AveragePool", x, pool.Call(x.Value), AttributeProto.IntList("kernel_shape", k.H, k.W), AttributeProto.IntList("strides", s.H, s.W),
            AttributeProto.IntList("pads", p.H, p.W, p.H, p.W), AttributeProto.Int("ceil_mode", pool.CeilMode ? 1 : 0),
            AttributeProto.Int("count_include_pad", pool.CountIncludePad ? 1 : 0));
    }

    /// <summary>
    /// Adaptive average pooling of a static H×W: GlobalAveragePool for 1×1, AveragePool when the sizes divide, and
    /// otherwise its exact linear form P_h · x · P_wᵀ, where row o of P averages input cells
    /// [⌊o·in/out⌋, ⌈(o+1)·in/out⌉) (torchvision's AlexNet pools 1×1 features up to 6×6 this way at small inputs).
    /// </summary>
    static OnnxValue AdaptiveAvgPool2d(OnnxGraphBuilder g, AdaptiveAvgPool2d pool, string path, OnnxValue x)
    {
        var value = pool.Call(x.Value);
        if (x.Value.Rank != 4) throw Unsupported(path, pool, $"expected a 4-D input [N, C, H, W], got shape {x.Value.Shape}");
        int h = x.Value.Size(2), w = x.Value.Size(3);
        var (oh, ow) = pool.OutputSize;
        if (oh == 1 && ow == 1) return Unary(g, path, "GlobalAveragePool", x, value);
        if (h % oh == 0 && w % ow == 0)
            return Unary(g, path, "AveragePool", x, value, AttributeProto.IntList("kernel_shape", h / oh, w / ow), AttributeProto.IntList("strides", h / oh, w / ow));
        var right = g.Constant(PoolingMatrix(w, ow, x.Value.DType).T);   // [W, ow]
        var left = g.Constant(PoolingMatrix(h, oh, x.Value.DType));      // [oh, H]
        var y = g.Node(path, "MatMul", [x.Name, right]);                 // [N, C, H, ow]
        return new(g.Node(path, "MatMul", [left, y]), value);            // [oh, H] broadcast over [N, C, H, ow]
    }

    static Tensor PoolingMatrix(int size, int outSize, DType dtype)
    {
        var m = new double[outSize * size];
        for (int o = 0; o < outSize; o++)
        {
            int start = o * size / outSize, end = ((o + 1) * size + outSize - 1) / outSize;
            for (int i = start; i < end; i++) m[o * size + i] = 1.0 / (end - start);
        }
        return Torch.FromArray(m, [outSize, size]).To(dtype).Contiguous();
    }

    static OnnxValue AdaptiveMaxPool2d(OnnxGraphBuilder g, AdaptiveMaxPool2d pool, string path, OnnxValue x)
    {
        var value = pool.Call(x.Value);
        if (x.Value.Rank != 4) throw Unsupported(path, pool, $"expected a 4-D input [N, C, H, W], got shape {x.Value.Shape}");
        int h = x.Value.Size(2), w = x.Value.Size(3);
        var (oh, ow) = pool.OutputSize;
        if (oh == 1 && ow == 1) return Unary(g, path, "GlobalMaxPool", x, value);
        if (h % oh == 0 && w % ow == 0)
            return Unary(g, path, "MaxPool", x, value, AttributeProto.IntList("kernel_shape", h / oh, w / ow), AttributeProto.IntList("strides", h / oh, w / ow));
        throw Unsupported(path, pool, $"output size ({oh}, {ow}) does not divide the input size ({h}, {w}); ONNX has no adaptive max pooling");
    }

    /// <summary>Flatten(1, −1) is ONNX's Flatten; other ranges reshape, copying the leading (batch) dims.</summary>
    static OnnxValue Flatten(OnnxGraphBuilder g, Flatten flatten, string path, OnnxValue x)
    {
        var value = flatten.Call(x.Value);
        int rank = x.Value.Rank, start = flatten.StartDim < 0 ? flatten.StartDim + rank : flatten.StartDim;
        int end = flatten.EndDim < 0 ? flatten.EndDim + rank : flatten.EndDim;
        if (start == 1 && end == rank - 1) return Flatten1(g, path, x);
        var shape = new long[value.Rank];
        for (int i = 0; i < shape.Length; i++) shape[i] = i < start ? 0 : value.Size(i);
        if (start == 0) shape[0] = -1; // the batch is among the flattened dims
        return Reshape(g, path, x, shape);
    }

    static OnnxValue Unflatten(OnnxGraphBuilder g, Unflatten unflatten, string path, OnnxValue x)
    {
        var value = unflatten.Call(x.Value);
        int dim = unflatten.Dim < 0 ? unflatten.Dim + x.Value.Rank : unflatten.Dim;
        var shape = new long[value.Rank];
        for (int i = 0; i < shape.Length; i++) shape[i] = i < dim ? 0 : value.Size(i);
        if (dim == 0) shape[0] = -1;
        return Reshape(g, path, x, shape);
    }

    /// <summary>[N, C, H·r, W·r] → [N, C·r², H, W] with channel order c·r² + i·r + j, as PyTorch (ONNX's SpaceToDepth orders them differently).</summary>
    static OnnxValue PixelUnshuffle(OnnxGraphBuilder g, PixelUnshuffle layer, string path, OnnxValue x)
    {
        if (x.Value.Rank != 4) throw Unsupported(path, layer, $"expected a 4-D input [N, C, H, W], got shape {x.Value.Shape}");
        int r = layer.DownscaleFactor, c = x.Value.Size(1), h = x.Value.Size(2) / r, w = x.Value.Size(3) / r;
        var split = Reshape(g, path, x, 0, c, h, r, w, r);
        var moved = Transpose(g, path, split, 0, 1, 3, 5, 2, 4);
        var y = Reshape(g, path, moved, 0, c * r * r, h, w);
        return y with { Value = layer.Call(x.Value) };
    }
}
