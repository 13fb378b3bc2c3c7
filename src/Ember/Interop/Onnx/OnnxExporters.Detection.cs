using Ember.Detection.Model;
using Ember.Nn;
using Ember.Nn.Layers;

namespace Ember.Interop;

// The YOLOv5 detector and its parts. The model exports as YOLOv5's export.py writes it: one output
// (N, Σ na·H·W, 5 + nc) of decoded boxes (cx, cy, w, h in input pixels, objectness and class scores after the sigmoid),
// with the grids baked in as constants for the sample's height and width (only the batch stays dynamic).
static partial class OnnxExporters
{
    static void AddDetection(Dictionary<Type, OnnxExporter> t)
    {
        Add<Upsample>(t, Upsample);
        Add<C3>(t, C3);
        Add<CspBottleneck>(t, CspBottleneck);
        Add<Sppf>(t, Sppf);
        Add<YoloV5>(t, YoloV5);
        Add<YoloModel>(t, YoloModel);
    }

    /// <summary>
    /// Resize: nearest as PyTorch's legacy nearest (asymmetric coordinates, floor), bilinear with align_corners
    /// (align_corners) or without (pytorch_half_pixel). A scale factor goes in as scales (the batch stays dynamic); a
    /// fixed size as sizes, built from the input's own N and C.
    /// </summary>
    static OnnxValue Upsample(OnnxGraphBuilder g, Upsample up, string path, OnnxValue x)
    {
        if (x.Value.Rank != 4) throw Unsupported(path, up, $"expected a 4-D input [N, C, H, W], got shape {x.Value.Shape}");
        var value = up.Call(x.Value);
        bool nearest = up.Mode == InterpolationMode.Nearest;
        var attributes = new[]
        {
            AttributeProto.String("mode", nearest ? "nearest" : "linear"),
            AttributeProto.String("coordinate_transformation_mode", nearest ? "asymmetric" : up.AlignCorners ? "align_corners" : "pytorch_half_pixel"),
            AttributeProto.String("nearest_mode", "floor"),
        };
        if (up.ScaleFactor is var (sh, sw))
        {
            var scales = g.Constant(Torch.FromArray(new float[] { 1, 1, (float)sh, (float)sw }, [4]));
            return new(g.Node(path, "Resize", [x.Name, "", scales], attributes), value);
        }
        // ONNX derives an output size from scales as floor(in·scale), which float rounding can put one short: give sizes
        var shape = g.Node(path, "Shape", [x.Name]);
        var batchChannels = g.Node(path, "Slice", [shape, g.Int64s(0), g.Int64s(2), g.Int64s(0)]);
        var sizes = g.Node(path, "Concat", [batchChannels, g.Int64s(value.Size(2), value.Size(3))], AttributeProto.Int("axis", 0));
        return new(g.Node(path, "Resize", [x.Name, "", "", sizes], attributes), value);
    }

    static OnnxValue Concat(OnnxGraphBuilder g, string path, params OnnxValue[] parts)
    {
        var values = new Tensor[parts.Length];
        var names = new string[parts.Length];
        for (int i = 0; i < parts.Length; i++) (names[i], values[i]) = (parts[i].Name, parts[i].Value);
        return new(g.Node(path, "Concat", names, AttributeProto.Int("axis", 1)), Torch.Cat(values, 1));
    }

    /// <summary>cv3(cat(m(cv1(x)), cv2(x))).</summary>
    static OnnxValue C3(OnnxGraphBuilder g, C3 block, string path, OnnxValue x)
    {
        var a = ExportChild(g, block, path, "m", ExportChild(g, block, path, "cv1", x));
        var b = ExportChild(g, block, path, "cv2", x);
        return ExportChild(g, block, path, "cv3", Concat(g, path, a, b));
    }

    /// <summary>cv2(cv1(x)), plus x when the block has its shortcut.</summary>
    static OnnxValue CspBottleneck(OnnxGraphBuilder g, CspBottleneck block, string path, OnnxValue x)
    {
        var y = ExportChild(g, block, path, "cv2", ExportChild(g, block, path, "cv1", x));
        return block.Shortcut ? Add(g, path, x, y) : y;
    }

    /// <summary>x = cv1(x); cv2(cat(x, m(x), m(m(x)), m(m(m(x))))) with the one max pool m applied three times.</summary>
    static OnnxValue Sppf(OnnxGraphBuilder g, Sppf block, string path, OnnxValue x)
    {
        x = ExportChild(g, block, path, "cv1", x);
        var y1 = ExportChild(g, block, path, "m", x);
        var y2 = ExportChild(g, block, path, "m", y1);
        var y3 = ExportChild(g, block, path, "m", y2);
        return ExportChild(g, block, path, "cv2", Concat(g, path, x, y1, y2, y3));
    }

    /// <summary>The layers of <see cref="Detection.Model.YoloV5.ForwardRaw"/> with the same routing, then the decoded head.</summary>
    static OnnxValue YoloV5(OnnxGraphBuilder g, YoloV5 model, string path, OnnxValue x)
    {
        if (x.Value.Rank != 4 || x.Value.Size(2) % 32 != 0 || x.Value.Size(3) % 32 != 0)
            throw Unsupported(path, model, $"expected a sample input [N, C, H, W] with H and W multiples of 32, got shape {x.Value.Shape}");
        var listPath = Join(path, "model");
        var list = Required(model, path, "model");
        OnnxValue L(int i, OnnxValue v) => ExportChild(g, list, listPath, i.ToString(System.Globalization.CultureInfo.InvariantCulture), v);
        string P(int i) => Join(listPath, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var x4 = L(4, L(3, L(2, L(1, L(0, x)))));
        var x6 = L(6, L(5, x4));
        var x10 = L(10, L(9, L(8, L(7, x6))));
        var x13 = L(13, Concat(g, P(12), L(11, x10), x6));
        var x14 = L(14, x13);
        var p3 = L(17, Concat(g, P(16), L(15, x14), x4));
        var p4 = L(20, Concat(g, P(19), L(18, p3), x14));
        var p5 = L(23, Concat(g, P(22), L(21, p4), x10));
        return DetectDecoded(g, model.Detect, P(24), [p3, p4, p5]);
    }

    /// <summary>A model built from a definition: each layer on the outputs its row names, Concat as a node, then the decoded head.</summary>
    static OnnxValue YoloModel(OnnxGraphBuilder g, YoloModel model, string path, OnnxValue x)
    {
        int maxStride = (int)Math.Round(model.Detect.Strides.Max());
        if (x.Value.Rank != 4 || x.Value.Size(2) % maxStride != 0 || x.Value.Size(3) % maxStride != 0)
            throw Unsupported(path, model, $"expected a sample input [N, C, H, W] with H and W multiples of {maxStride}, got shape {x.Value.Shape}");
        var list = Required(model, path, "model");
        var listPath = Join(path, "model");
        var outputs = new OnnxValue[model.LayerCount];
        OnnxValue In(int j) => j < 0 ? x : outputs[j];
        for (int i = 0; i < model.LayerCount - 1; i++)
        {
            var name = i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var from = model.InputsOf(i);
            if (Required(list, listPath, name) is Concat)
            {
                var parts = new OnnxValue[from.Count];
                for (int k = 0; k < parts.Length; k++) parts[k] = In(from[k]);
                outputs[i] = Concat(g, Join(listPath, name), parts);
            }
            else outputs[i] = ExportChild(g, list, listPath, name, In(from[0]));
        }
        var levels = model.InputsOf(model.LayerCount - 1);
        var features = new OnnxValue[levels.Count];
        for (int k = 0; k < features.Length; k++) features[k] = In(levels[k]);
        return DetectDecoded(g, model.Detect, Join(listPath, (model.LayerCount - 1).ToString(System.Globalization.CultureInfo.InvariantCulture)), features);
    }

    /// <summary>
    /// Each level: 1×1 conv, reshape (N, na, no, H, W) → (N, na, H, W, no), s = σ(·); xy = (2·s + grid)·stride with
    /// grid = cell − 0.5, wh = (2·s)²·anchor, the scores s; flattened to (N, na·H·W, no) and concatenated over the levels.
    /// </summary>
    static OnnxValue DetectDecoded(OnnxGraphBuilder g, DetectHead head, string path, OnnxValue[] features)
    {
        var m = Required(head, path, "m");
        var mPath = Join(path, "m");
        int na = head.NumAnchors, no = head.NumOutputs;
        var anchors = head.Anchors.Detach();
        var levels = new OnnxValue[head.NumLevels];
        var raws = new Tensor[head.NumLevels];
        for (int i = 0; i < head.NumLevels; i++)
        {
            var lp = Join(mPath, i.ToString(System.Globalization.CultureInfo.InvariantCulture));
            var y = ExportChild(g, m, mPath, i.ToString(System.Globalization.CultureInfo.InvariantCulture), features[i]);
            var dtype = y.Value.DType;
            int h = y.Value.Size(2), w = y.Value.Size(3);
            var raw = Transpose(g, lp, Reshape(g, lp, y, 0, na, no, h, w), 0, 1, 3, 4, 2);
            raws[i] = raw.Value.Contiguous();
            var s = g.Node(lp, "Sigmoid", [raw.Name]);
            var xy = g.Node(lp, "Slice", [s, g.Int64s(0), g.Int64s(2), g.Int64s(-1)]);
            var wh = g.Node(lp, "Slice", [s, g.Int64s(2), g.Int64s(4), g.Int64s(-1)]);
            var scores = g.Node(lp, "Slice", [s, g.Int64s(4), g.Int64s(no), g.Int64s(-1)]);
            var grid = new double[h * w * 2];
            for (int gy = 0; gy < h; gy++)
                for (int gx = 0; gx < w; gx++) { grid[2 * (gy * w + gx)] = gx - 0.5; grid[2 * (gy * w + gx) + 1] = gy - 0.5; }
            var gridConst = g.Constant(Torch.FromArray(grid, [1, 1, h, w, 2]).To(dtype).Contiguous());
            var anchorConst = g.Constant(anchors.Select(0, i).To(dtype).Reshape(1, na, 1, 1, 2).Contiguous());
            var two = g.Scalar(2, dtype);
            xy = g.Node(lp, "Mul", [g.Node(lp, "Add", [g.Node(lp, "Mul", [xy, two]), gridConst]), g.Scalar(head.Strides[i], dtype)]);
            var wh2 = g.Node(lp, "Mul", [wh, two]);
            wh = g.Node(lp, "Mul", [g.Node(lp, "Mul", [wh2, wh2]), anchorConst]);
            var decoded = g.Node(lp, "Concat", [xy, wh, scores], AttributeProto.Int("axis", -1));
            var shape = new long[] { 0, na * h * w, no };
            levels[i] = new(g.Node(lp, "Reshape", [decoded, g.Int64s(shape)]), raw.Value.Reshape(raw.Value.Size(0), na * h * w, no));
        }
        var names = new string[levels.Length];
        for (int i = 0; i < levels.Length; i++) names[i] = levels[i].Name;
        return new(g.Node(path, "Concat", names, AttributeProto.Int("axis", 1)), head.Decode(raws));
    }
}
