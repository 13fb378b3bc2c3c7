namespace Ember.Data;

/// <summary>
/// The byte buffers that decoding an image file needs besides its pixels, kept for the next image: the file's bytes, and
/// the decoder's copy of a PNG's image data chunk (StbImageSharp reads each IDAT chunk into a managed array twice the
/// chunk's size, a new one for every image unless one is handed in). Fresh each time they were the garbage of filling a
/// data set's cache, 12 MB of large-object arrays for each 1000×1000 noise PNG (the file, that copy, and the pixels
/// copied out of the decoder, which <see cref="ImageFolder"/> now reads in place). A decode rents one set and returns it
/// when it ends, by an error too; as many sets are kept as decodes ran at once, each as large as the largest file and
/// chunk it served, until <see cref="Release"/>.
/// </summary>
internal sealed class DecodeBuffers
{
    /// <summary>One decode's buffers; each is replaced by a larger one when too small (and kept).</summary>
    internal sealed class Set
    {
        public byte[]? File;
        public byte[]? Chunk;
    }

    readonly List<Set> idle = [];
    // the sets out with a decode: a set given back that is not among them was given back twice (or is not ours)
    readonly HashSet<Set> lent = new(ReferenceEqualityComparer.Instance);
    int made, returns;
    bool released;

    /// <summary>A set for one decode, to be given back to <see cref="Return"/> exactly once.</summary>
    public Set Rent()
    {
        lock (idle)
        {
            Set set;
            if (idle.Count == 0) { made++; set = new Set(); }
            else
            {
                set = idle[^1];
                idle.RemoveAt(idle.Count - 1);
            }
            lent.Add(set);
            return set;
        }
    }

    /// <summary>
    /// Gives back a rented set; a set given back twice would be handed to two decodes at once, so it throws (after
    /// <see cref="Release"/> too, when the set is no longer kept).
    /// </summary>
    public void Return(Set set)
    {
        lock (idle)
        {
            if (!lent.Remove(set)) throw new InvalidOperationException("DecodeBuffers: a set of buffers was returned twice, or was not rented here");
            returns++;
            if (!released) idle.Add(set);
        }
    }

    /// <summary>Drops the idle sets and keeps none from now on (the decoding this was for is over: a cache is full).</summary>
    public void Release()
    {
        lock (idle)
        {
            released = true;
            idle.Clear();
        }
    }

    /// <summary>Sets rented and not yet returned.</summary>
    internal int Rented { get { lock (idle) return lent.Count; } }
    /// <summary>Sets made so far (the most decodes that ran at once, until <see cref="Release"/>).</summary>
    internal int Made { get { lock (idle) return made; } }
    /// <summary>Sets given back so far (one for each decode that ended).</summary>
    internal int Returns { get { lock (idle) return returns; } }
    /// <summary>Whether the sets were let go (<see cref="Release"/>): none is kept from then on.</summary>
    internal bool Released { get { lock (idle) return released; } }
    /// <summary>Bytes the idle sets hold.</summary>
    internal long IdleBytes
    {
        get
        {
            lock (idle) return idle.Sum(s => (long)(s.File?.Length ?? 0) + (s.Chunk?.Length ?? 0));
        }
    }
}
