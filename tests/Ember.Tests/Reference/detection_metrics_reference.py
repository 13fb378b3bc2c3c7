#!/usr/bin/env python3
"""Independent reference numbers for Ember.Detection.Metrics (issue 23).

Written for Ember from the metric definitions (not copied from YOLOv5 or pycocotools, which Debian does not package):
random boxes from a fixed numpy seed, matched per IoU threshold by the YOLOv5 val.py rule (each detection takes its
highest-IoU same-class label at IoU >= t; each label then keeps the lowest-index detection that took it), then per class
AP by three integrations of the precision envelope: YOLOv5's 'interp' (101-point linear interpolation + trapezoid),
COCOeval's 101 recall thresholds (mean of the envelope at the first detection reaching each threshold) and the
continuous area; P and R at the confidence where the box-smoothed mean F1 over classes peaks.

Run: /usr/bin/python3 tests/Ember.Tests/Reference/detection_metrics_reference.py > tests/Ember.Tests/Reference/DetectionMetricsReference.cs
(Debian 12 python3 3.11 with python3-numpy 1.24.2)
"""
import numpy as np

rng = np.random.default_rng(23)
NC = 4  # class 3 is predicted but never labelled; class 2 is labelled but rarely predicted
images = []
for img in range(40):
    labels, dets = [], []
    for _ in range(rng.integers(0, 5)):
        c = int(rng.choice([0, 0, 1, 1, 2]))
        x1, y1 = rng.uniform(0, 500, 2)
        w, h = rng.uniform(10, 150, 2)
        box = [x1, y1, x1 + w, y1 + h]
        labels.append([c] + box)
        if c == 2 and rng.random() < 0.7:
            continue
        if rng.random() < 0.85:  # a detection near the box: IoU spread over the thresholds
            jit = rng.normal(0, 0.12, 4) * np.array([w, h, w, h])
            dc = c if rng.random() > 0.1 else int(rng.integers(0, NC))
            dets.append(list(np.array(box) + jit) + [rng.uniform(0.05, 1.0), dc])
            if rng.random() < 0.2:  # a duplicate
                jit = rng.normal(0, 0.08, 4) * np.array([w, h, w, h])
                dets.append(list(np.array(box) + jit) + [rng.uniform(0.05, 1.0), c])
    for _ in range(rng.integers(0, 3)):  # background detections
        x1, y1 = rng.uniform(0, 500, 2)
        w, h = rng.uniform(10, 150, 2)
        dets.append([x1, y1, x1 + w, y1 + h, rng.uniform(0.05, 0.8), int(rng.integers(0, NC))])
    images.append((np.array(dets, dtype=float).reshape(-1, 6), np.array(labels, dtype=float).reshape(-1, 5)))

thresholds = np.linspace(0.5, 0.95, 10)


def iou(a, b):
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = iw * ih
    return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter + 1e-7)


def correct_flags(dets, labels):
    out = np.zeros((len(dets), len(thresholds)), dtype=bool)
    for ti, t in enumerate(thresholds):
        taken = {}
        for d in range(len(dets)):
            best, best_iou = None, -1.0
            for l in range(len(labels)):
                if labels[l, 0] != dets[d, 5]:
                    continue
                v = iou(labels[l, 1:], dets[d, :4])
                if v >= t and v >= best_iou:
                    best, best_iou = l, v
            if best is not None and best not in taken:
                taken[best] = d
        for d in taken.values():
            out[d, ti] = True
    return out


tp = np.concatenate([correct_flags(d, l) for d, l in images])
conf = np.concatenate([d[:, 4] for d, _ in images])
pcls = np.concatenate([d[:, 5] for d, _ in images])
tcls = np.concatenate([l[:, 0] for _, l in images])


def envelope_curve(recall, precision):
    r = np.concatenate(([0.0], recall, [1.0]))
    p = np.concatenate(([1.0], precision, [0.0]))
    for i in range(len(p) - 2, -1, -1):
        p[i] = max(p[i], p[i + 1])
    return r, p


def ap_interp(recall, precision):
    r, p = envelope_curve(recall, precision)
    x = np.linspace(0, 1, 101)
    y = np.interp(x, r, p)
    return float(np.sum((x[1:] - x[:-1]) * (y[1:] + y[:-1]) / 2))


def ap_coco(recall, precision):
    p = precision.copy()
    for i in range(len(p) - 1, 0, -1):
        p[i - 1] = max(p[i - 1], p[i])
    total = 0.0
    for t in np.linspace(0, 1, 101):
        k = np.searchsorted(recall, t, side='left')
        total += p[k] if k < len(p) else 0.0
    return total / 101


def ap_continuous(recall, precision):
    r, p = envelope_curve(recall, precision)
    return float(sum((r[i + 1] - r[i]) * p[i + 1] for i in range(len(r) - 1) if r[i + 1] != r[i]))


order = np.argsort(-conf, kind='stable')
classes = np.unique(tcls).astype(int)
px = np.linspace(0, 1, 1000)
results = {m: np.zeros((len(classes), len(thresholds))) for m in ('interp', 'coco', 'continuous')}
pc, rc = np.zeros((len(classes), 1000)), np.zeros((len(classes), 1000))
for k, c in enumerate(classes):
    idx = order[pcls[order] == c]
    nl = int((tcls == c).sum())
    if len(idx) == 0:
        continue
    for ti in range(len(thresholds)):
        hits = tp[idx, ti].astype(float)
        tpc = np.cumsum(hits)
        fpc = np.cumsum(1 - hits)
        recall = tpc / (nl + 1e-16)
        precision = tpc / (tpc + fpc)
        if ti == 0:
            rc[k] = np.interp(-px, -conf[idx], recall, left=0)
            pc[k] = np.interp(-px, -conf[idx], precision, left=1)
        results['interp'][k, ti] = ap_interp(recall, precision)
        results['coco'][k, ti] = ap_coco(recall, precision)
        results['continuous'][k, ti] = ap_continuous(recall, precision)
f1 = 2 * pc * rc / (pc + rc + 1e-16)
mean_f1 = f1.mean(0)
nf = 101  # odd box filter over 10% of the 1000 points
padded = np.concatenate((np.full(nf // 2, mean_f1[0]), mean_f1, np.full(nf // 2, mean_f1[-1])))
smoothed = np.convolve(padded, np.ones(nf) / nf, mode='valid')
best = int(smoothed.argmax())


def cs(values):
    return ', '.join(repr(float(v)) for v in values)


print('// <auto-generated> by tests/Ember.Tests/Reference/detection_metrics_reference.py (numpy %s); do not edit.' % np.__version__)
print('// Boxes from numpy default_rng(23); expected numbers from that script\'s own implementation of the definitions.')
print('namespace Ember.Tests.Reference;\n')
print('static class DetectionMetricsReference\n{')
print('    // per image: detections [x1, y1, x2, y2, conf, class] and labels [class, x1, y1, x2, y2], flat')
print('    public static readonly (double[] Detections, double[] Labels)[] Images =\n    [')
for d, l in images:
    print('        ([%s], [%s]),' % (cs(d.ravel()), cs(l.ravel())))
print('    ];\n')
print('    public static readonly int[] Classes = [%s];' % ', '.join(str(c) for c in classes))
for m, name in (('interp', 'ApInterp'), ('coco', 'ApCoco'), ('continuous', 'ApContinuous')):
    print('    // AP[class][threshold] (%s)' % m)
    print('    public static readonly double[][] %s =\n    [' % name)
    for row in results[m]:
        print('        [%s],' % cs(row))
    print('    ];')
print('    public static readonly double[] Precision = [%s];' % cs(pc[:, best]))
print('    public static readonly double[] Recall = [%s];' % cs(rc[:, best]))
print('    public static readonly double Map50 = %r;' % float(results['interp'][:, 0].mean()))
print('    public static readonly double Map50To95 = %r;' % float(results['interp'].mean(1).mean()))
print('    public static readonly int CorrectAt50 = %d;' % int(tp[:, 0].sum()))
print('    public static readonly int CorrectAt95 = %d;' % int(tp[:, -1].sum()))
print('}')
