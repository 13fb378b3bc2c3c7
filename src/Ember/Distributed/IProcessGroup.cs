namespace Ember.Distributed;

/// <summary>
/// The communication engine behind <see cref="Distributed"/>: the few collectives data-parallel training needs, each
/// started non-blocking and returning a <see cref="Work"/>. Every rank must call the same collectives in the same order.
/// The op arguments name the public call in error messages.
/// </summary>
internal interface IProcessGroup : IDisposable
{
    int Rank { get; }
    int WorldSize { get; }

    /// <summary>How long <see cref="Work.Wait()"/> waits before declaring a peer lost.</summary>
    TimeSpan Timeout { get; }

    /// <summary>A short description of the engine (the MPI library's version line).</summary>
    string Description { get; }

    Work Barrier(string op);

    /// <summary>In place; <see cref="ReduceOp.Avg"/> is the caller's (sum, then divide).</summary>
    Work AllReduce(CommBuffer buffer, ReduceOp op, string opName);

    Work Broadcast(CommBuffer buffer, int root, string op);

    /// <summary><paramref name="output"/> receives every rank's <paramref name="input"/>, rank 0's first.</summary>
    Work AllGather(CommBuffer input, CommBuffer output, string op);

    /// <summary>Reduces <paramref name="input"/> (WorldSize blocks) and leaves block <c>Rank</c> in <paramref name="output"/>.</summary>
    Work ReduceScatter(CommBuffer input, CommBuffer output, ReduceOp op, string opName);

    /// <summary>Ends every rank of the job (MPI_Abort): used when this rank cannot go on and its peers would wait forever.</summary>
    void Abort(int errorCode);
}
