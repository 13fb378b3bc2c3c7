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
}
