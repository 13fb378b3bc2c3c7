using Ember.Autograd;
using Ember.Backends.Cpu;

namespace Ember;

public partial class Tensor
{
    // Live; disposed with its buffer left to the collector (a backward may still read it); disposed with its buffer
    // back in the pool (nothing may read it).
    const int Live = 0, DisposedKept = 1, DisposedReturned = 2;
    int disposal;

    /// <summary>
    /// Optional: ends this tensor handle and, where nothing else can read its buffer, hands the buffer back to the
    /// storage pool at once for the next tensor of its size (TorchSharp's Dispose, <c>using var c = a.Mul(b);</c>).
    /// A program that never calls it loses nothing: buffers come back when a garbage collection finds them dead.
    /// <para>
    /// After Dispose every use of this handle (its data, an op on it, <see cref="Grad"/>, <see cref="DType"/>,
    /// <see cref="ToString"/>) throws <see cref="ObjectDisposedException"/> naming its shape and dtype; its shape stays
    /// readable. Disposing twice does nothing.
    /// </para>
    /// <para>
    /// The buffer goes back at once only when this handle is the only reader there can be: the storage is pooled (small
    /// tensors are not), no other handle was ever made over it (a view, <see cref="Detach"/>, a reshape that did not
    /// copy, a <see cref="Nn.Parameter"/> wrapping it, a module buffer), the tensor neither requires grad nor came out
    /// of a recorded op, and no autograd node was recorded, on any thread, since the buffer was allocated (a node's
    /// backward may hold any tensor its op was given). Otherwise only the handle ends and the buffer is left to the
    /// collector as without Dispose; a backward pass over a graph that holds the handle still reads it, so disposing
    /// an intermediate or a leaf before backward changes no gradient (the leaf's <see cref="Grad"/> is then unreachable).
    /// </para>
    /// <para>
    /// A handle is an object, not a reference count: an op that can return its input unchanged returns the same
    /// handle (<see cref="Contiguous"/> of a contiguous tensor, <see cref="Flatten"/> over one dim, <c>To</c> the CPU,
    /// an <c>Identity</c> layer), and disposing its result disposes the input (whose later use then throws, as above).
    /// As with any pooled buffer, a tensor must not be disposed while another thread runs an op on it.
    /// </para>
    /// </summary>
    public void Dispose() => HandBack(callerMadeIt: false);

    /// <summary>
    /// Ends this handle, as <see cref="Dispose"/> says, and hands its buffer back to the storage pool where nothing else
    /// can read it: the one way a handle ends early, for Dispose, DataTensors.Recycle and a backend op's scratch
    /// tensors. The buffer goes back when the storage is pooled and the tensor neither requires grad nor came out of a
    /// recorded op, and either <paramref name="callerMadeIt"/> or Dispose's rule holds (this is the only handle ever made
    /// over the storage, and no autograd node was recorded since it was allocated).
    /// <paramref name="callerMadeIt"/> is the caller's word that it allocated the tensor, holds every handle over its
    /// storage (views it made for itself included) and gave it to no op that records a node: a data worker's image, a
    /// backend op's float32 scratch. Dispose's rule cannot see that: it counts the nodes of every thread (a worker's
    /// images would not come back while the main thread trains) and an op's own views of its scratch.
    /// </summary>
    internal void HandBack(bool callerMadeIt)
    {
        if (Interlocked.CompareExchange(ref disposal, DisposedKept, Live) != Live) return;
        if (heldStorage is PooledStorage pooled && gradFn is null && !requiresGrad && (callerMadeIt || SoleHandleSinceNoNode(pooled)))
        {
            disposal = DisposedReturned;
            StoragePool.Return(pooled);
        }
    }

    static bool SoleHandleSinceNoNode(PooledStorage pooled)
        => Volatile.Read(ref pooled.Handles) == 1 && pooled.NodesAtAllocation == Node.Recorded;

    /// <summary>Whether <see cref="Dispose"/> was called on this handle.</summary>
    public bool IsDisposed => disposal != Live;

    /// <summary>
    /// Counts one more handle over this storage that is not a tensor (a module's buffer registry): Dispose then leaves
    /// the buffer alone.
    /// </summary>
    internal void MarkShared()
    {
        if (heldStorage is PooledStorage pooled) Interlocked.Increment(ref pooled.Handles);
    }

    void ThrowIfDisposed()
    {
        // A graph that saved this handle before it was disposed reads it in backward, where its buffer was kept.
        if (disposal == DisposedKept && Engine.Running) return;
        if (disposal != Live) throw new ObjectDisposedException(
            $"Tensor of shape {Ember.Shape.Format(shape)}, dtype {heldStorage.DType.TorchName()}",
            "this tensor was disposed (Tensor.Dispose); make a new one or keep it alive instead of disposing it");
    }
}
