using System.Runtime.CompilerServices;
using Ember.Autograd;
using Ember.Backends.Cpu;
using Ember.Models;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Optim;

namespace Ember.Tests.Autograd;

/// <summary>
/// The backward pass returns its gradient temporaries to the storage pool early (GradientRelease). A wrong return would
/// corrupt results silently, so each case runs three ways and must give the same bits: pooling off, pooling on with
/// returned buffers quarantined (filled with NaN and never reused, so a read after the return shows), and pooling on.
/// </summary>
[Collection(Ember.Tests.Tensors.StoragePoolCollection.Name)]
public class GradientReleaseTests
{
    const int Large = 1 << 16;   // 256 KiB of float32: pooled

    enum Mode { PoolOff, Quarantine, PoolOn }

    static (float[] Result, long Returned) RunIn(Mode mode, Func<float[]> work)
    {
        long returned0 = StoragePool.EarlyReturns;
        try
        {
            Torch.PoolStorage = mode != Mode.PoolOff;
            StoragePool.QuarantineReturned = mode == Mode.Quarantine;
            return (work(), StoragePool.EarlyReturns - returned0);
        }
        finally
        {
            StoragePool.QuarantineReturned = StoragePool.QuarantineByDefault;
            Torch.PoolStorage = true;
        }
    }

    /// <summary>Runs <paramref name="work"/> in the three modes; asserts identical bits and returns the returned-buffer counts.</summary>
    static long[] AssertSameBitsInEveryMode(Func<float[]> work)
    {
        var (reference, _) = RunIn(Mode.PoolOff, work);
        var returned = new long[2];
        int i = 0;
        foreach (var mode in new[] { Mode.Quarantine, Mode.PoolOn })
        {
            var (result, count) = RunIn(mode, work);
            Assert.Equal(reference.Length, result.Length);
            for (int k = 0; k < reference.Length; k++)
                Assert.True(BitConverter.SingleToInt32Bits(reference[k]) == BitConverter.SingleToInt32Bits(result[k]),
                    $"{mode}: element {k} is {result[k]:R}, pooling off gave {reference[k]:R}");
            returned[i++] = count;
        }
        return returned;
    }

    // Pool buffers rented by the backward of the loss that makeLoss builds, with gradient release off minus on.
    static long BuffersSavedByRelease(Func<Tensor> makeLoss)
    {
        long Rents(bool release)
        {
            GradientRelease.Enabled = release;
            try
            {
                var loss = makeLoss();
                long before = StoragePool.Hits + StoragePool.Misses;
                loss.Backward();
                return StoragePool.Hits + StoragePool.Misses - before;
            }
            finally { GradientRelease.Enabled = true; }
        }
        return Rents(release: false) - Rents(release: true);
    }

    // Allocates and fills same-size buffers, so a buffer returned too early would be overwritten before it is read.
    static void Churn(int n)
    {
        for (int i = 0; i < 4; i++) GC.KeepAlive(Torch.Full([n], 1e6f + i));
    }

    /// <summary>
    /// <paramref name="steps"/> training steps of <paramref name="model"/> on <paramref name="x"/> (labels i mod 10), each
    /// followed by <see cref="Churn"/> of <paramref name="churn"/> elements if set; the losses, then every parameter.
    /// </summary>
    static float[] TrainAndRead(Ember.Nn.Module model, Tensor x, Optimizer optimizer, int steps, int churn = 0)
    {
        int batch = x.Shape[0];
        var y = Torch.FromArray(Enumerable.Range(0, batch).Select(i => (long)(i % 10)).ToArray(), [batch]);
        var values = new List<float>();
        for (int step = 0; step < steps; step++)
        {
            optimizer.ZeroGrad();
            var loss = F.CrossEntropy(model.Call(x), y);
            loss.Backward();
            optimizer.Step();
            values.Add(loss.Item<float>());
            if (churn > 0) Churn(churn);
        }
        foreach (var p in model.Parameters()) values.AddRange(p.Detach().Contiguous().ToArray<float>());
        return values.ToArray();
    }

    [Fact]
    public void A_cnn_training_run_gives_the_same_bits_with_early_release_as_without_pooling()
    {
        var returned = AssertSameBitsInEveryMode(() =>
        {
            Torch.ManualSeed(5);
            var model = new FashionCnn();
            var x = Torch.Randn([16, 1, 28, 28]);   // 16·32·28·28 floats per activation: pooled
            return TrainAndRead(model, x, new Adam(model.Parameters(), new AdamOptions { LearningRate = 1e-3 }), steps: 3);
        });
        Assert.All(returned, count => Assert.True(count >= 3 * 6, $"expected the backward passes to return their temporaries, got {count}"));
    }

    [Fact]
    public void An_mlp_with_32_to_128_KiB_activations_gives_the_same_bits_with_early_release_as_without_pooling()
    {
        // Batch 32 × 256..1024 features: 32-128 KiB per activation and gradient, pooled only since the pool's threshold
        // came down from 128 KiB (session 22), so the backward pass now returns them early too.
        var returned = AssertSameBitsInEveryMode(() =>
        {
            Torch.ManualSeed(7);
            var model = new Ember.Nn.Sequential(new Linear(256, 1024), new ReLU(), new Linear(1024, 256), new Tanh(), new Linear(256, 10));
            var x = Torch.Randn([32, 256]);
            return TrainAndRead(model, x, new Sgd(model.Parameters(), new SgdOptions { LearningRate = 0.05, Momentum = 0.9 }), steps: 4, churn: 32 * 1024);
        });
        Assert.All(returned, count => Assert.True(count >= 4 * 3, $"expected the backward passes to return their temporaries, got {count}"));
    }

    [Fact]
    public void A_gradient_seen_by_a_tensor_hook_is_not_returned()
    {
        var returned = AssertSameBitsInEveryMode(() =>
        {
            var x = (Torch.Arange((double)Large) * 1e-4).Detach();
            x.RequiresGrad = true;
            var h = x * 2;
            Tensor? kept = null;
            using var hook = h.RegisterHook(g => { kept = g; return null; });
            (h * h * 3).Sum().Backward();
            Churn(Large);
            return [.. kept!.ToArray<float>(), .. x.Grad!.ToArray<float>()];
        });
        Assert.All(returned, count => Assert.True(count > 0, "the product's own temporaries should still be returned"));
    }

    [Fact]
    public void The_retained_gradient_of_an_intermediate_is_not_returned()
    {
        AssertSameBitsInEveryMode(() =>
        {
            var x = (Torch.Arange((double)Large) * 1e-4).Detach();
            x.RequiresGrad = true;
            var h = (x * 2).Exp();
            h.RetainGrad();
            (h * h).Sum().Backward();
            Churn(Large);
            return [.. h.Grad!.ToArray<float>(), .. x.Grad!.ToArray<float>()];
        });
    }

    sealed class StashGradient : Function
    {
        public Tensor? GradOutput, GradInput;
        public override Tensor Forward(FunctionContext ctx, Tensor[] inputs) => inputs[0] * 1;
        public override Tensor?[] Backward(FunctionContext ctx, Tensor gradOutput)
        {
            GradOutput = gradOutput;
            GradInput = gradOutput * 5;
            return [GradInput];
        }
    }

    [Fact]
    public void Gradients_that_pass_through_a_custom_function_are_not_returned()
    {
        AssertSameBitsInEveryMode(() =>
        {
            var x = (Torch.Arange((double)Large) * 1e-4).Detach();
            x.RequiresGrad = true;
            var stash = new StashGradient();
            var y = stash.Apply(x.Sin() * 2);
            (y * y).Sum().Backward();
            Churn(Large);
            return [.. stash.GradOutput!.ToArray<float>(), .. stash.GradInput!.ToArray<float>(), .. x.Grad!.ToArray<float>()];
        });
    }

    [Fact]
    public void A_gradient_returned_for_two_inputs_or_as_a_view_is_counted_once_per_use()
    {
        AssertSameBitsInEveryMode(() =>
        {
            var x = (Torch.Arange(2.0 * Large) * 1e-5).Reshape([2, Large]).Detach();
            x.RequiresGrad = true;
            var a = x * 2;
            var b = x.Exp();
            var c = (a + b).Reshape([Large, 2]).T;   // the add's gradient goes to a and b; reshape and T hand back views
            var d = (c * c).Sum() + (a * b).Sum();
            d.Backward();
            Churn(2 * Large);
            return x.Grad!.ToArray<float>();
        });
    }

    [Fact]
    public void A_gradient_the_engine_alone_holds_takes_the_next_one_in_place()
    {
        // y feeds four consumers: its three later gradients are added into the first one's buffer (no new buffer each),
        // except where that buffer is shared (x·x's backward returns one gradient for both inputs: held twice)
        float[] Run()
        {
            var x = (Torch.Arange((double)Large) * 1e-5 - 0.3).Detach();
            x.RequiresGrad = true;
            var y = x * 1.5;
            var loss = (y.Exp() + y.Sin() + y.Tanh() * y).Sum() + (x * x).Sum();
            loss.Backward();
            Churn(Large);
            return x.Grad!.ToArray<float>();
        }
        AssertSameBitsInEveryMode(Run);
        var grad = Run();
        for (int i = 0; i < Large; i += 1009)
        {
            double xi = (float)(i * 1e-5 - 0.3), yi = (float)(xi * 1.5), th = Math.Tanh(yi);
            double expected = 1.5 * (Math.Exp(yi) + Math.Cos(yi) + (1 - th * th) * yi + th) + 2 * xi;
            Assert.Equal(expected, grad[i], 2e-5 * Math.Max(1, Math.Abs(expected)));
        }

        // y's pending gradient takes three more: three buffers fewer than adding out of place
        Assert.Equal(3, BuffersSavedByRelease(() =>
        {
            var x = (Torch.Arange((double)Large) * 1e-5).Detach();
            x.RequiresGrad = true;
            var y = x * 1.5;
            return (y.Exp() + y.Sin() + y.Tanh() * y).Sum();
        }));
    }

    [Fact]
    public void A_batch_norm_writes_dx_over_its_output_gradient_only_when_the_engine_alone_holds_it()
    {
        // y1's gradient (mul's backward, fresh) is the BN+SiLU backward's to write dx over; y2 + y3 hands both BN nodes one
        // gradient (held twice), which neither may write; pooling off (no tracked buffers) writes over none
        int[] shape = [4, 4, 64, 64];
        Tensor Data(int seed, double scale, double shift) => (Torch.Randn(shape, DType.Float64, new Generator(seed)) * scale + shift).To(DType.Float32);
        Tensor Channel(int seed) => (Torch.Randn([4], DType.Float64, new Generator(seed)) * 0.5 + 1).To(DType.Float32).RequiresGradInPlace();
        float[] Run()
        {
            var xs = new[] { Data(1, 2, 0.5), Data(2, 1, -1), Data(3, 3, 0) };
            foreach (var x in xs) x.RequiresGrad = true;
            var w = Channel(4);
            var b = Channel(5);
            var r1 = Data(6, 1, 0);
            var r2 = Data(7, 1, 0);
            var y1 = Ember.Ops.BatchNormOps.Training(xs[0], w, b, 1e-3, silu: true).Output;
            var y2 = Ember.Ops.BatchNormOps.Training(xs[1], w, b, 1e-3).Output;
            var y3 = Ember.Ops.BatchNormOps.Training(xs[2], w, b, 1e-3, silu: true).Output;
            ((y1 * r1).Sum() + ((y2 + y3) * r2).Sum()).Backward();
            Churn(Large);
            return [.. xs.SelectMany(x => x.Grad!.ToArray<float>()), .. w.Grad!.ToArray<float>(), .. b.Grad!.ToArray<float>()];
        }
        AssertSameBitsInEveryMode(Run);

        // the seed is the caller's: never written over, though nothing else in the pass holds it
        var x0 = Data(8, 2, 1);
        x0.RequiresGrad = true;
        var seed = Data(9, 1, 0);
        var before = seed.ToArray<float>();
        Ember.Ops.BatchNormOps.Training(x0, null, null, 1e-3, silu: true).Output.Backward(seed);
        Assert.Equal(before, seed.ToArray<float>());

        // dx takes the buffer of the gradient it was given: one activation-sized buffer fewer
        Assert.Equal(1, BuffersSavedByRelease(() =>
        {
            var x = Data(10, 2, 0.5);
            x.RequiresGrad = true;
            return (Ember.Ops.BatchNormOps.Training(x, null, null, 1e-3, silu: true).Output * Data(11, 1, 0)).Sum();
        }));
    }

    [Fact]
    public void Backward_with_create_graph_gives_the_same_bits_in_every_mode()
    {
        // create_graph keeps the gradients in the new graph: the engine must return none of them early
        AssertSameBitsInEveryMode(() =>
        {
            var x = (Torch.Arange((double)Large) * 1e-4).Detach();
            x.RequiresGrad = true;
            var h = (x * 2).Exp();
            (h * h).Sum().Backward(createGraph: true);
            var first = x.Grad!;
            x.Grad = null;
            first.Sum().Backward();
            Churn(Large);
            return [.. first.ToArray<float>(), .. x.Grad!.ToArray<float>()];
        });
    }

    [Fact]
    public void The_temporaries_a_backward_function_makes_go_back_to_the_pool_when_it_returns()
    {
        // AtanBackward0 is g / (x·x + 1): x·x and x·x + 1 are its temporaries, its result becomes x.Grad (kept)
        var returned = AssertSameBitsInEveryMode(() =>
        {
            var x = (Torch.Arange((double)Large) * 1e-4 - 3).Detach();
            x.RequiresGrad = true;
            x.Atan().Backward(Torch.OnesLike(x));
            Churn(Large);
            var grad = x.Grad!.ToArray<float>();
            for (int i = 0; i < Large; i += 997)
            {
                double xi = i * 1e-4 - 3;
                Assert.Equal(1 / (1 + xi * xi), grad[i], 1e-6);
            }
            return grad;
        });
        Assert.Equal([2L, 2L], returned);
    }

    [Fact]
    public void A_gradient_that_is_a_view_of_a_backward_functions_temporary_is_not_returned()
    {
        // A linear layer on [batch, tokens, features] input: the input's gradient is the matrix product's result (a
        // temporary of the backward) reshaped to the input's shape, a view into it; it goes on to the layers below.
        AssertSameBitsInEveryMode(() =>
        {
            Torch.ManualSeed(3);
            var first = new Linear(256, 256);
            var second = new Linear(256, 256);
            var x = Torch.Randn([4, 64, 256]);   // 256 KiB per activation and gradient: pooled
            x.RequiresGrad = true;
            var loss = second.Call(first.Call(x).Tanh()).Square().Mean();
            loss.Backward();
            Churn(4 * 64 * 256);
            return [.. x.Grad!.ToArray<float>(), .. first.Weight.Grad!.ToArray<float>()];
        });
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    static void VariableLengthStep(Tensor w, int n, List<float> values)
    {
        var x = (Torch.Arange((double)n) * 1e-4).Detach();
        x.RequiresGrad = true;
        var loss = ((x * 2).Exp() * w.Narrow(0, 0, n)).Sum();
        loss.Backward();
        values.Add(loss.Item<float>());
        values.AddRange(x.Grad!.ToArray<float>());
        Churn(n + 7);
    }

    [Fact]
    public void A_loss_whose_length_changes_every_step_gives_the_same_bits_in_every_mode_and_stops_missing_the_pool()
    {
        // 33-39 KiB tensors (one size class, 40 KiB) of a new length each step, as the YOLO loss's: the buffers of the last
        // step are longer than this step's tensors, so a kernel reading past its tensor's end, or a gradient adopted or
        // returned by the buffer's length instead of the tensor's, would show in the bits.
        long misses = -1, induced = -1;
        var returned = AssertSameBitsInEveryMode(() =>
        {
            Torch.ManualSeed(11);
            var w = Torch.Randn([10_000]);
            var values = new List<float>();
            long misses0 = 0, induced0 = 0;
            for (int step = 0; step < 6; step++)
            {
                VariableLengthStep(w, 8_448 + step * 181 % 1_300, values);
                // the step's dead buffers come back at the next rent
                StoragePool.ReleaseRing();
                GC.Collect();
                if (step == 0) (misses0, induced0) = (StoragePool.Misses, StoragePool.InducedCollections);
            }
            (misses, induced) = (StoragePool.Misses - misses0, StoragePool.InducedCollections - induced0);
            return values.ToArray();
        });
        Assert.All(returned, count => Assert.True(count >= 6 * 2, $"expected the backward passes to return their temporaries, got {count}"));
        // pooling on (the last mode run): every later step finds the first step's buffers, longer than it needs
        // (by exact length each of its ~10 pooled allocations missed)
        Assert.Equal(0, misses);
        Assert.Equal(0, induced);
    }

    [Fact]
    public void Reading_a_returned_storage_throws_instead_of_reading_another_tensors_values()
    {
        var t = Torch.Full([Large], 3f);
        StoragePool.Return((PooledStorage)t.storage);
        var e = Assert.Throws<InvalidOperationException>(() => t.ToArray<float>());
        Assert.Contains("after it was returned to the pool", e.Message);
    }
}
