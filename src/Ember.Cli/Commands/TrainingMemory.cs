using System.Globalization;
using Ember.Analysis;
using Ember.Nn;
using Ember.Training;

namespace Ember.Cli.Commands;

/// <summary>
/// Memory and training (`train`, `detect train`, `forecast train`; and `detect val`, `detect predict`). Before the first
/// batch, a run whose step, measured on a few samples and extrapolated, needs more than the process can have now (what
/// it may use, and what it holds plus what is free) is refused (<see cref="RequireFits"/>): it fits the address space,
/// so without a heap limit nothing in .NET would stop it before the kernel's OOM killer ends the process with no message.
/// Memory running out inside a training loop is the other case. The step that failed is lost,
/// nothing else: every checkpoint is written whole or not at all, so the run folder keeps its last/ as a kill would
/// leave it. The error then says so, and how the run goes on, besides which options to lower (<see cref="CliErrors.MemoryHint"/>).
/// </summary>
public static class TrainingMemory
{
    /// <summary>
    /// Runs <paramref name="fit"/>; an <see cref="OutOfMemoryException"/> from it is thrown again with what
    /// <paramref name="runDir"/> keeps and the command that continues it (<paramref name="resumeCommand"/>); so is a
    /// full disk (a checkpoint save that met it left the previous one whole), with the command for when there is room.
    /// </summary>
    public static void Run(Action fit, string runDir, string resumeCommand)
    {
        try { fit(); }
        catch (OutOfMemoryException e)
        {
            if (LastState(runDir) is not CheckpointState state) throw;
            throw Continued(e, runDir, state, resumeCommand);
        }
        catch (IOException e) when (CliErrors.IsDiskFull(e))
        {
            if (LastState(runDir) is not CheckpointState state) throw;
            throw new RunDiskFullException(e, $"{Whole(runDir, state, int.MaxValue)}: free some space, then `{resumeCommand}` continues from there");
        }
    }

    /// <summary>
    /// Runs <paramref name="close"/>, what a training command does after its loop (the final test or validation, plots,
    /// summary.md). Memory running out there, or the disk filling up, once the run has finished (trained its
    /// <paramref name="epochs"/>, or was ended by early stopping), loses none of the training: the error says so, and
    /// that <paramref name="resumeCommand"/> writes <paramref name="missing"/> (a resume of a finished run without its
    /// summary.md does only that). A run stopped before it finished (Ctrl-C, a time budget) is told how it continues, as
    /// by <see cref="Run"/>.
    /// </summary>
    public static void Close(Action close, string runDir, string resumeCommand, int epochs, string missing)
        => AfterLoop(() =>
        {
            AfterTraining.Value?.Invoke();
            close();
        }, runDir, resumeCommand, epochs, missing);

    /// <summary>
    /// <see cref="Close"/> without its test seam: for what a command writes right after its loop whether or not the run
    /// finished (`detect train`'s and `forecast train`'s results.png, an interrupted run's too).
    /// </summary>
    public static void AfterLoop(Action write, string runDir, string resumeCommand, int epochs, string missing)
    {
        try { write(); }
        catch (OutOfMemoryException e)
        {
            if (LastState(runDir) is not CheckpointState state) throw;
            if (!RunFolderCheck.Finished(state, epochs))
                throw Continued(e, runDir, state, resumeCommand);
            // what to lower would start a new run: the closing part does not depend on the run's sizes alone
            CliErrors.MemoryHint = $"the training itself finished: {Whole(runDir, state, epochs)}; `{resumeCommand}` writes {missing} when more memory is free";
            throw;
        }
        catch (IOException e) when (CliErrors.IsDiskFull(e) && e is not RunDiskFullException)
        {
            // a file the closing part writes is whole or absent (AtomicFile), and the checkpoints were saved before it
            if (LastState(runDir) is not CheckpointState state) throw;
            throw new RunDiskFullException(e, RunFolderCheck.Finished(state, epochs)
                ? $"the training itself finished: {Whole(runDir, state, epochs)}: free some space, then `{resumeCommand}` writes {missing} (it trains nothing)"
                : $"{Whole(runDir, state, int.MaxValue)}: free some space, then `{resumeCommand}` continues from there");
        }
    }

    /// <summary>
    /// The words for what a run folder's checkpoints are: "RUN/last is whole (saved at the end of epoch 1)"; for a run
    /// that finished (<see cref="RunFolderCheck.Finished(CheckpointState, int)"/>) its best/ too and how it ended
    /// ("…, the last", "…, where early stopping ended the run").
    /// </summary>
    static string Whole(string runDir, CheckpointState state, int epochs)
    {
        string last = Path.Combine(runDir, "last"), best = Path.Combine(runDir, "best");
        bool finished = RunFolderCheck.Finished(state, epochs);
        var folders = finished && Directory.Exists(best) ? $"{last} and {best} are whole" : $"{last} is whole";
        var at = !state.EpochComplete ? $"epoch {state.Epoch}, batch {state.BatchesDone}"
            : !finished ? $"the end of epoch {state.Epoch}"
            : state.Epoch >= epochs ? $"the end of epoch {state.Epoch}, the last"
            : $"the end of epoch {state.Epoch}, where early stopping ended the run";
        return $"{folders} (saved at {at})";
    }

    /// <summary>Test seam: runs where a training command's closing part (<see cref="Close"/>) begins; a test throws there.</summary>
    internal static readonly AsyncLocal<Action?> AfterTraining = new();

    /// <summary>Test seam: the bytes this process may use (default: what the GC says, the machine's memory or a container's limit).</summary>
    internal static readonly AsyncLocal<long?> AvailableBytes = new();

    /// <summary>Test seam: the bytes free now beyond what the process holds (default: <see cref="FreeMemory.Now"/>).</summary>
    internal static readonly AsyncLocal<long?> FreeBytes = new();

    /// <summary>Test seam: when set, <see cref="RequireFits"/> measures nothing and refuses nothing (a run without the probe).</summary>
    internal static readonly AsyncLocal<bool> Unchecked = new();

    /// <summary>
    /// The environment variable that starts a run the check would refuse (`EMBER_MEMORY_CHECK=off`): for memory that
    /// another program will give back, or to measure a run's real need under a heap limit.
    /// </summary>
    public const string CheckVariable = "EMBER_MEMORY_CHECK";

    /// <summary>Whether the check is off for this run (<see cref="Unchecked"/>, or <see cref="CheckVariable"/> set to off).</summary>
    internal static bool Skipped => Unchecked.Value || string.Equals(Environment.GetEnvironmentVariable(CheckVariable), "off", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// Throws an <see cref="OutOfMemoryException"/> naming <paramref name="sizes"/> (the run's size options and values)
    /// when <paramref name="what"/> (one training step, one validation batch, one image) needs more than this process can
    /// have now (<see cref="Room"/>). The need: what the process holds already (its resident memory now: the runtime, the data set, the weights;
    /// under a GC heap limit, against that limit, its managed heap: <see cref="HeldBytes"/>),
    /// <paramref name="fixedBytes"/> (the optimizer's state and the EMA's copy), and what the step allocates at
    /// <paramref name="samples"/> samples, from the line <paramref name="allocated"/> measures (see <see cref="MemoryProbe"/>;
    /// its bytes per sample times <paramref name="scale"/>, plus <paramref name="extraPerSample"/>; <paramref name="probed"/>
    /// says on what it was measured). For an inference, whose outputs die as it goes, at most what it holds at once
    /// (<paramref name="held"/>) plus a quarter of the memory: the most the storage pool keeps of freed buffers.
    /// Besides, <paramref name="beside"/>: what the run holds beside the step (a data set's images decoding and cached),
    /// each named in the refusal; where one that an option drops (<see cref="MemoryTerm.Option"/>) is what does not fit,
    /// the refusal says that the run fits with that option.
    /// The step is measured only here (and in <see cref="RoomBeside"/>), so that a test seam (<see cref="Unchecked"/>) can leave the probe out.
    /// </summary>
    internal static void RequireFits(string sizes, string what, Func<MemoryLine> allocated, Func<MemoryLine>? held, double scale, double extraPerSample,
        double samples, string sampleName, double fixedBytes, string probed, IReadOnlyList<MemoryTerm>? beside = null)
    {
        if (Skipped) return;
        beside ??= [];
        var (process, step, needed, room, over) = Need(allocated, held, scale, extraPerSample, samples, fixedBytes, beside);
        if (needed <= room) return;
        string managed = HeapLimited && over.EndsWith(MayUse, StringComparison.Ordinal) ? " on its managed heap (what the GC heap limit counts)" : "";
        string state = fixedBytes > 0 ? $"{Size(fixedBytes)} that the optimizer (and EMA) keep; " : "";
        string terms = string.Concat(beside.Select(t => $"{Size(t.Bytes)} {t.Words}; "));
        // the largest term an option drops, when the run fits without it: that option, rather than smaller sizes
        string fitsWithout = beside.Where(t => t.Option is not null && needed - t.Bytes <= room).MaxBy(t => t.Bytes) is { Option: string option } dropped
            ? $"; without {dropped.Dropped} it needs about {Size(needed - dropped.Bytes)}, which fits: start it with {option}" : "";
        throw new OutOfMemoryException(string.Create(CultureInfo.InvariantCulture,
            $"{sizes} needs about {Size(needed)} {what} ({Size(step)} for {samples:N0} {sampleName}, measured on {probed}; {state}{terms}" +
            $"{Size(process)} that the process holds already{managed}), {over}{fitsWithout}"));
    }

    /// <summary>
    /// The bytes left for more beside what <see cref="RequireFits"/> (given the same arguments) counts: its room less its
    /// need, negative when the need does not fit already; null when the check is off. For what a run can leave out (an
    /// image of its data set too large to decode beside its step), weighed before the check.
    /// </summary>
    internal static double? RoomBeside(Func<MemoryLine> allocated, Func<MemoryLine>? held, double scale, double extraPerSample, double samples,
        double fixedBytes, IReadOnlyList<MemoryTerm> beside)
    {
        if (Skipped) return null;
        var (_, _, needed, room, _) = Need(allocated, held, scale, extraPerSample, samples, fixedBytes, beside);
        return room - needed;
    }

    // RequireFits's sums: what the process holds now, the step, the whole need, the room and the words for a need over it.
    static (double Process, double Step, double Needed, double Room, string Over) Need(Func<MemoryLine> allocated, Func<MemoryLine>? held, double scale,
        double extraPerSample, double samples, double fixedBytes, IReadOnlyList<MemoryTerm> beside)
    {
        double available = AvailableBytes.Value ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        double At(MemoryLine line) => line.Fixed + (line.PerSample * scale + extraPerSample) * samples;
        double step = At(allocated());
        var (process, room, over) = Room();
        // what an inference holds is measured only when what it allocates does not fit: it costs a collection per module
        double besides = beside.Sum(t => t.Bytes);
        if (held is not null && process + fixedBytes + besides + step > room) step = Math.Min(step, At(held()) + available / 4);
        return (process, step, process + fixedBytes + besides + step, room, over);
    }

    /// <summary>
    /// Bytes a run holds beside its step or batch, and the words that follow their size in a refusal ("to decode …");
    /// when an option drops them, that <paramref name="Option"/> ("--cache false (…)") and what it drops in words (<paramref name="Dropped"/>).
    /// </summary>
    internal sealed record MemoryTerm(double Bytes, string Words, string? Option = null, string? Dropped = null);

    /// <summary>
    /// The bytes this process can have now, and what it holds by the same count: what it may use, against what that limit
    /// counts (<see cref="HeldBytes"/>: under a GC heap limit its managed heap, else its resident memory), or its resident
    /// memory and what is free besides (<see cref="FreeMemory"/>), whichever leaves less; and the words for a need over the
    /// room ("more than the …").
    /// </summary>
    internal static (double Process, double Room, string Over) Room()
    {
        double available = AvailableBytes.Value ?? GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        double process = Environment.WorkingSet, counted = HeldBytes();
        double? free = FreeBytes.Value ?? FreeMemory.Now();
        if (free is not double f || counted + f >= available) return (counted, available, $"more than the {Size(available)}{MayUse}");
        // Refused as well when other programs hold the memory: the kernel's OOM killer would end this run (the largest
        // process) without a message, or one of them; whether they will give it back is for the user to say.
        return (process, process + f, $"more than the {Size(process + f)} it can have now ({Size(process)} it holds and {Size(f)} free; other programs hold the rest of " +
            $"the {Size(available)} it may use: close some, or, if they will end first, start it anyway with {CheckVariable}=off)");
    }

    // The end of Room's words for the limit on what the process may use (the other room is what is free now).
    const string MayUse = " this process may use";

    /// <summary>
    /// What this process holds as the limit on what it may use counts it: under a GC heap limit (DOTNET_GCHeapHardLimit, or
    /// its percent), the managed heap (its bytes in use or, if more, committed at the last collection); else its resident
    /// memory. Measured on a cached `detect train` (docs/bench-logs/2026-12-06-session28-s28-trust.txt): the resident
    /// memory is the managed heap and about 80 MiB of the runtime's own (code, its native heaps), which a heap limit does not
    /// count; weighed against the limit, that share over-counted the run.
    /// </summary>
    internal static double HeldBytes()
        => HeapLimited ? Math.Max(GC.GetTotalMemory(forceFullCollection: false), GC.GetGCMemoryInfo().TotalCommittedBytes) : Environment.WorkingSet;

    /// <summary>Whether the garbage collector runs under a heap limit (what <see cref="GCMemoryInfo.TotalAvailableMemoryBytes"/> then is).</summary>
    internal static bool HeapLimited => heapLimited.Value;

    static readonly Lazy<bool> heapLimited = new(() =>
    {
        var settings = GC.GetConfigurationVariables();
        return new[] { "GCHeapHardLimit", "GCHeapHardLimitPercent" }.Any(key => settings.TryGetValue(key, out var value) && Convert.ToDouble(value, CultureInfo.InvariantCulture) > 0);
    });

    /// <summary>
    /// The bytes `detect predict` holds at once for one image, per pixel of the image as decoded (beyond the model's
    /// forward at --img, which <see cref="RequireInferenceFits"/> weighs before the first image): the file, the decoder's
    /// buffers, the float tensor, its copy for drawing, the RGBA bitmap, its image and the encoded PNG. Measured as the
    /// growth of the command's peak resident memory with the image's size: up to 54 bytes a pixel for noise PNGs (RGB and
    /// RGBA, 1000² to 6000² pixels; docs/bench-logs/2026-12-06-session26-s26-trust.txt), rounded up.
    /// </summary>
    internal const double PredictBytesPerPixel = 56;

    /// <summary>
    /// The bytes `detect train` and `detect val` hold at once for one image of their data set, per pixel of the image as
    /// decoded (beyond the training step or validation batch, which <see cref="RequireFits"/> weighs): the file, the
    /// decoder's buffers, the 8-bit copy kept by --cache, the float image, until it is resized to --img. Measured as
    /// for <see cref="PredictBytesPerPixel"/>: up to 32 bytes a pixel for `detect val` and 27 for `detect train`
    /// (docs/bench-logs/2026-12-06-session26-s26-decode.txt), rounded up.
    /// </summary>
    internal const double DecodeBytesPerPixel = 34;

    /// <summary>
    /// The bytes --cache (`detect train`'s default) holds for a data set of <paramref name="pixels"/> once the first epoch
    /// has read every image: the 8-bit planar copy of each (3 bytes a pixel), and beside them what the cache's filling
    /// leaves standing (never more than <see cref="CacheGarbageBytes"/>, nor than the copies). Measured as the growth of
    /// the peak resident memory of a one-epoch `detect train` with --cache over one without, on noise PNGs of 24 to 192
    /// million pixels: 3 bytes a pixel plus 45 to 77 MB in session 27 (the decoder's copies of each image left as
    /// garbage; docs/bench-logs/2026-12-06-session27-s27-trust.txt), plus 7.5 to 12.2 MiB (medians; 18.1 at most) since
    /// the decoding reuses its buffers (docs/bench-logs/2026-12-07-session31-s31-trust-cache.txt). The managed heap
    /// grows by the copies alone, so under a heap limit the term is spare.
    /// </summary>
    internal static double CacheBytes(long pixels) => CacheBytesPerPixel * pixels + Math.Min(CacheBytesPerPixel * pixels, CacheGarbageBytes);

    /// <summary>The bytes a pixel of the copy --cache keeps (<see cref="CacheBytes"/>).</summary>
    internal const double CacheBytesPerPixel = 3;

    /// <summary>
    /// The most measured beside a full cache (18.1 MiB, <see cref="CacheBytes"/>) and a third more: the resident memory
    /// of runs alike spreads over up to 12 MiB. It was 80 MiB while each image's decoding left its copies as garbage (session 27).
    /// </summary>
    internal const double CacheGarbageBytes = 24 << 20;

    /// <summary>
    /// The bytes `ember predict --image` holds at once for one image, per pixel of the image as decoded to grayscale (the
    /// file, the decoder's buffers, the float image, until it is resized to 28×28): up to 28 bytes a pixel, measured as
    /// <see cref="DecodeBytesPerPixel"/>, rounded up.
    /// </summary>
    internal const double GrayBytesPerPixel = 30;

    /// <summary>
    /// Null when an image of <paramref name="width"/> × <paramref name="height"/> pixels, at <paramref name="bytesPerPixel"/>,
    /// fits in what this process can have now (<see cref="Refusal"/>); else why not: "W×H = N pixels need about … to
    /// <paramref name="what"/>, more than the …".
    /// </summary>
    internal static string? ImageRefusal(int width, int height, double bytesPerPixel, string what)
    {
        double need = bytesPerPixel * width * height;
        return Refusal(need) is string over
            ? string.Create(CultureInfo.InvariantCulture, $"{width}×{height} = {(long)width * height:N0} pixels need about {Size(need)} to {what}, {over}")
            : null;
    }

    /// <summary>
    /// Null when <paramref name="bytes"/> more fit in what this process can have now (<see cref="Room"/>), or when the check
    /// is off; else the words for the need over it ("more than the …"). Before refusing, what the process holds only of
    /// earlier work (the storage pool's free buffers, garbage of earlier images) is given back and the room measured again.
    /// </summary>
    internal static string? Refusal(double bytes)
    {
        if (Skipped || Fits(out _)) return null;
        GiveBack();
        return Fits(out var over) ? null : over;

        bool Fits(out string over)
        {
            (double process, double room, over) = Room();
            return process + bytes <= room;
        }
    }

    /// <summary>Whether this process holds more than it can have now (<see cref="Room"/>) already; false when the check is off.</summary>
    internal static bool HoldsMoreThanRoom()
    {
        if (Skipped) return false;
        var (process, room, _) = Room();
        return process > room;
    }

    /// <summary>Returns the storage pool's free buffers and the heap's garbage to the system (after memory ran out, before measuring the room).</summary>
    internal static void GiveBack()
    {
        Torch.EmptyCache();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    /// <summary><see cref="RequireFits"/> for an inference of <paramref name="model"/> (<see cref="MemoryProbe.Inference"/>).</summary>
    internal static void RequireInferenceFits(string sizes, string what, Module model, Func<int, (Tensor Input, Tensor Target)> batch, Func<Tensor, Tensor, Tensor>? loss,
        double scale, double extraPerSample, double samples, string sampleName, double fixedBytes, string probed, IReadOnlyList<MemoryTerm>? beside = null)
        => RequireFits(sizes, what, () => MemoryProbe.Inference(model, batch, loss, held: false), () => MemoryProbe.Inference(model, batch, loss),
            scale, extraPerSample, samples, sampleName, fixedBytes, probed, beside);

    /// <summary>Bytes in the unit their size asks for (binary, as <see cref="Units.FormatBytes"/>; one decimal).</summary>
    internal static string Size(double bytes) => Units.FormatBytes(bytes, 1);

    /// <summary>The bytes an optimizer and an EMA keep beyond the weights and their gradients (which a probed step allocates).</summary>
    internal static double StateBytes(long parameters, OptimizerKind optimizer, bool ema) => 4.0 * parameters * (MemoryEstimator.StateCopies(optimizer) + (ema ? 1 : 0));

    /// <summary>The state an optimizer option keeps per weight: sgd (with momentum or not), adam and adamw.</summary>
    internal static OptimizerKind StateOf(string optimizer, double momentum)
        => optimizer == "sgd" ? (momentum > 0 ? OptimizerKind.SgdMomentum : OptimizerKind.Sgd) : OptimizerKind.Adam;

    /// <summary>
    /// <paramref name="e"/> with what a run folder holds after a failed step (its last/ <paramref name="state"/>) and how
    /// to go on from it.
    /// </summary>
    static OutOfMemoryException Continued(OutOfMemoryException e, string runDir, CheckpointState state, string resumeCommand)
        => new($"{CliErrors.OutOfMemory(e).TrimEnd('.')}; {Whole(runDir, state, int.MaxValue)}: `{resumeCommand}` continues from there when more memory is free " +
               "(a smaller batch or model needs a new run: the options that define a run cannot change on resume)", e);

    // The state last/ records, or null before the run's first checkpoint.
    static CheckpointState? LastState(string runDir)
    {
        var last = Path.Combine(runDir, "last");
        return File.Exists(Path.Combine(last, Checkpoint.JsonFile)) ? Checkpoint.ReadState(last) : null;
    }
}
