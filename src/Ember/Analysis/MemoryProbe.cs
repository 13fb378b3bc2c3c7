using Ember.Nn;
using Ember.Training.Amp;

namespace Ember.Analysis;

/// <summary>
/// The bytes a step really allocates, measured on two small batches (n and 2n samples; 2 and 4 by default, since a batch
/// of one takes other paths in some ops, which made the line 13% steeper for an MLP) and extrapolated along the line
/// through them: a step's tensors grow linearly with the batch, its weight-sized buffers (gradients) do not. The runtime
/// counts the allocations (<see cref="GC.GetAllocatedBytesForCurrentThread"/>) with the storage pool off, so every tensor
/// of the step is a fresh allocation and the count is the same whatever the pool held before; it bounds the bytes the
/// step holds at once from above, and tracks what the heap grows to while the garbage collector runs seldom (it does
/// until memory runs short). A step is first run once at 2n unmeasured, so that what runs once per process (JIT, type
/// initializers, per-thread kernel buffers) is not counted.
/// The probe leaves no trace a run could see: the default generator's state is restored (dropout and initialization
/// draw from it), and the pool is on again afterwards; a training step should build its own model in
/// <c>setUp</c>, so that batch-norm statistics, gradients and optimizer state of the caller's model stay untouched.
/// </summary>
public static class MemoryProbe
{
    /// <summary>
    /// Runs <paramref name="setUp"/> (which returns the step: n samples → one forward, loss and backward, or one
    /// inference) and measures the step at <paramref name="samples"/> and twice that.
    /// </summary>
    public static MemoryLine Measure(Func<Action<int>> setUp, int samples = 2) => Measure(setUp, samples, Allocated);

    // The line through bytesOf(step at n) and bytesOf(step at 2n), after one unmeasured step at 2n.
    static MemoryLine Measure(Func<Action<int>> setUp, int samples, Func<Action, long> bytesOf)
    {
        ArgumentNullException.ThrowIfNull(setUp);
        ArgumentOutOfRangeException.ThrowIfLessThan(samples, 1);
        var generator = Generator.Default;
        var random = generator.GetState();
        PoolOff();
        try
        {
            var step = setUp();
            step(2 * samples);
            long once = bytesOf(() => step(samples)), twice = bytesOf(() => step(2 * samples));
            double perSample = Math.Max(0, (double)(twice - once) / samples);
            return new MemoryLine(Math.Max(0, once - perSample * samples), perSample);
        }
        finally
        {
            PoolBack();
            generator.SetState(random);
        }
    }

    /// <summary>
    /// One training step: forward (under <paramref name="autocast"/> when given), loss and backward, of a fresh model
    /// and its loss from <paramref name="build"/>, in training mode, on <paramref name="batch"/>(n) (made inside the
    /// step, as a loader's batch is).
    /// </summary>
    public static MemoryLine TrainingStep(Func<(Module Model, Func<Tensor, Tensor, Tensor> Loss)> build, Func<int, (Tensor Input, Tensor Target)> batch,
        AutocastDType? autocast = null, int samples = 2)
        => Measure(() =>
        {
            var (model, loss) = build();
            model.Train();
            return n =>
            {
                var (input, target) = batch(n);
                Tensor value;
                using (autocast is AutocastDType dtype ? Autocast.Enable(dtype) : null) value = loss(model.Call(input), target);
                value.Backward();
            };
        }, samples);

    /// <summary>
    /// One inference of <paramref name="model"/> in eval mode without gradients on <paramref name="batch"/>(n), with
    /// <paramref name="loss"/> of its output when given (validation's); the model's mode is restored afterwards.
    /// Inference lets go of each output once the layers after it are done with it, so what it allocates overstates what it
    /// holds (3× for a detector's batch): with <paramref name="held"/> the bytes held are measured instead, the heap's
    /// live bytes after a full collection at the end of every module's forward (about a millisecond each on a heap of a
    /// few hundred MB); without, what it allocates.
    /// </summary>
    public static MemoryLine Inference(Module model, Func<int, (Tensor Input, Tensor Target)> batch, Func<Tensor, Tensor, Tensor>? loss = null, int samples = 2,
        bool held = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        bool training = model.Training;
        model.Eval();
        long peak = 0;
        var hooks = !held ? [] : model.Modules().Select(m => m.RegisterForwardHook((_, _, _) => { peak = Math.Max(peak, Live()); return null; })).ToList();
        try
        {
            return Measure(() => n =>
            {
                var (input, target) = batch(n);
                using (Torch.NoGrad())
                {
                    var output = model.Call(input);
                    loss?.Invoke(output, target);
                }
            }, samples, !held ? Allocated : step =>
            {
                long before = Live();
                peak = before;
                step();
                return Math.Max(peak, Live()) - before;
            });
        }
        finally
        {
            foreach (var hook in hooks) hook.Dispose();
            model.Train(training);
        }
    }

    // Probes on several threads (tests) turn the pool off once and back on after the last.
    static readonly object Gate = new();
    static int probing;
    static bool pooledBefore;

    static void PoolOff()
    {
        lock (Gate)
            if (probing++ == 0) (pooledBefore, Torch.PoolStorage) = (Torch.PoolStorage, false);
    }

    static void PoolBack()
    {
        lock (Gate)
            if (--probing == 0) Torch.PoolStorage = pooledBefore;
    }

    // This thread's allocations only: a step's tensors are allocated by the thread that runs it (kernels allocate nothing).
    static long Allocated(Action step)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        step();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }

    // The live bytes of the heap after a full collection.
    static long Live()
    {
        GC.Collect();
        return GC.GetTotalMemory(forceFullCollection: false);
    }
}
