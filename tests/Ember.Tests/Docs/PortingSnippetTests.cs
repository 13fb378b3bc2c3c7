using Ember.Nn;
using Ember.Nn.Functional;

namespace Ember.Tests.Docs;

/// <summary>
/// Real PyTorch lines ported line by line (the PyTorch line is the comment above each Ember line), as docs/porting.md
/// shows them; each result is checked against values worked out by hand or by a second route.
/// </summary>
public class PortingSnippetTests
{
    [Fact]
    public void Focus_space_to_depth_with_strided_slices()
    {
        var x = Torch.Arange(16.0).Reshape(1, 1, 4, 4);
        // torch.cat([x[..., ::2, ::2], x[..., 1::2, ::2], x[..., ::2, 1::2], x[..., 1::2, 1::2]], 1)   (YOLOv5's Focus)
        var y = Torch.Cat([x["..., ::2, ::2"], x["..., 1::2, ::2"], x["..., ::2, 1::2"], x["..., 1::2, 1::2"]], 1);
        Assert.Equal(new Shape([1, 4, 2, 2]), y.Shape);
        Assert.Equal([0f, 2, 8, 10, 4, 6, 12, 14, 1, 3, 9, 11, 5, 7, 13, 15], y.ToArray<float>());
        // x[0, :, 1:-1, None]
        Assert.Equal(new Shape([1, 2, 1, 4]), x["0, :, 1:-1, None"].Shape);
        Assert.Equal([4f, 5, 6, 7, 8, 9, 10, 11], x["0, :, 1:-1, None"].Contiguous().ToArray<float>());
        Assert.Contains("index \"::0\": step must be greater than zero", Assert.Throws<ArgumentException>(() => x["::0"]).Message);
        Assert.Contains("\"a\" is not an int, a slice", Assert.Throws<ArgumentException>(() => x["0, a"]).Message);
    }

    [Fact]
    public void Knowledge_distillation_kl_div_with_batchmean()
    {
        var student = Torch.Tensor(new double[,] { { 1, 2, 0.5 }, { 0, -1, 3 } });
        var teacher = Torch.Tensor(new double[,] { { 0.5, 2, 1 }, { 1, 0, 2 } });
        double T = 2;
        // F.kl_div(F.log_softmax(s / T, dim=1), F.softmax(t / T, dim=1), reduction='batchmean') * T * T
        var loss = F.KlDiv(F.LogSoftmax(student / T, 1), F.Softmax(teacher / T, 1), Reduction.BatchMean) * T * T;
        var p = (teacher / T).Softmax(1);
        var manual = (p * (p.Log() - (student / T).LogSoftmax(1))).Sum() / 2 * T * T;
        Assert.Equal(manual.Item<double>(), loss.Item<double>(), 12);
        // reduction='batchmean' belongs to kl_div only, in PyTorch and here
        Assert.Contains("reduction BatchMean is only defined for kl_div",
            Assert.Throws<ArgumentException>(() => F.MseLoss(student, teacher, Reduction.BatchMean)).Message);
        Assert.Contains("cross_entropy: reduction BatchMean is only defined for kl_div",
            Assert.Throws<ArgumentException>(() => F.CrossEntropy(student, Torch.Tensor(0L, 2L), reduction: Reduction.BatchMean)).Message);
    }

    [Fact]
    public void Attention_scores_and_nearest_neighbours()
    {
        var q = Torch.Randn([2, 3, 4], DType.Float64, new Generator(1));
        var k = Torch.Randn([2, 5, 4], DType.Float64, new Generator(2));
        // scores = torch.einsum("bqd,bkd->bqk", q, k) / math.sqrt(d)
        var scores = Torch.Einsum("bqd,bkd->bqk", q, k) / Math.Sqrt(4);
        TestUtil.Close(q.Bmm(k.Transpose(1, 2)) / 2.0, scores, 1e-12, 1e-12);
        // d = torch.cdist(a, b); knn = d.topk(2, largest=False).indices
        var a = Torch.Tensor(new double[,] { { 0, 0 }, { 5, 5 } });
        var b = Torch.Tensor(new double[,] { { 1, 0 }, { 4, 4 }, { 0, 2 }, { 6, 6 } });
        var knn = Torch.Cdist(a, b).TopK(2, largest: false).Indices;
        Assert.Equal([0L, 2L, 1L, 3L], knn.ToArray<long>());
        // torch.cosine_similarity(a, b[:2], dim=1)
        // the rows (0, 1)·(1, 0) are orthogonal, (5, 5)·(4, 4) parallel
        TestUtil.Close([0.0, 1.0], F.CosineSimilarity(Torch.Tensor(new double[,] { { 0, 1 }, { 5, 5 } }), b[":2"], dim: 1), 1e-12);
    }

    [Fact]
    public void Pooling_takes_an_int_or_a_pair_as_PyTorch()
    {
        var x = Torch.Arange(24.0).Reshape(1, 1, 4, 6);
        // F.max_pool2d(x, (2, 3))  — rectangular windows
        Assert.Equal([8f, 11, 20, 23], F.MaxPool2d(x, (2, 3)).ToArray<float>());
        // F.avg_pool2d(x, (2, 3), stride=(2, 3))
        Assert.Equal([4f, 7, 16, 19], F.AvgPool2d(x, (2, 3), stride: (2, 3)).ToArray<float>());
        // F.adaptive_avg_pool2d(x, 2) is F.adaptive_avg_pool2d(x, (2, 2))
        Assert.Equal(F.AdaptiveAvgPool2d(x, (2, 2)).ToArray<float>(), F.AdaptiveAvgPool2d(x, 2).ToArray<float>());
        Assert.Equal([8f, 11, 20, 23], F.AdaptiveMaxPool2d(x, 2).ToArray<float>());
    }

    [Fact]
    public void Convolutions_take_an_int_or_a_pair_as_PyTorch()
    {
        var x = Torch.Ones(1, 1, 5, 6);
        var w = Torch.Ones(1, 1, 3, 2);
        // F.conv2d(x, w, stride=(2, 1), dilation=2): windows 5x3 of ones, H (5 − 5)/2 + 1 = 1, W (6 − 3)/1 + 1 = 4
        var y = F.Conv2d(x, w, stride: (2, 1), dilation: 2);
        Assert.Equal(new Shape(1, 1, 1, 4), y.Shape);
        Assert.All(y.ToArray<float>(), v => Assert.Equal(6f, v));
        // nn.ConvTranspose2d(1, 1, (3, 2), stride=(2, 1), output_padding=(1, 0)): H (5 − 1)·2 + 3 + 1 = 12, W (6 − 1) + 2 = 7
        var t = new Ember.Nn.Layers.ConvTranspose2d(1, 1, (3, 2), stride: (2, 1), outputPadding: (1, 0));
        Assert.Equal(new Shape(1, 1, 12, 7), t.Call(x).Shape);
    }

    [Fact]
    public void Einsum_diagonals_and_the_new_linalg_ops()
    {
        var a = Torch.Tensor(new double[,] { { 2, 1 }, { 1, 2 } });
        // torch.einsum('ii->i', a), torch.einsum('ii', a)
        TestUtil.Close([2.0, 2.0], Torch.Einsum("ii->i", a), 0, 0);
        Assert.Equal(4.0, Torch.Einsum("ii", a).Item());
        // L, V = torch.linalg.eigh(a): [[2, 1], [1, 2]] has eigenvalues 1 and 3 (ascending), eigenvectors (1, ∓1)/√2
        var (l, v) = Torch.Linalg.Eigh(a);
        TestUtil.Close([1.0, 3.0], l, 1e-12, 1e-12);
        TestUtil.Close([0.5, 0.5], v.Select(1, 1).Square(), 1e-12, 1e-12);
        // torch.linalg.lstsq(A, B).solution: the line through (0, 1), (1, 3), (2, 5) is y = 2x + 1 exactly
        var design = Torch.Tensor(new double[,] { { 1, 0 }, { 1, 1 }, { 1, 2 } });
        var (solution, residuals, rank, _) = Torch.Linalg.Lstsq(design, Torch.Tensor(new double[,] { { 1 }, { 3 }, { 5 } }));
        TestUtil.Close([1.0, 2.0], solution, 1e-12, 1e-12);
        Assert.Equal(0, residuals.NumEl);               // gelsy, PyTorch's CPU default, leaves residuals empty
        Assert.Equal(2L, rank.Item<long>());
        // torch.linalg.pinv(a) @ a is the identity for invertible a
        TestUtil.Close(Torch.Eye(2, dtype: DType.Float64), Torch.Linalg.Pinv(a).MatMul(a), 1e-12, 1e-12);
    }

    [Fact]
    public void Bicubic_grid_sample_reproduces_the_image_on_its_own_pixels()
    {
        var x = Torch.Arange(20.0).Reshape(1, 1, 4, 5).Square();
        var identity = Torch.Tensor(new float[,] { { 1, 0, 0 }, { 0, 1, 0 } }).Unsqueeze(0);
        // F.grid_sample(x, F.affine_grid(theta, x.shape, align_corners=True), mode='bicubic', align_corners=True)
        var y = F.GridSample(x, F.AffineGrid(identity, [1, 1, 4, 5], alignCorners: true), GridSampleMode.Bicubic, alignCorners: true);
        TestUtil.Close(x, y, 1e-4, 1e-4);
    }
}
