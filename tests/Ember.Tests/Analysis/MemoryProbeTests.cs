using Ember.Analysis;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;

namespace Ember.Tests.Analysis;

/// <summary>
/// The probe switches the process-wide storage pool off while it measures and samples the heap's live bytes, so these
/// tests run alone (other tests' allocations would change what the heap holds).
/// </summary>
[Collection(Tensors.StoragePoolCollection.Name)]
public class MemoryProbeTests
{
    const int Width = 256;

    static Module Mlp() => new Sequential(new Linear(64, Width), new ReLU(), new Dropout(0.5), new Linear(Width, 10));

    static (Tensor, Tensor) Batch(int n) => (Torch.Zeros(n, 64), Torch.Zeros([n], DType.Int64));

    static long StepAllocation(Module model, int n)
    {
        var (input, target) = Batch(n);
        long before = GC.GetAllocatedBytesForCurrentThread();
        F.CrossEntropy(model.Call(input), target).Backward();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    [Fact]
    public void A_training_step_allocates_what_the_line_through_two_small_batches_predicts_for_a_large_one()
    {
        var line = MemoryProbe.TrainingStep(() => (Mlp(), (output, target) => F.CrossEntropy(output, target)), Batch);
        // kept for backward per sample: the two linear outputs, the ReLU's and the dropout's (4 bytes each)
        Assert.True(line.PerSample >= 4.0 * (3 * Width + 10), $"{line.PerSample} bytes per sample");
        // the gradients of the 64·256 + 256 + 256·10 + 10 weights are allocated once per step, whatever the batch
        Assert.True(line.Fixed >= 4.0 * (64 * Width + Width + Width * 10 + 10), $"{line.Fixed} bytes fixed");
        var model = Mlp();
        bool pooled = Torch.PoolStorage;
        Torch.PoolStorage = false;
        try
        {
            StepAllocation(model, 256);
            long measured = StepAllocation(model, 256);
            // the line counts the batch too (made inside the step): 64 floats and a label per sample
            Assert.True(Math.Abs(measured + 256 * (4 * 64 + 8) - line.At(256)) < 0.02 * measured, $"a step of 256 allocated {measured} bytes, the line says {line.At(256):F0}");
        }
        finally { Torch.PoolStorage = pooled; }
    }

    [Fact]
    public void The_probe_leaves_the_generator_and_the_pool_as_they_were()
    {
        Torch.ManualSeed(7);
        var before = Generator.Default.GetState();
        Assert.True(Torch.PoolStorage);
        // building the model draws its initial weights, the dropout draws its masks: both from the default generator
        MemoryProbe.TrainingStep(() => (Mlp(), (output, target) => F.CrossEntropy(output, target)), Batch);
        Assert.Equal(before.Words, Generator.Default.GetState().Words);
        Assert.True(Torch.PoolStorage);
        var model = Mlp();
        model.Train(); // the probe runs it in eval mode: its dropout draws nothing, and the mode comes back
        Torch.ManualSeed(7);
        var expected = Torch.Rand(4).ToArray<float>();
        Torch.ManualSeed(7);
        MemoryProbe.Inference(model, Batch);
        Assert.True(model.Training);
        Assert.Equal(expected, Torch.Rand(4).ToArray<float>());
    }

    [Fact]
    public void An_inference_holds_a_few_layer_outputs_at_once_and_allocates_all_of_them()
    {
        var layers = new List<Module> { new Linear(64, Width) };
        for (int i = 0; i < 7; i++) layers.AddRange([new ReLU(), new Linear(Width, Width)]);
        var model = new Sequential([.. layers]);
        model.Train();
        // batches of 64 and 128: a sample's layer output (1 KiB) is then well above what the heap's bookkeeping moves
        var allocated = MemoryProbe.Inference(model, Batch, samples: 64, held: false);
        var held = MemoryProbe.Inference(model, Batch, samples: 64);
        Assert.True(model.Training); // the mode is restored
        // 15 outputs of Width floats per sample are allocated; a layer's input and output are held at once, and a few
        // more that the callers' frames still reference (3.6 outputs' worth when this was written), not all 15
        Assert.True(allocated.PerSample >= 4.0 * 15 * Width, $"{allocated.PerSample} bytes allocated per sample");
        Assert.True(held.PerSample >= 4.0 * 2 * Width && held.PerSample <= 4.0 * 5 * Width, $"{held.PerSample} bytes held per sample");
    }
}
