namespace Ember.Kernels.Gemm;

/// <summary>
/// A register-blocked MR×NR GEMM micro-kernel over packed panels. A struct implementing it is passed as a type
/// argument so that the JIT compiles one specialised driver per kernel, with the call to <see cref="Run"/> inlined away.
/// </summary>
internal unsafe interface IMicroKernel<T> where T : unmanaged
{
    /// <summary>Rows of C computed per call (rows of a packed A panel).</summary>
    static abstract int MR { get; }

    /// <summary>Columns of C computed per call (columns of a packed B panel).</summary>
    static abstract int NR { get; }

    /// <summary>
    /// C[0..MR, 0..NR] = alpha·(Ap·Bp) + beta·C, where Ap holds kc groups of MR values (one per row) and Bp holds kc
    /// groups of NR values (one per column). beta == 0 does not read C.
    /// </summary>
    static abstract void Run(nint kc, T* a, T* b, T* c, nint ldc, T alpha, T beta);

    /// <summary>
    /// <see cref="Run"/> over operands read in place: the MR values of A for step p start at a + p·<paramref name="aStride"/>
    /// and the NR values of B at b + p·<paramref name="bStride"/> (a packed panel has strides MR and NR; a transposed A
    /// or a row-major B already lies this way with stride lda or ldb). The multiply-adds are those of <see cref="Run"/>,
    /// so the bits are too.
    /// </summary>
    static abstract void RunStrided(nint kc, T* a, nint aStride, T* b, nint bStride, T* c, nint ldc, T alpha, T beta);

    /// <summary>
    /// <see cref="Run"/> with B gathered in place: the NR values of B for step p start at b + <paramref name="offsets"/>[p]
    /// (a row of the im2col matrix inside a padded image, <c>ShiftedGemmConv</c>), so no B panel is copied. The A panel is
    /// packed (stride MR). The multiply-adds are those of <see cref="Run"/> over the copied panel, so the bits are too.
    /// </summary>
    static abstract void RunIndexed(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta);

    /// <summary>
    /// Whether threads share one packing of each operand on large products (<see cref="GemmTeam"/>) rather than split C
    /// and pack what their part needs (<see cref="GemmDriver"/>'s fixed split). The team syncs its threads on every
    /// KC×NC block; the faster a kernel sweeps a block, the more those syncs weigh against packing an operand twice.
    /// </summary>
    static virtual bool SharesPacking => true;

    /// <summary>Whether the kernel has <see cref="RunRowsOfA"/>.</summary>
    static virtual bool ReadsRowsOfA => false;

    /// <summary>
    /// Copies of each A value in a packed A panel (MR·ACopies values per step): 1, or a vector's lanes for a kernel that
    /// loads each A value as a ready broadcast (<see cref="MicroKernel128BroadcastA{T}"/>). Such a kernel never reads A in
    /// place.
    /// </summary>
    static virtual int ACopies => 1;

    /// <summary>
    /// <see cref="RunStrided"/> with A read in place from MR rows of a row-major matrix: the value of row r for step p
    /// is a[r·<paramref name="lda"/> + p] (op(A) not transposed, whose packing is a transpose). The multiply-adds are
    /// those of <see cref="Run"/>, so the bits are too.
    /// </summary>
    static virtual void RunRowsOfA(nint kc, T* a, nint lda, T* b, nint bStride, T* c, nint ldc, T alpha, T beta) =>
        throw new NotSupportedException("this micro-kernel cannot read rows of A in place (ReadsRowsOfA is false)");

    /// <summary>Columns of <see cref="RunIndexedNarrow"/>, fewer than NR; 0 where the kernel has no narrow form.</summary>
    static virtual int NarrowNR => 0;

    /// <summary>
    /// <see cref="RunIndexed"/> on C's first <see cref="NarrowNR"/> columns only, the others left alone: for a last panel
    /// whose used columns fit them. Each C element gets the bits <see cref="RunIndexed"/> would give it.
    /// </summary>
    static virtual void RunIndexedNarrow(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta) =>
        throw new NotSupportedException("this micro-kernel has no narrow form (NarrowNR is 0)");

    /// <summary>Rows of <see cref="RunIndexedShort"/>, fewer than MR; 0 where the kernel has no short form.</summary>
    static virtual int ShortMR => 0;

    /// <summary>
    /// <see cref="RunIndexed"/> on <see cref="ShortMR"/> rows, A packed ShortMR values per k: for the rows past a
    /// convolution's last whole MR tile, which otherwise go through a zero-padded MR tile and a copy. Each C element
    /// gets the bits <see cref="RunIndexed"/> would give it.
    /// </summary>
    static virtual void RunIndexedShort(nint kc, T* a, T* b, int* offsets, T* c, nint ldc, T alpha, T beta) =>
        throw new NotSupportedException("this micro-kernel has no short form (ShortMR is 0)");
}
