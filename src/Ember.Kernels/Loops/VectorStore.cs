using System.Runtime.CompilerServices;
using Ember.Kernels.Operators;

namespace Ember.Kernels.Loops;

/// <summary>
/// How a loop writes a register: a type argument, so that one loop body compiles to a plain-store and a streamed copy
/// (<see cref="NonTemporal"/>) with no test per register.
/// </summary>
internal unsafe interface IVectorStore
{
    static abstract void Store<TVec, T>(TVec value, T* destination) where TVec : struct, ISimd<TVec, T> where T : unmanaged;
}

/// <summary>An ordinary store (any alignment).</summary>
internal readonly unsafe struct PlainStore : IVectorStore
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TVec, T>(TVec value, T* destination) where TVec : struct, ISimd<TVec, T> where T : unmanaged => value.Store(destination);
}

/// <summary>A non-temporal store; the destination must be aligned to the register's size.</summary>
internal readonly unsafe struct NonTemporalStore : IVectorStore
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Store<TVec, T>(TVec value, T* destination) where TVec : struct, ISimd<TVec, T> where T : unmanaged => value.StoreAlignedNonTemporal(destination);
}
