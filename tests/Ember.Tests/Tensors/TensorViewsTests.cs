namespace Ember.Tests.Tensors;

/// <summary>Tensor.Views and TensorIndex: views share storage and writes show through; copies only where PyTorch copies.</summary>
public class TensorViewsTests
{
    static Tensor Grid => Torch.Arange(0.0, 24.0).Reshape(2, 3, 4);

    [Fact]
    public void Narrow_select_transpose_slice_expand_share_storage_and_writes_show_through()
    {
        var x = Grid;
        var n = x.Narrow(2, 1, 2);
        var s = x.Select(1, 2);
        var t = x.Transpose(0, 2);
        var st = x.Slice(2, 0, 4, 2);
        var e = x.Select(0, 0).Select(0, 0).Unsqueeze(0).Expand(5, 4);
        foreach (var v in new[] { n, s, t, st, e }) Assert.Same(x.storage, v.storage);
        n.FillInPlace(-1);
        Assert.Equal(-1, x[0, 0, 1].Item());
        Assert.Equal(-1, x[1, 2, 2].Item());
        s.MulInPlace(Torch.Scalar(0f));
        Assert.Equal(0, x[1, 2, 3].Item());
        t[3, 1, 0].FillInPlace(42);
        Assert.Equal(42, x[0, 1, 3].Item());
        st[.., .., 1].FillInPlace(7);          // x[..., 2]
        Assert.Equal(7, x[1, 0, 2].Item());
        Assert.Equal(x[0, 0].ToDoubleArray(), e[4].ToDoubleArray());
        Assert.Equal(new[] { 0, 1 }, e.Strides);
    }

    [Fact]
    public void View_of_a_non_viewable_layout_errors_while_reshape_copies()
    {
        var t = Grid.Transpose(1, 2);           // [2, 4, 3], non-contiguous
        var ex = Assert.Throws<InvalidOperationException>(() => t.View(24));
        Assert.Contains("view", ex.Message);
        Assert.Contains("[24]", ex.Message);
        var r = t.Reshape(24);
        Assert.NotSame(t.storage, r.storage);
        Assert.Equal(t.Contiguous().ToDoubleArray(), r.ToDoubleArray());
        // viewable non-contiguous reshapes stay views
        var v = Grid.Transpose(0, 1).View(3, 2, 2, 2);
        Assert.Same(Grid.storage.GetType(), v.storage.GetType());
        var g = Grid;
        Assert.Same(g.storage, g.Transpose(0, 1).View(3, 2, 2, 2).storage);
        Assert.Same(g.storage, g.View(-1, 4).storage);
        Assert.Equal(new Shape(6, 4), g.View(-1, 4).Shape);
    }

    [Fact]
    public void Contiguous_returns_self_when_contiguous_and_a_copy_otherwise()
    {
        var x = Grid;
        Assert.Same(x, x.Contiguous());
        var t = x.Permute(2, 0, 1);
        Assert.False(t.IsContiguous);
        var c = t.Contiguous();
        Assert.True(c.IsContiguous);
        Assert.NotSame(x.storage, c.storage);
        Assert.Equal(new[] { 6, 3, 1 }, c.Strides);
        Assert.Equal(t[3, 1, 2].Item(), c[3, 1, 2].Item());
        Assert.True(Torch.Zeros(0, 3).T.IsContiguous);
    }

    [Fact]
    public void T_and_MT()
    {
        var x = Grid;
        Assert.Equal(new Shape(4, 3, 2), x.T.Shape);
        Assert.Equal(x[1, 2, 3].Item(), x.T[3, 2, 1].Item());
        Assert.Equal(new Shape(2, 4, 3), x.MT.Shape);
        Assert.Equal(x[1, 2, 3].Item(), x.MT[1, 3, 2].Item());
        var v = Torch.Arange(3);
        Assert.Same(v, v.T);
        Assert.Throws<InvalidOperationException>(() => v.MT);
    }

    [Fact]
    public void Flatten_unflatten_squeeze_unsqueeze()
    {
        var x = Grid;
        Assert.Equal(new Shape(24), x.Flatten().Shape);
        Assert.Equal(new Shape(2, 12), x.Flatten(1).Shape);
        Assert.Equal(new Shape(6, 4), x.Flatten(0, 1).Shape);
        Assert.Equal(new Shape(1), Torch.Scalar(3).Flatten().Shape);
        Assert.Equal(new Shape(2, 3, 2, 2), x.Unflatten(2, 2, 2).Shape);
        Assert.Equal(new Shape(2, 3, 2, 2), x.Unflatten(-1, -1, 2).Shape);
        Assert.Throws<ArgumentException>(() => x.Unflatten(2, 3, 2));
        var u = x.Unsqueeze(1).Unsqueeze(-1);
        Assert.Equal(new Shape(2, 1, 3, 4, 1), u.Shape);
        Assert.Equal(new Shape(2, 3, 4), u.Squeeze().Shape);
        Assert.Equal(new Shape(2, 3, 4, 1), u.Squeeze(1).Shape);
        Assert.Equal(new Shape(2, 1, 3, 4, 1), u.Squeeze(0).Shape);  // non-1 dims are left alone
        Assert.Same(x.storage, u.Squeeze().storage);
    }

    [Fact]
    public void Indexer_supports_ints_ranges_steps_ellipsis_newaxis_and_from_end()
    {
        var x = Grid; // value = 12 i + 4 j + k
        Assert.Equal(23, x[^1, ^1, ^1].Item());
        Assert.Equal(new Shape(2, 2), x[.., 1, 1..3].Shape);
        Assert.Equal([5.0, 6, 17, 18], x[.., 1, 1..3].ToDoubleArray());
        Assert.Equal([8.0, 10, 20, 22], x[TensorIndex.Ellipsis, 2, TensorIndex.Slice(step: 2)].ToDoubleArray());
        Assert.Equal(new Shape(2, 1, 3, 4), x[.., TensorIndex.NewAxis].Shape);
        Assert.Equal(new Shape(2, 3, 1), x[TensorIndex.Ellipsis, 1, TensorIndex.NewAxis].Shape);
        Assert.Equal([13.0, 17, 21], x[-1, .., -3].ToDoubleArray());
        Assert.Equal([3.0, 7, 11], x[0, .., ^1].ToDoubleArray());
        Assert.Equal([1.0, 2], x[0, 0, 1..^1].ToDoubleArray());
        Assert.Equal([16.0, 17, 18, 19], x[1, ^2].ToDoubleArray());
        Assert.Equal([1.0, 3], x[0, 0, TensorIndex.Slice(1, null, 2)].ToDoubleArray());
        Assert.Equal([0.0, 4], x[0, TensorIndex.Slice(-5, 2), 0].ToDoubleArray()); // bounds clamp like Python
        Assert.Equal(new Shape(2, 3, 0), x[.., .., 3..1].Shape);
        Assert.Equal(new Shape(2, 3, 0), x[.., .., ^0..].Shape);
        Assert.Same(x.storage, x[1, .., 1..].storage);
        Assert.Throws<IndexOutOfRangeException>(() => x[0, 0, 0, 0]);
        Assert.Throws<ArgumentException>(() => x[TensorIndex.Ellipsis, 0, TensorIndex.Ellipsis]);
    }

    [Fact]
    public void Slices_with_steps_compose()
    {
        var v = Torch.Arange(20);
        var s = v.Slice(0, 1, 20, 3).Slice(0, 1, 10, 2);  // 1,4,7,10,13,16,19 → 4,10,16
        Assert.Equal([4L, 10, 16], s.ToArray<long>());
        Assert.Equal(new[] { 6 }, s.Strides);
        Assert.Equal(4, s.StorageOffset);
    }

    [Fact]
    public void Views_record_backward_into_the_right_places()
    {
        var x = Torch.Zeros([3, 4], DType.Float64).RequiresGradInPlace();
        (x[1..3, TensorIndex.Slice(step: 2)] * 2.0).Sum().Backward();
        Assert.Equal([0.0, 0, 0, 0, 2, 0, 2, 0, 2, 0, 2, 0], x.Grad!.ToDoubleArray());
        x.Grad = null;
        x.T.Expand(2, 4, 3).Sum().Backward();
        Assert.All(x.Grad!.ToDoubleArray(), g => Assert.Equal(2.0, g));
    }
}
