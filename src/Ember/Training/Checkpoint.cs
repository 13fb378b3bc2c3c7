using System.Security.Cryptography;
using System.Text.Json;
using Ember.Data;
using Ember.Interop;
using Ember.Nn;
using Ember.Optim;

namespace Ember.Training;

/// <summary>
/// A training checkpoint as a folder: model.safetensors, optimizer.safetensors (when an optimizer is saved),
/// ema.safetensors (when EMA is on) and checkpoint.json (progress, history, optimizer scalars, scheduler, scaler,
/// generator and callback states, and the SHA-256 of each tensor file).
/// <para>
/// A checkpoint is written whole or not at all: every file goes into a hidden sibling folder (<c>.NAME.new</c>), each
/// flushed to disk, and only then is the folder swapped in by two renames, the previous checkpoint kept (as
/// <c>.NAME.old</c>) until the new one is in place. A crash at any point leaves either the previous or the new
/// checkpoint complete; <see cref="ReadState"/> finds the previous one if the crash fell between the two renames.
/// </para>
/// <para>
/// On load the set of files is fixed by the format (never taken from checkpoint.json), each path lies inside the
/// folder, only regular non-empty files are read, and each must match its recorded SHA-256; any missing, extra or
/// mismatched piece is a <see cref="CheckpointException"/> naming the file.
/// </para>
/// </summary>
public static class Checkpoint
{
    /// <summary>The progress record's file name.</summary>
    public const string JsonFile = "checkpoint.json";
    /// <summary>The model weights' file name (the EMA weights when <see cref="CheckpointState.ModelIsEma"/>).</summary>
    public const string ModelFile = "model.safetensors";
    /// <summary>The optimizer state's file name.</summary>
    public const string OptimizerFile = "optimizer.safetensors";
    /// <summary>The EMA shadow's file name.</summary>
    public const string EmaFile = "ema.safetensors";

    // checkpoint.json holds counters, a few state dicts and one metrics row per epoch: far below this.
    const long MaxJsonBytes = 64L << 20;

    /// <summary>Test hook: called with each file name after it is written into the staging folder, and with "swap" just before the swap.</summary>
    internal static readonly AsyncLocal<Action<string>?> FaultInjection = new();

    /// <summary>Writes a checkpoint of the model's live weights into <paramref name="folder"/>, replacing the previous one only once complete.</summary>
    public static void Save(string folder, Module model, CheckpointState state, Optimizer? optimizer = null, ModelEma? ema = null)
        => Save(folder, model.StateDict(), state, optimizer, ema);

    /// <summary>Writes a checkpoint whose model.safetensors holds <paramref name="weights"/> (for example an EMA shadow).</summary>
    public static void Save(string folder, IEnumerable<KeyValuePair<string, Tensor>> weights, CheckpointState state, Optimizer? optimizer = null, ModelEma? ema = null)
    {
        var (target, staging, previous) = Siblings(folder);
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        Recover(target, previous);
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true); // an earlier save that died half-way
        Directory.CreateDirectory(staging);
        try
        {
            var files = new Dictionary<string, string>();
            Write(staging, ModelFile, weights, files);
            Dictionary<string, double>? optimizerScalars = null;
            if (optimizer is not null)
            {
                var sd = optimizer.StateDict();
                Write(staging, OptimizerFile, sd.Tensors, files);
                optimizerScalars = sd.Scalars;
            }
            if (ema is not null) Write(staging, EmaFile, ema.Shadow, files);
            var document = state with { Files = files, OptimizerScalars = optimizerScalars, EmaUpdates = ema?.Updates };
            AtomicFile.WriteAllText(Path.Combine(staging, JsonFile), JsonSerializer.Serialize(document, Options));
            FaultInjection.Value?.Invoke(JsonFile);
            FaultInjection.Value?.Invoke("swap");
            // Two renames: a crash between them leaves `.NAME.old` complete, which Recover and Locate fall back to.
            if (Directory.Exists(target)) Directory.Move(target, previous);
            Directory.Move(staging, target);
        }
        catch
        {
            try { if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true); }
            catch (IOException) { } // the original error matters more; the next save clears the leftover
            throw;
        }
        if (Directory.Exists(previous)) Directory.Delete(previous, recursive: true);
    }

    /// <summary>What follows a checkpoint folder's name in its staging folder's (<c>.NAME.new</c>), where a save writes its files.</summary>
    internal const string StagingSuffix = ".new";

    static (string Target, string Staging, string Previous) Siblings(string folder)
    {
        var target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        var parent = Path.GetDirectoryName(target) ?? throw new ArgumentException($"checkpoint: {folder} cannot be a checkpoint folder (it has no parent)");
        var name = Path.GetFileName(target);
        return (target, Path.Combine(parent, $".{name}{StagingSuffix}"), Path.Combine(parent, $".{name}.old"));
    }

    // Finishes what a save interrupted between its two renames left: the previous checkpoint goes back in place,
    // or, when the new one made it, the old copy goes.
    static void Recover(string target, string previous)
    {
        if (!Directory.Exists(previous)) return;
        if (Directory.Exists(target)) Directory.Delete(previous, recursive: true);
        else Directory.Move(previous, target);
    }

    static void Write(string folder, string name, IEnumerable<KeyValuePair<string, Tensor>> tensors, Dictionary<string, string> files)
    {
        var path = Path.Combine(folder, name);
        SafeTensors.Save(path, tensors); // flushed to disk before its rename (AtomicFile)
        using (var stream = File.OpenRead(path)) files[name] = Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
        FaultInjection.Value?.Invoke(name);
    }

    static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        IncludeFields = true,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        // A record is read exactly as it was written: an unknown, repeated or missing member is damage, not a default
        // (a renamed "BatchesDone" would otherwise resume from batch 0, a second "Epoch" silently win).
        UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow,
        AllowDuplicateProperties = false,
        RespectRequiredConstructorParameters = true,
        TypeInfoResolver = new System.Text.Json.Serialization.Metadata.DefaultJsonTypeInfoResolver { Modifiers = { RequireEveryMember } },
    };

    static void RequireEveryMember(System.Text.Json.Serialization.Metadata.JsonTypeInfo info)
    {
        if (info.Type != typeof(CheckpointState)) return;
        foreach (var property in info.Properties)
            // not the [JsonIgnore] Source; the partial-epoch sums are absent from checkpoints written before they existed
            if (property.Set is not null && property.Name is not (nameof(CheckpointState.PartialEpoch) or nameof(CheckpointState.PartialEpochRanks)))
                property.IsRequired = true;
    }

    /// <summary>The folder to read: <paramref name="folder"/>, or the complete previous checkpoint a save interrupted between its renames left.</summary>
    static string Locate(string folder)
    {
        var (target, _, previous) = Siblings(folder);
        if (Directory.Exists(target)) return target;
        if (Directory.Exists(previous) && File.Exists(Path.Combine(previous, JsonFile))) return previous;
        throw new DirectoryNotFoundException($"checkpoint: folder not found: {folder}");
    }

    /// <summary>Reads a checkpoint's progress record and verifies every file it must have (without loading tensors).</summary>
    public static CheckpointState ReadState(string folder) => Open(folder).State;

    /// <summary>A verified checkpoint: its record and the bytes of each tensor file by name.</summary>
    sealed record Verified(string Folder, CheckpointState State, Dictionary<string, byte[]> Bytes);

    static Verified Open(string folder)
    {
        var dir = Locate(folder);
        var json = Path.Combine(dir, JsonFile);
        if (!File.Exists(json) && !Directory.Exists(json))
            throw new CheckpointException(dir, $"has no {JsonFile}; it is not a checkpoint (or it was never completed)");
        CheckpointState? state;
        try { state = JsonSerializer.Deserialize<CheckpointState>(ReadRegular(json, MaxJsonBytes), Options); }
        catch (JsonException e) { throw new CheckpointException(json, $"is damaged: {e.Message}", e); }
        if (state is null) throw new CheckpointException(json, $"is empty (null)");
        if (state.Files is null) throw new CheckpointException(json, $"is damaged: it has no 'Files' list of SHA-256 hashes");
        if (state.History is null || state.Generators is null || state.Callbacks is null || state.Metadata is null)
            throw new CheckpointException(json, $"is damaged: 'History', 'Generators', 'Callbacks' and 'Metadata' may be empty but not null");
        foreach (var (name, g) in state.Generators)
        {
            if (g?.Words is not { Length: 4 } words) throw new CheckpointException(json, $"is damaged: generator '{name}' must have 4 state words");
            if ((words[0] | words[1] | words[2] | words[3]) == 0) throw new CheckpointException(json, $"is damaged: generator '{name}' has the all-zero state, which only ever yields 0");
            if (g.SpareNormal is double spare && !double.IsFinite(spare)) throw new CheckpointException(json, $"is damaged: generator '{name}' has a spare normal of {spare}");
        }
        foreach (var (name, c) in state.Callbacks)
            if (c is null) throw new CheckpointException(json, $"is damaged: the state of callback '{name}' is null");
        state.CheckConsistent(json);
        var required = new List<string> { ModelFile };
        if (state.OptimizerScalars is not null) required.Add(OptimizerFile);
        if (state.EmaUpdates is not null) required.Add(EmaFile);
        foreach (var name in state.Files.Keys)
            if (!required.Contains(name))
                throw new CheckpointException(json, $"is damaged: it lists '{name}', which is not one of this checkpoint's files ({string.Join(", ", required)})");
        var bytes = new Dictionary<string, byte[]>();
        foreach (var name in required)
        {
            var path = Path.Combine(dir, name); // a fixed name: always inside the folder
            if (!state.Files.TryGetValue(name, out var expected) || expected is null || expected.Length != 64 || !IsLowerHex(expected))
                throw new CheckpointException(json, $"is damaged: it records no valid SHA-256 for {name} (expected 64 hex digits, got '{expected}')");
            if (!File.Exists(path) && !Directory.Exists(path)) throw new CheckpointException(path, $"is missing");
            var data = ReadRegular(path, long.MaxValue);
            var actual = Convert.ToHexString(SHA256.HashData(data)).ToLowerInvariant();
            if (actual != expected)
                throw new CheckpointException(path, $"is damaged or from another checkpoint (SHA-256 {actual[..12]}… does not match the {expected[..12]}… recorded in {JsonFile})");
            bytes[name] = data;
        }
        return new Verified(dir, state with { Source = json }, bytes);
    }

    static bool IsLowerHex(string s)
    {
        foreach (char c in s) if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        return true;
    }

    // Only regular files: a symbolic link could point anywhere (/dev/zero, another run), and a FIFO or device would
    // block or never end. The path is looked at first for a clear message; then the file is opened once (not following
    // links, without blocking) and the opened handle's type and size decide, so a swap between the look and the open
    // is refused too.
    static byte[] ReadRegular(string path, long limit)
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not null) throw new CheckpointException(path, $"is a symbolic link (to {info.LinkTarget}); a checkpoint holds regular files only");
        if ((info.Attributes & FileAttributes.Directory) != 0) throw new CheckpointException(path, "is a folder, expected a file");
        if (info.Length == 0) throw new CheckpointException(path, "is empty or not a regular file");
        UntrustedFile.BetweenCheckAndOpen.Value?.Invoke(path);
        var (stream, length, problem) = UntrustedFile.TryOpenRegular(path, followLinks: false);
        if (problem is not null) throw new CheckpointException(path, problem);
        using (stream)
        {
            if (length == 0) throw new CheckpointException(path, "is empty or not a regular file");
            if (length > limit || length > Array.MaxLength)
                throw new CheckpointException(path, $"is {length} bytes, more than the {Math.Min(limit, Array.MaxLength)} a checkpoint's {info.Name} can be");
            var bytes = new byte[length];
            try { stream!.ReadExactly(bytes); }
            catch (EndOfStreamException) { throw new CheckpointException(path, "ended early while it was read (it was truncated or changed)"); }
            return bytes;
        }
    }

    static OrderedDictionary<string, Tensor> Tensors(Verified v, string name)
    {
        try { return SafeTensors.Read(v.Bytes[name], Path.Combine(v.Folder, name), out _); }
        catch (Exception e) when (e is InvalidDataException or ArgumentException or OverflowException)
        {
            throw new CheckpointException(Path.Combine(v.Folder, name), $"is damaged: {e.Message}", e);
        }
    }

    /// <summary>Refuses tensors holding NaN or ±Inf with a <see cref="CheckpointException"/> naming <paramref name="file"/> and the tensor.</summary>
    internal static void RequireFinite(IEnumerable<KeyValuePair<string, Tensor>> tensors, string file)
    {
        if (FiniteWeights.Describe(tensors) is string problem) throw new CheckpointException(file, ": " + problem);
    }

    static void Into(Module model, IReadOnlyDictionary<string, Tensor> weights, string path)
    {
        try { model.LoadStateDict(weights); }
        catch (InvalidOperationException e)
        {
            throw new CheckpointException(path, $"does not fit the model {model.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>
    /// Restores model, optimizer and EMA from a verified checkpoint and returns its progress record. Weights, optimizer
    /// moments or EMA weights holding NaN or ±Inf are refused (a <see cref="CheckpointException"/> naming the file and
    /// tensor, before anything is loaded) unless <paramref name="allowNonFinite"/> is set: resuming a diverged run only
    /// trains NaN further.
    /// </summary>
    public static CheckpointState Load(string folder, Module model, Optimizer? optimizer = null, ModelEma? ema = null, bool allowNonFinite = false)
    {
        var v = Open(folder);
        var state = v.State;
        if (state.ModelIsEma && (optimizer is not null || ema is not null))
            throw new CheckpointException(v.Folder, $"holds the EMA weights only (a run's best/); resume from last/");
        var weights = Tensors(v, ModelFile);
        OrderedDictionary<string, Tensor>? moments = null;
        if (optimizer is not null)
        {
            if (state.OptimizerScalars is null) throw new CheckpointException(v.Folder, $"holds no optimizer state");
            moments = Tensors(v, OptimizerFile);
        }
        OrderedDictionary<string, Tensor>? shadow = null;
        if (ema is not null && state.EmaUpdates is not null) shadow = Tensors(v, EmaFile);
        if (!allowNonFinite)
        {
            RequireFinite(weights, Path.Combine(v.Folder, ModelFile));
            if (moments is not null) RequireFinite(moments, Path.Combine(v.Folder, OptimizerFile));
            if (shadow is not null) RequireFinite(shadow, Path.Combine(v.Folder, EmaFile));
        }
        Into(model, weights, Path.Combine(v.Folder, ModelFile));
        if (optimizer is not null)
        {
            var sd = new OptimizerStateDict();
            foreach (var (k, t) in moments!) sd.Tensors[k] = t;
            foreach (var (k, s) in state.OptimizerScalars!) sd.Scalars[k] = s;
            try { optimizer.LoadStateDict(sd); }
            catch (Exception e) when (e is InvalidOperationException or ArgumentException or KeyNotFoundException)
            {
                throw new CheckpointException(Path.Combine(v.Folder, OptimizerFile), $"does not fit the optimizer {optimizer.GetType().Name}: {e.Message}");
            }
        }
        if (ema is not null)
        {
            if (state.EmaUpdates is not int updates) throw new CheckpointException(v.Folder, $"holds no EMA weights ({EmaFile})");
            if (updates < 0) throw new CheckpointException(Path.Combine(v.Folder, JsonFile), $": EmaUpdates {updates} is negative");
            try { ema.Load(shadow!, updates); }
            catch (Exception e) when (e is KeyNotFoundException or ArgumentException)
            {
                throw new CheckpointException(Path.Combine(v.Folder, EmaFile), $"does not fit the model: {e.Message}");
            }
        }
        return state;
    }

    /// <summary>
    /// Loads the weights to evaluate, predict with and export: the EMA weights when the checkpoint has them (ema.safetensors
    /// in <c>last/</c>, or a <c>best/</c> saved from the EMA), the live weights otherwise. Returns the progress record.
    /// </summary>
    public static CheckpointState LoadForInference(string folder, Module model)
    {
        var (state, weights, file) = ReadForInference(folder);
        Into(model, weights, file);
        return state;
    }

    /// <summary>
    /// The weights <see cref="LoadForInference"/> would load (the EMA weights when the checkpoint has them), verified but
    /// loaded into no model, with the progress record and the file they came from: for partial transfers (YOLOv5's
    /// intersect_dicts) into a model of another shape.
    /// </summary>
    public static (CheckpointState State, OrderedDictionary<string, Tensor> Weights, string File) ReadForInference(string folder)
    {
        var v = Open(folder);
        var name = v.State.EmaUpdates is not null ? EmaFile : ModelFile;
        return (v.State, Tensors(v, name), Path.Combine(v.Folder, name));
    }
}
