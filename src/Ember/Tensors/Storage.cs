using System.Runtime.CompilerServices;
using Ember.Backends.Cpu;

namespace Ember;

/// <summary>
/// The flat buffer behind one or more tensors. Views share it; the version counter counts in-place writes so that
/// autograd can detect a tensor that was modified after being saved for backward. Large buffers come from, and go
/// back to, the <see cref="StoragePool"/> (see <see cref="PooledStorage"/>).
/// </summary>
internal class Storage
{
    /// <summary>
    /// The buffer: <see cref="Length"/> elements, or more for a pooled storage (the pool rounds small sizes up to a size
    /// class, <see cref="StoragePool.Capacity"/>); the elements past Length belong to no tensor.
    /// </summary>
    public readonly Array Data;
    public readonly DType DType;
    /// <summary>The elements this storage was allocated for (a pooled buffer may be longer: see <see cref="Data"/>).</summary>
    public readonly int Length;
    public int Version;
    /// <summary>
    /// Order of allocation through <see cref="Allocate"/>, from 1; 0 for a storage that wraps an array from elsewhere.
    /// The backward engine adopts a gradient as a leaf's .Grad without a copy only if its storage is newer than the pass.
    /// </summary>
    public long Serial;
    static long lastSerial;

    /// <summary>The serial the next <see cref="Allocate"/> will hand out is greater than this.</summary>
    public static long LastSerial => Interlocked.Read(ref lastSerial);
    // Set only on pooled storages: As<T> then records the access (see StoragePool.Touch).
    protected readonly bool Pooled;

    public Storage(Array data, DType dtype) : this(data, dtype, data.Length, false) { }

    protected Storage(Array data, DType dtype, int length, bool pooled) { Data = data; DType = dtype; Length = length; Pooled = pooled; }

    public static Storage Allocate(DType dtype, int count, bool zeroed)
    {
        Storage storage;
        if (StoragePool.Covers(dtype, count))
        {
            var pooled = new PooledStorage(StoragePool.Rent(dtype, count, zeroed), dtype, count) { NodesAtAllocation = Autograd.Node.Recorded };
            StoragePool.Register(pooled);
            storage = pooled;
        }
        else storage = new Storage(dtype.NewArray(count, zeroed), dtype);
        storage.Serial = Interlocked.Increment(ref lastSerial);
        return storage;
    }

    /// <summary>The buffer as T[]. Every kernel reaches the data through here, which is what keeps pooling safe.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public T[] As<T>()
    {
        if (Pooled) StoragePool.Touch(Unsafe.As<PooledStorage>(this));
        // One type-handle compare per op, not per element: a kernel reached with the wrong dtype would otherwise read
        // the array as another element type (out of bounds for wider types).
        if (Data.GetType() != typeof(T[])) throw WrongType(typeof(T));
        return Unsafe.As<T[]>(Data);
    }

    NotSupportedException WrongType(Type t) => new(
        $"this op does not support {DType.TorchName()} tensors (its kernel reads {t.Name} elements); convert with To() first");
}

/// <summary>
/// A storage whose buffer returns to the <see cref="StoragePool"/> once a collection finds the storage dead (the pool
/// holds a weak reference to it), or earlier where Ember knows nothing will read it again (the backward pass's gradient
/// temporaries, <see cref="StoragePool.Return"/>), instead of going back to the GC: training allocates the same large
/// shapes every step, and fresh large arrays cost page faults and zeroing that rival the kernels themselves.
/// </summary>
internal sealed class PooledStorage(Array data, DType dtype, int length) : Storage(data, dtype, length, true)
{
    // Where and when this storage was last recorded in a thread's ring (StoragePool.Touch).
    internal int TouchTicket;
    internal object? TouchRing;
    // The pool's record of the buffer, and whether the buffer went back early (StoragePool.Return): set once, never cleared.
    internal StoragePool.Lease? Lease;
    internal bool Returned;
    // For Tensor.Dispose: the tensor handles ever made over this storage (and module registries holding one), and the
    // count of autograd nodes recorded before it was allocated (a node recorded since may hold a handle to it).
    internal int Handles;
    internal long NodesAtAllocation;
}
