using Ember.Tests.Reference;

namespace Ember.Tests.Tensors;

/// <summary>Torch.Creation factories, FromArray/Tensor(Array), ToArray/Item and dtype conversions.</summary>
public class TorchCreationTests
{
    [Fact]
    public void Constant_factories()
    {
        Assert.Equal(new double[6], Torch.Zeros(2, 3).ToDoubleArray());
        Assert.All(Torch.Ones(2, 3).ToDoubleArray(), v => Assert.Equal(1, v));
        Assert.All(Torch.Full([4], 2.5, DType.Float64).ToArray<double>(), v => Assert.Equal(2.5, v));
        Assert.Equal(new[] { 3L, 3L }, Torch.Full([2], 3.9, DType.Int64).ToArray<long>()); // truncates like a cast
        Assert.Equal(new Shape(2, 0, 3), Torch.Empty([2, 0, 3]).Shape);
        Assert.Equal(DType.Float32, Torch.Zeros(1).DType);
        Assert.Equal(DType.Bool, Torch.Zeros([2], DType.Bool).DType);
        var like = Torch.Randn([2, 3], DType.Float64, new Generator(1));
        Assert.Equal(like.Shape, Torch.ZerosLike(like).Shape);
        Assert.Equal(DType.Float64, Torch.OnesLike(like).DType);
        Assert.Equal(DType.Int64, Torch.FullLike(like, 2, DType.Int64).DType);
        Assert.Equal(like.Shape, Torch.EmptyLike(like).Shape);
        Assert.Equal(DType.Float64, Torch.RandLike(like).DType);
        Assert.Equal(like.Shape, Torch.RandnLike(like).Shape);
        Assert.Equal(0, Torch.Scalar(4).Rank);
    }

    [Fact]
    public void Arange_int_float_and_negative_steps_match_libtorch()
    {
        Assert.Equal(DType.Int64, Torch.Arange(5).DType);
        Assert.Equal([0L, 1, 2, 3, 4], Torch.Arange(5).ToArray<long>());
        Assert.Equal([2L, 4, 6], Torch.Arange(2, 7, 2).ToArray<long>());
        OracleCases.Check("ArangeIntNeg", Torch.Arange(10, 0, -3));
        OracleCases.Check("ArangeFloat", Torch.Arange(0.5, 2.0, 0.3), rtol: 1e-7);
        OracleCases.Check("ArangeNegStep", Torch.Arange(5.0, -1.0, -1.5), rtol: 1e-7);
        Assert.Equal(DType.Float32, Torch.Arange(4.0).DType);
        Assert.Equal([0.0, 1, 2, 3], Torch.Arange(4, DType.Float64).ToArray<double>());
        Assert.Equal(0, Torch.Arange(3, 3).NumEl);
        Assert.Equal(0, Torch.Arange(5, 0).NumEl);
        Assert.Throws<ArgumentException>(() => Torch.Arange(0, 5, 0));
    }

    [Fact]
    public void Linspace_eye_match_libtorch()
    {
        OracleCases.Check("Linspace", Torch.Linspace(-1, 2, 7), rtol: 1e-7);
        OracleCases.Check("Linspace2", Torch.Linspace(0, 1, 10), rtol: 1e-7);
        Assert.Equal([3.0], Torch.Linspace(3, 7, 1).ToDoubleArray());
        Assert.Equal(0, Torch.Linspace(0, 1, 0).NumEl);
        Assert.Equal([1.0, 0, 0, 0, 1, 0], Torch.Eye(2, 3).ToDoubleArray());
        Assert.Equal([1.0, 0, 0, 1, 0, 0], Torch.Eye(3, 2).ToDoubleArray());
        Assert.Equal(DType.Int64, Torch.Eye(2, dtype: DType.Int64).DType);
    }

    [Fact]
    public void Random_factories_have_the_right_range_and_dtype()
    {
        var g = new Generator(7);
        var r = Torch.Rand([1000], DType.Float32, g);
        Assert.All(r.ToArray<float>(), v => Assert.InRange(v, 0f, 0.99999994f));
        var i = Torch.Randint(-3, 4, [1000], g);
        Assert.Equal(DType.Int64, i.DType);
        Assert.All(i.ToArray<long>(), v => Assert.InRange(v, -3L, 3L));
        Assert.Equal(7, i.ToArray<long>().Distinct().Count());
        Assert.All(Torch.Randint(2, [50], g).ToArray<long>(), v => Assert.InRange(v, 0L, 1L));
        var p = Torch.Randperm(50, g).ToArray<long>();
        Assert.Equal(Enumerable.Range(0, 50).Select(v => (long)v), p.Order());
        Assert.NotEqual(Enumerable.Range(0, 50).Select(v => (long)v), p);
        var u = Torch.Uniform(-2, 3, [500], generator: g);
        Assert.All(u.ToDoubleArray(), v => Assert.InRange(v, -2, 3));
        var n = Torch.Normal(10, 0.5, [4000], DType.Float64, g);
        Assert.InRange(n.Mean().Item(), 9.95, 10.05);
        Assert.InRange(n.Std().Item(), 0.47, 0.53);
        Assert.Throws<ArgumentException>(() => Torch.Rand([2], DType.Int64));
        Assert.Throws<ArgumentException>(() => Torch.Randint(3, 3, [2]));
    }

    [Fact]
    public void FromArray_and_nested_arrays()
    {
        var a = Torch.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, [2, 3]);
        Assert.Equal(new Shape(2, 3), a.Shape);
        Assert.Equal(6f, a[1, 2].Item<float>());
        Assert.Equal(DType.Int64, Torch.FromArray(new[] { 1, 2 }, [2]).DType);
        Assert.Equal(DType.Bool, Torch.Tensor(true, false).DType);
        Assert.Throws<ArgumentException>(() => Torch.FromArray(new float[] { 1, 2, 3 }, [2, 2]));
        var m = Torch.Tensor(new double[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } });
        Assert.Equal(new Shape(3, 2), m.Shape);
        Assert.Equal(DType.Float64, m.DType);
        var j = Torch.Tensor(new[] { new[] { 1f, 2f, 3f }, new[] { 4f, 5f, 6f } });
        Assert.Equal(new Shape(2, 3), j.Shape);
        Assert.Equal(a.ToArray<float>(), j.ToArray<float>());
        var l = Torch.Tensor(new[] { new long[,] { { 1, 2 } }, new long[,] { { 3, 4 } } });
        Assert.Equal(new Shape(2, 1, 2), l.Shape);
        Assert.Equal([1L, 2, 3, 4], l.ToArray<long>());
        Assert.Equal([long.MaxValue], Torch.Tensor(new long[,] { { long.MaxValue } }).Reshape(-1).ToArray<long>());
        Assert.Throws<ArgumentException>(() => Torch.Tensor(new[] { new[] { 1f, 2f }, new[] { 3f } }));
        // the tensor owns a copy
        var data = new float[] { 1, 2 };
        var t = Torch.Tensor(data);
        data[0] = 9;
        Assert.Equal(1f, t[0].Item<float>());
    }

    [Fact]
    public void ToArray_and_Item_check_the_dtype()
    {
        var x = Torch.Tensor(1.5f, 2.5f);
        Assert.Equal([1.5f, 2.5f], x.ToArray<float>());
        Assert.Throws<InvalidOperationException>(() => x.ToArray<double>());
        Assert.Equal(2.5, x[1].Item());
        Assert.Equal(2.5, x[1].Item<double>());
        Assert.Equal(2L, x[1].Item<long>());
        Assert.Throws<InvalidOperationException>(() => x.Item());
        Assert.Equal([2.5f, 1.5f], x.Flip(0).ToArray<float>());
        Assert.Equal([1.5f], x.Slice(0, 0, 2, 2).ToArray<float>());
    }

    [Fact]
    public void To_converts_with_truncation_and_bool_semantics()
    {
        OracleCases.Check("ToLong", Torch.Tensor(1.7f, -1.7f, 2.5f, -0.2f).To(DType.Int64));
        Assert.Equal([true, false, true, true], Torch.Tensor(0.5f, 0f, -2f, float.NaN).To(DType.Bool).ToArray<bool>());
        Assert.Equal([1.0, 0.0], Torch.Tensor(true, false).To(DType.Float64).ToArray<double>());
        Assert.Equal([3L, 0L], Torch.Tensor(3L, 0L).To(DType.Bool).To(DType.Int64).Mul(Torch.Tensor(3L, 3L)).ToArray<long>());
        Assert.Equal([9007199254740993L], Torch.Tensor(9007199254740993L).To(DType.Int64).ToArray<long>());
        var x = Torch.Tensor(1f);
        Assert.Same(x, x.To(DType.Float32));
        Assert.Equal(0.1f, Torch.Tensor(0.1).To(DType.Float32).Item<float>());
    }
}
