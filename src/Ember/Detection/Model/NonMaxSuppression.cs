using Ember.Nn;

namespace Ember.Detection.Model;

/// <summary>
/// YOLOv5's non_max_suppression (utils/general.py) on decoded predictions (N, boxes, 5 + nc) [cx, cy, w, h, obj, cls…]:
/// per image, drop boxes with objectness ≤ conf; score = obj·cls; take the best class (or, multi-label, every class
/// whose score is above conf); drop scores ≤ conf; keep the <see cref="NmsOptions.MaxCandidates"/> highest; NMS per
/// class (boxes offset by class·7680, as YOLOv5, unless agnostic) with torchvision's rule; keep the first
/// <see cref="NmsOptions.MaxDetections"/>. Returns one (n, 6) tensor per image, rows [x1, y1, x2, y2, score, class] by
/// decreasing score.
/// </summary>
public static class NonMaxSuppression
{
    const double MaxWh = 7680; // YOLOv5's class offset: larger than any box side

    /// <summary>Detections per image (see the type summary).</summary>
    public static Tensor[] Apply(Tensor prediction, NmsOptions? options = null)
    {
        options ??= new NmsOptions();
        if (prediction.Rank != 3 || prediction.Size(2) < 6)
            throw new ArgumentException($"non_max_suppression: expected predictions [N, boxes, 5 + nc] with nc >= 1, got {prediction.Shape}");
        int bs = prediction.Size(0), nb = prediction.Size(1), no = prediction.Size(2), nc = no - 5;
        bool multi = options.MultiLabel && nc > 1;
        var p = prediction.Detach().To(DType.Float32).Contiguous().ToArray<float>();
        double conf = options.ConfidenceThreshold;
        var output = new Tensor[bs];
        var rows = new List<(float X1, float Y1, float X2, float Y2, float Score, int Cls)>();
        for (int b = 0; b < bs; b++)
        {
            rows.Clear();
            for (int k = 0; k < nb; k++)
            {
                int at = (b * nb + k) * no;
                float obj = p[at + 4];
                if (!(obj > conf)) continue;
                float cx = p[at], cy = p[at + 1], hw = p[at + 2] / 2, hh = p[at + 3] / 2;
                if (multi)
                {
                    for (int c = 0; c < nc; c++)
                    {
                        float s = p[at + 5 + c] * obj;
                        if (s > conf && Allowed(options, c)) rows.Add((cx - hw, cy - hh, cx + hw, cy + hh, s, c));
                    }
                }
                else
                {
                    int best = 0;
                    for (int c = 1; c < nc; c++) if (p[at + 5 + c] > p[at + 5 + best]) best = c;
                    float s = p[at + 5 + best] * obj;
                    if (s > conf && Allowed(options, best)) rows.Add((cx - hw, cy - hh, cx + hw, cy + hh, s, best));
                }
            }
            // by decreasing score (stable), at most MaxCandidates
            var ordered = rows.Select((r, i) => (r, i)).OrderByDescending(t => t.r.Score).ThenBy(t => t.i).Take(options.MaxCandidates).Select(t => t.r).ToArray();
            int n = ordered.Length;
            if (n == 0) { output[b] = Torch.Zeros([0, 6]); continue; }
            var boxes = new float[4 * n];
            var scores = new float[n];
            for (int i = 0; i < n; i++)
            {
                float off = options.Agnostic ? 0 : (float)(ordered[i].Cls * MaxWh);
                boxes[4 * i] = ordered[i].X1 + off; boxes[4 * i + 1] = ordered[i].Y1 + off;
                boxes[4 * i + 2] = ordered[i].X2 + off; boxes[4 * i + 3] = ordered[i].Y2 + off;
                scores[i] = ordered[i].Score;
            }
            var keep = Boxes.Nms(Torch.FromArray(boxes, [n, 4]), Torch.FromArray(scores, [n]), options.IouThreshold).ToArray<long>();
            int m = Math.Min(keep.Length, options.MaxDetections);
            var o = new float[6 * m];
            for (int i = 0; i < m; i++)
            {
                var r = ordered[keep[i]];
                o[6 * i] = r.X1; o[6 * i + 1] = r.Y1; o[6 * i + 2] = r.X2; o[6 * i + 3] = r.Y2; o[6 * i + 4] = r.Score; o[6 * i + 5] = r.Cls;
            }
            output[b] = Torch.FromArray(o, [m, 6]);
        }
        return output;
    }

    static bool Allowed(NmsOptions o, int c)
    {
        if (o.Classes is null) return true;
        foreach (var k in o.Classes) if (k == c) return true;
        return false;
    }
}
