using System.Security.Cryptography;
using System.Text.Json;
using Ember.Interop;
using Ember.Nn;
using Ember.Optim;
using Ember.Training.Amp;

namespace Ember.Training;

/// <summary>
/// A training checkpoint as a folder: model.safetensors, optimizer.safetensors, ema.safetensors (when EMA is on) and
/// checkpoint.json (progress, history, optimizer scalars, scheduler, scaler and generator states, and the SHA-256 of each
/// tensor file). Each file is written atomically and the JSON last, so a crash leaves the previous checkpoint readable;
/// a damaged or mismatched file is detected by its checksum on load.
/// </summary>
public static class Checkpoint
{
    const string Json = "checkpoint.json", ModelFile = "model.safetensors", OptimizerFile = "optimizer.safetensors", EmaFile = "ema.safetensors";

    /// <summary>Writes a checkpoint into <paramref name="folder"/>.</summary>
    public static void Save(string folder, Module model, CheckpointState state, Optimizer? optimizer = null, ModelEma? ema = null)
    {
        Directory.CreateDirectory(folder);
        var files = new Dictionary<string, string>();
        Write(folder, ModelFile, model.StateDict(), files);
        Dictionary<string, double>? optimizerScalars = null;
        if (optimizer is not null)
        {
            var sd = optimizer.StateDict();
            Write(folder, OptimizerFile, sd.Tensors, files);
            optimizerScalars = sd.Scalars;
        }
        if (ema is not null) Write(folder, EmaFile, ema.Shadow, files);
        var document = state with { Files = files, OptimizerScalars = optimizerScalars, EmaUpdates = ema?.Updates };
        AtomicFile.WriteAllText(Path.Combine(folder, Json), JsonSerializer.Serialize(document, Options));
    }

    static void Write(string folder, string name, IEnumerable<KeyValuePair<string, Tensor>> tensors, Dictionary<string, string> files)
    {
        var path = Path.Combine(folder, name);
        SafeTensors.Save(path, tensors);
        files[name] = Hash(path);
    }

    static string Hash(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexString(SHA256.HashData(stream)).ToLowerInvariant();
    }

    static readonly JsonSerializerOptions Options = new() { WriteIndented = true, IncludeFields = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    /// <summary>Reads and verifies a checkpoint's progress record (without loading tensors).</summary>
    public static CheckpointState ReadState(string folder)
    {
        var path = Path.Combine(folder, Json);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"checkpoint: folder not found: {folder}");
        if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint: {folder} has no {Json}; it is not a checkpoint (or it was never completed)", path);
        CheckpointState? state;
        try { state = JsonSerializer.Deserialize<CheckpointState>(File.ReadAllText(path), Options); }
        catch (JsonException e) { throw new InvalidDataException($"checkpoint: {path} is damaged: {e.Message}"); }
        if (state is null) throw new InvalidDataException($"checkpoint: {path} is empty");
        foreach (var (file, expected) in state.Files ?? [])
        {
            var full = Path.Combine(folder, file);
            if (!File.Exists(full)) throw new FileNotFoundException($"checkpoint: {full} is missing", full);
            var actual = Hash(full);
            if (actual != expected)
                throw new InvalidDataException($"checkpoint: {full} is damaged (SHA-256 {actual[..12]}… does not match the recorded {expected[..12]}…)");
        }
        return state;
    }

    /// <summary>Restores model, optimizer and EMA from a verified checkpoint and returns its progress record.</summary>
    public static CheckpointState Load(string folder, Module model, Optimizer? optimizer = null, ModelEma? ema = null)
    {
        var state = ReadState(folder);
        model.LoadStateDict(SafeTensors.Load(Path.Combine(folder, ModelFile)));
        if (optimizer is not null)
        {
            if (state.OptimizerScalars is null) throw new InvalidDataException($"checkpoint: {folder} holds no optimizer state");
            var sd = new OptimizerStateDict();
            foreach (var (k, v) in SafeTensors.Load(Path.Combine(folder, OptimizerFile))) sd.Tensors[k] = v;
            foreach (var (k, v) in state.OptimizerScalars) sd.Scalars[k] = v;
            optimizer.LoadStateDict(sd);
        }
        if (ema is not null)
        {
            if (state.EmaUpdates is not int updates) throw new InvalidDataException($"checkpoint: {folder} holds no EMA weights");
            ema.Load(SafeTensors.Load(Path.Combine(folder, EmaFile)), updates);
        }
        return state;
    }
}

/// <summary>The JSON part of a checkpoint: where training stood and the small pieces of state.</summary>
public sealed record CheckpointState
{
    /// <summary>The epoch this checkpoint belongs to (1-based).</summary>
    public int Epoch { get; init; }
    /// <summary>Batches of <see cref="Epoch"/> already trained; equal to the epoch's batch count when it completed.</summary>
    public int BatchesDone { get; init; }
    /// <summary>True when the epoch completed (validation included).</summary>
    public bool EpochComplete { get; init; }
    /// <summary>Optimizer steps taken.</summary>
    public long GlobalStep { get; init; }
    /// <summary>Metrics of the finished epochs.</summary>
    public List<EpochMetrics> History { get; init; } = new();
    /// <summary>The scheduler's state dict.</summary>
    public Dictionary<string, double>? Scheduler { get; init; }
    /// <summary>The GradScaler's scale and growth tracker.</summary>
    public double[]? Scaler { get; init; }
    /// <summary>Generator states by name (e.g. "default").</summary>
    public Dictionary<string, GeneratorState> Generators { get; init; } = new();
    /// <summary>Free-form run information (config, model name).</summary>
    public Dictionary<string, string> Metadata { get; init; } = new();
    /// <summary>Optimizer scalars (filled by <see cref="Checkpoint.Save"/>).</summary>
    public Dictionary<string, double>? OptimizerScalars { get; init; }
    /// <summary>EMA update count (filled by <see cref="Checkpoint.Save"/>).</summary>
    public int? EmaUpdates { get; init; }
    /// <summary>SHA-256 of each tensor file (filled by <see cref="Checkpoint.Save"/>).</summary>
    public Dictionary<string, string>? Files { get; init; }

    /// <summary>Captures a scaler's state.</summary>
    public static double[] ScalerState(GradScaler scaler) { var (s, g) = scaler.StateDict(); return [s, g]; }
}
