using Ember.Backends.Cpu;
using Ember.Data;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;

namespace Ember.Tests.Tensors;

/// <summary>
/// Tensor.Dispose: the handle ends at once, and its buffer goes back to the storage pool at once only where nothing
/// else can read it. The pool's counters say whether it went back (EarlyReturns) and was rented again (Hits).
/// </summary>
[Collection(StoragePoolCollection.Name)]
public class TensorDisposeTests
{
    // Pooled sizes no other test of this collection uses, so a buffer of them can only come from these tests.
    const int Large = (1 << 16) + 29;
    const int Huge = (4 << 20) + 29;   // 16 MB of float32: at least half the L3 here (StoragePool.LargeBufferBytes)

    static Tensor Input(int seed, int n) => Torch.Randn([n], generator: new Generator(seed));

    // Returned buffers reused, not quarantined (EMBER_POOL_QUARANTINE=1 fills and retires them), for the test's length.
    static T WithReuse<T>(Func<T> work)
    {
        try
        {
            StoragePool.QuarantineReturned = false;
            return work();
        }
        finally { StoragePool.QuarantineReturned = StoragePool.QuarantineByDefault; }
    }

    [Fact]
    public void A_disposed_sole_handle_gives_its_buffer_to_the_next_tensor_of_its_size()
    {
        WithReuse(() =>
        {
            Tensor a = Input(1, Large), b = Input(2, Large);
            var c = a + b;
            var buffer = c.storage.Data;
            long returned = StoragePool.EarlyReturns, hits = StoragePool.Hits;
            c.Dispose();
            Assert.Equal(returned + 1, StoragePool.EarlyReturns);
            var d = a * b;
            Assert.Same(buffer, d.storage.Data);
            Assert.Equal(hits + 1, StoragePool.Hits);
            // the reused buffer holds d's values, computed element by element here
            float[] av = a.ToArray<float>(), bv = b.ToArray<float>(), dv = d.ToArray<float>();
            for (int i = 0; i < Large; i++) Assert.Equal(av[i] * bv[i], dv[i]);
            // a second Dispose of c must not hand back the buffer d now owns
            c.Dispose();
            Assert.Equal(returned + 1, StoragePool.EarlyReturns);
            var e = a - b;
            Assert.NotSame(buffer, e.storage.Data);
            return 0;
        });
    }

    public enum BenchOp { Add, MulByRow, MulByColumn, LayerNormModule, Softmax, GeluErf, GeluTanh, Silu }

    // The ops whose bench rows dispose each output (bench OutputDisposal): each hands its output back, no view of it kept.
    [Theory]
    [InlineData(BenchOp.Add)]
    [InlineData(BenchOp.MulByRow)]
    [InlineData(BenchOp.MulByColumn)]
    [InlineData(BenchOp.LayerNormModule)]
    [InlineData(BenchOp.Softmax)]
    [InlineData(BenchOp.GeluErf)]
    [InlineData(BenchOp.GeluTanh)]
    [InlineData(BenchOp.Silu)]
    public void The_outputs_of_the_bench_rows_ops_come_back_on_dispose(BenchOp op)
    {
        WithReuse(() =>
        {
            const int rows = 256, cols = 257;   // 257 KiB of float32: pooled, and a size no other test uses
            var x = Torch.Randn([rows, cols], generator: new Generator(13));
            var norm = new LayerNorm(cols);
            Func<Tensor> call = op switch
            {
                BenchOp.Add => () => x + x,
                BenchOp.MulByRow => () => x * Torch.Ones([cols]),
                BenchOp.MulByColumn => () => x * Torch.Ones([rows, 1]),
                BenchOp.LayerNormModule => () => norm.Call(x),
                BenchOp.Softmax => () => x.Softmax(1),
                BenchOp.GeluErf => () => F.Gelu(x),
                BenchOp.GeluTanh => () => F.Gelu(x, GeluApproximate.Tanh),
                _ => () => F.Silu(x),
            };
            using (Torch.NoGrad())
            {
                var first = call();
                var buffer = first.storage.Data;
                long returned = StoragePool.EarlyReturns;
                first.Dispose();
                Assert.Equal(returned + 1, StoragePool.EarlyReturns);
                using var second = call();
                Assert.Same(buffer, second.storage.Data);
            }
            return 0;
        });
    }

    public enum SecondReader { View, Detach, Reshape, Parameter, ModuleBuffer }

    sealed class WithBuffer : Module
    {
        public WithBuffer(Tensor buffer) => RegisterBuffer("running", buffer);
    }

    [Theory]
    [InlineData(SecondReader.View)]
    [InlineData(SecondReader.Detach)]
    [InlineData(SecondReader.Reshape)]
    [InlineData(SecondReader.Parameter)]
    [InlineData(SecondReader.ModuleBuffer)]
    public void A_buffer_that_another_handle_reads_stays_with_it(SecondReader kind)
    {
        WithReuse(() =>
        {
            var c = Input(3, Large) * 2f;
            var expected = c.ToArray<float>();
            Tensor reader = kind switch
            {
                SecondReader.View => c.View([Large, 1]),
                SecondReader.Detach => c.Detach(),
                SecondReader.Reshape => c.Reshape([1, Large]),
                SecondReader.Parameter => new Parameter(c, requiresGrad: false),
                _ => new WithBuffer(c).Buffers().Single(),
            };
            long returned = StoragePool.EarlyReturns;
            c.Dispose();
            Assert.Equal(returned, StoragePool.EarlyReturns);
            // the buffer is not handed out again: a tensor of its size written now leaves the reader's values alone
            var other = Torch.Full([Large], -5f);
            Assert.NotSame(c.StorageEvenIfDisposed.Data, other.storage.Data);
            if (kind == SecondReader.ModuleBuffer)
                Assert.Throws<ObjectDisposedException>(() => reader.ToArray<float>());   // the module's handle is the one disposed
            else Assert.Equal(expected, reader.Reshape([Large]).ToArray<float>());
            return 0;
        });
    }

    [Fact]
    public void Disposing_a_tensor_a_graph_saved_keeps_its_buffer_and_backward_gives_the_same_bits()
    {
        // w * c saves c (no grad of its own) for w's gradient; h = exp(x) is saved by h * h; both disposed before backward
        (float[] W, float[] X) Run(bool dispose)
        {
            var w = Input(4, Large).RequiresGradInPlace();
            var x = Input(5, Large).RequiresGradInPlace();
            var c = Input(6, Large) + 1f;
            var h = x.Exp();
            var loss = (w * c).Sum() + (h * h).Sum();
            if (dispose)
            {
                long returned = StoragePool.EarlyReturns;
                c.Dispose();
                h.Dispose();
                Assert.Equal(returned, StoragePool.EarlyReturns);
            }
            loss.Backward();
            return (w.Grad!.ToArray<float>(), x.Grad!.ToArray<float>());
        }
        var (wKept, xKept) = WithReuse(() => Run(dispose: false));
        var (wDisposed, xDisposed) = WithReuse(() => Run(dispose: true));
        Assert.Equal(wKept, wDisposed);
        Assert.Equal(xKept, xDisposed);
    }

    [Fact]
    public void Disposing_a_leaf_that_requires_grad_leaves_the_other_gradients_alone_and_its_own_unreachable()
    {
        (float[] X, Tensor W) Run(bool dispose)
        {
            var w = Input(7, Large).RequiresGradInPlace();
            var x = Input(8, Large).RequiresGradInPlace();
            var loss = (w * x * x).Sum();
            long returned = StoragePool.EarlyReturns;
            if (dispose) w.Dispose();
            Assert.Equal(returned, StoragePool.EarlyReturns);   // backward reads w: its buffer stays
            loss.Backward();
            return (x.Grad!.ToArray<float>(), w);
        }
        var (xKept, _) = WithReuse(() => Run(dispose: false));
        var (xDisposed, w) = WithReuse(() => Run(dispose: true));
        Assert.Equal(xKept, xDisposed);
        var error = Assert.Throws<ObjectDisposedException>(() => w.Grad);
        Assert.Contains($"shape [{Large}]", error.Message);
    }

    [Fact]
    public void A_buffer_allocated_before_an_autograd_node_stays_even_if_that_node_did_not_save_it()
    {
        // Nothing tells which tensors a backward closure holds, so any node recorded since the allocation keeps the buffer.
        WithReuse(() =>
        {
            var c = Input(9, Large) + 1f;
            var x = Torch.Ones([4]).RequiresGradInPlace();
            _ = x * 2f;
            long returned = StoragePool.EarlyReturns;
            c.Dispose();
            Assert.Equal(returned, StoragePool.EarlyReturns);
            return 0;
        });
    }

    [Theory]
    [InlineData(Large)]
    [InlineData(16)]   // small: not pooled, the handle alone ends
    public void Every_use_after_dispose_throws_naming_the_tensor(int n)
    {
        var c = Input(10, n) * 3f;
        long returned = StoragePool.EarlyReturns;
        c.Dispose();
        Assert.Equal(n == Large ? returned + 1 : returned, StoragePool.EarlyReturns);
        Assert.True(c.IsDisposed);
        Action[] uses =
        [
            () => c.ToArray<float>(),
            () => c.Add(Torch.Ones([n])),
            () => Torch.Ones([n]).Mul(c),
            () => c.Sum(),
            () => c.Reshape([1, n]),
            () => _ = c.ToString(),
            () => _ = c.Grad,
            () => c.Grad = Torch.Ones([n]),
            () => c.Backward(Torch.Ones([n])),
        ];
        foreach (var use in uses)
        {
            var error = Assert.Throws<ObjectDisposedException>(use);
            Assert.Equal($"Tensor of shape [{n}], dtype torch.float32", error.ObjectName);
        }
        Assert.Equal(new[] { n }, c.Shape.ToArray());   // its shape stays readable, for messages
    }

    [Fact]
    public void A_loop_that_disposes_each_output_reuses_one_buffer_and_induces_no_collection()
    {
        WithReuse(() =>
        {
            Tensor a = Input(11, Huge), b = Input(12, Huge);
            using (var first = a + b) { }   // the loop's buffer, allocated once
            long induced = StoragePool.InducedCollections, misses = StoragePool.Misses;
            for (int i = 0; i < 24; i++)
            {
                using var c = a + b;
            }
            Assert.Equal(induced, StoragePool.InducedCollections);
            Assert.Equal(misses, StoragePool.Misses);
            // The same loop without Dispose leaves each output to a collection: 24 × 16 MB is more than the pool lets
            // go by before it induces one (StoragePool.LargeCollectAfterRentedBytes), so the count above can move.
            Assert.True(24L * Huge * sizeof(float) > StoragePool.LargeCollectAfterRentedBytes);
            for (int i = 0; i < 24; i++) _ = a + b;
            Assert.True(StoragePool.InducedCollections > induced || StoragePool.Misses > misses);
            return 0;
        });
    }

    // DataTensors.Recycle, the data workers' hand-back: a pooled image of this shape is 271,800 bytes, a length no
    // other test of this collection uses.
    static readonly int[] ImageShape = [3, 150, 151];

    [Theory]
    [InlineData(true)]
    [InlineData(false)]   // a wrapped array: not pooled, the handle alone ends
    public void Recycle_ends_the_image_handle_whether_or_not_its_buffer_was_pooled(bool pooled)
    {
        WithReuse(() =>
        {
            var image = pooled ? DataTensors.NewPooledImage(3, 150, 151, "test", out var data) : DataTensors.Wrap(data = new float[3 * 150 * 151], ImageShape);
            data.AsSpan().Fill(0.5f);
            long returned = StoragePool.EarlyReturns;
            DataTensors.Recycle(image);
            Assert.True(image.IsDisposed);
            var error = Assert.Throws<ObjectDisposedException>(() => image.ToArray<float>());
            Assert.Equal("Tensor of shape [3, 150, 151], dtype torch.float32", error.ObjectName);
            Assert.Throws<ObjectDisposedException>(() => image * 2f);
            Assert.Equal(pooled ? returned + 1 : returned, StoragePool.EarlyReturns);
            // a pooled buffer is the next image's of its size (an unpooled one was never the pool's to give)
            var next = DataTensors.NewPooledImage(3, 150, 151, "test", out var nextData);
            if (pooled) Assert.Same(data, nextData);
            // a second Recycle does not hand back the buffer the next image owns now
            DataTensors.Recycle(image);
            Assert.Equal(pooled ? returned + 1 : returned, StoragePool.EarlyReturns);
            Assert.False(next.IsDisposed);
            return 0;
        });
    }

    [Fact]
    public void Recycle_hands_back_an_image_made_before_a_node_that_dispose_would_keep()
    {
        // A worker's image while the main thread records nodes: Dispose's rule (any node since the allocation keeps the
        // buffer) would keep it; the worker's word that no op recorded it lets it go back.
        WithReuse(() =>
        {
            var image = DataTensors.NewPooledImage(3, 150, 151, "test", out var data);
            var x = Torch.Ones([4]).RequiresGradInPlace();
            _ = x * 2f;
            long returned = StoragePool.EarlyReturns;
            DataTensors.Recycle(image);
            Assert.Equal(returned + 1, StoragePool.EarlyReturns);
            DataTensors.NewPooledImage(3, 150, 151, "test", out var nextData);
            Assert.Same(data, nextData);
            // the same image disposed keeps its buffer
            var kept = DataTensors.NewPooledImage(3, 150, 151, "test", out _);
            _ = x * 3f;
            kept.Dispose();
            Assert.Equal(returned + 1, StoragePool.EarlyReturns);
            return 0;
        });
    }

    [Fact]
    public void Recycle_keeps_the_buffer_of_an_image_that_requires_grad()
    {
        // A graph may read a tensor that requires grad whoever made it: the handle ends, the buffer is left to the collector.
        WithReuse(() =>
        {
            var image = DataTensors.NewPooledImage(3, 150, 151, "test", out _).RequiresGradInPlace();
            long returned = StoragePool.EarlyReturns;
            DataTensors.Recycle(image);
            Assert.True(image.IsDisposed);
            Assert.Equal(returned, StoragePool.EarlyReturns);
            return 0;
        });
    }
}
