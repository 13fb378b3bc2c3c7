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
            var keep = options.Agnostic ? Boxes.Nms(Torch.FromArray(boxes, [n, 4]), Torch.FromArray(scores, [n]), options.IouThreshold).ToArray<long>()
                : NmsPerClass(boxes, scores, ordered, options.IouThreshold);
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

    // The class offset keeps boxes of different classes apart, so they never suppress each other: NMS over each class's
    // boxes alone keeps exactly what one NMS over all of them keeps (same offset boxes, same arithmetic), at a fraction of
    // the pairs (an untrained detector gives up to 30,000 candidates over 10 classes at confidence 0.001). The rows are
    // already by decreasing score, so the kept indices in increasing order are the single NMS's order.
    static long[] NmsPerClass(float[] boxes, float[] scores, (float X1, float Y1, float X2, float Y2, float Score, int Cls)[] ordered, double iouThreshold)
    {
        var members = new Dictionary<int, List<int>>();
        for (int i = 0; i < ordered.Length; i++)
        {
            if (!members.TryGetValue(ordered[i].Cls, out var list)) members[ordered[i].Cls] = list = [];
            list.Add(i);
        }
        if (members.Count == 1) return Boxes.Nms(Torch.FromArray(boxes, [ordered.Length, 4]), Torch.FromArray(scores, [ordered.Length]), iouThreshold).ToArray<long>();
        var kept = new List<long>();
        foreach (var list in members.Values)
        {
            int m = list.Count;
            var b = new float[4 * m];
            var s = new float[m];
            for (int k = 0; k < m; k++) { boxes.AsSpan(4 * list[k], 4).CopyTo(b.AsSpan(4 * k)); s[k] = scores[list[k]]; }
            foreach (var k in Boxes.Nms(Torch.FromArray(b, [m, 4]), Torch.FromArray(s, [m]), iouThreshold).ToArray<long>()) kept.Add(list[(int)k]);
        }
        kept.Sort();
        return [.. kept];
    }

    static bool Allowed(NmsOptions o, int c)
    {
        if (o.Classes is null) return true;
        foreach (var k in o.Classes) if (k == c) return true;
        return false;
    }
}
