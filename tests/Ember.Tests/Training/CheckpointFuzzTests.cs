using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Ember.Nn.Layers;
using Ember.Optim;
using Ember.Tests.Interop;
using Ember.Training;
using Xunit.Abstractions;

namespace Ember.Tests.Training;

/// <summary>
/// Bounded fuzzing of checkpoint.json with fixed seeds, in a run's last/ (resumed: Load with optimizer and EMA, then the
/// range check against the run) and best/ (evaluated: LoadForInference). Every mutated record is either refused with a
/// <see cref="CheckpointException"/> naming a file of that checkpoint, or loads a checkpoint that is consistent: counters in
/// range for the run, the very weights that were saved, and a record that survives a save and a read unchanged. Never
/// another exception, a hang, a large allocation, or a change to any file under the run folder.
/// </summary>
public class CheckpointFuzzTests(ITestOutputHelper output) : IDisposable
{
    readonly string root = Directory.CreateTempSubdirectory("ember-fuzz-ckpt-").FullName;
    public void Dispose() => Directory.Delete(root, true);

    const int Iterations = 250;
    // the run the checkpoint belongs to: 3 epochs of 4 batches, 2 micro-batches per optimizer step
    const int Epochs = 3, BatchesPerEpoch = 4, Accumulation = 2;

    sealed class Run
    {
        public readonly string Folder, Last, Best;
        public readonly byte[] LastJson, BestJson;
        public readonly double[] LiveWeights, EmaWeights;

        public Run(string root)
        {
            Folder = Path.Combine(root, "exp1");
            Last = Path.Combine(Folder, "last");
            Best = Path.Combine(Folder, "best");
            var (model, optimizer, ema) = Parts();
            for (int i = 0; i < 2; i++)
            {
                optimizer.ZeroGrad();
                model.Call(Torch.Randn([4, 3], generator: new Generator(7 + i))).Square().Mean().Backward();
                optimizer.Step();
                ema.Update();
            }
            var state = new CheckpointState
            {
                Epoch = 2,
                BatchesDone = 1,
                EpochComplete = false,
                GlobalStep = 2,
                History = [new EpochMetrics(1, 0.9, 0.5, 0.8, 0.6, 0.95, 0.1, 1.5)],
                Scheduler = new() { ["last_epoch"] = 2, ["_step_count"] = 3, ["base_lrs.0"] = 0.1, ["_last_lr.0"] = 0.05 },
                Scaler = [65536, 1],
                Generators = new() { ["default"] = new Generator(42).GetState() },
                Callbacks = new() { ["best"] = new() { ["best"] = 0.6, ["epoch"] = 1 } },
                Metadata = new() { ["model"] = "linear", ["config"] = "abc" },
            };
            Checkpoint.Save(Last, model, state, optimizer, ema);
            Checkpoint.Save(Best, ema.Shadow, state with { Epoch = 1, BatchesDone = BatchesPerEpoch, EpochComplete = true, ModelIsEma = true });
            File.WriteAllText(Path.Combine(Folder, "args.yaml"), "model: linear\n");
            LastJson = File.ReadAllBytes(Path.Combine(Last, Checkpoint.JsonFile));
            BestJson = File.ReadAllBytes(Path.Combine(Best, Checkpoint.JsonFile));
            LiveWeights = Flat(model.StateDict());
            EmaWeights = Flat(ema.Shadow);
        }
    }

    static (Linear Model, Sgd Optimizer, ModelEma Ema) Parts()
    {
        var model = new Linear(3, 2, generator: new Generator(1));
        return (model, new Sgd(model.Parameters(), new SgdOptions { LearningRate = 0.1, Momentum = 0.9 }), new ModelEma(model, 0.9));
    }

    static double[] Flat(IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        var all = new List<double>();
        foreach (var (_, t) in tensors) all.AddRange(t.ToDoubleArray());
        return [.. all];
    }

    static readonly byte[] Interesting = Encoding.ASCII.GetBytes("{}[],:\"0123456789-+.eE ntfrul\\/");

    static byte[] MutateBytes(byte[] json, Random random)
    {
        var b = new List<byte>(json);
        for (int k = random.Next(1, 4); k > 0; k--)
        {
            int at = random.Next(Math.Max(1, b.Count));
            switch (random.Next(8))
            {
                case 0: if (b.Count > 0) b[at] ^= (byte)(1 << random.Next(8)); break;
                case 1: if (b.Count > 0) b[at] = Interesting[random.Next(Interesting.Length)]; break;
                case 2: if (b.Count > 0) b.RemoveAt(at); break;
                case 3: b.Insert(at, Interesting[random.Next(Interesting.Length)]); break;
                case 4: // a run of bytes copied elsewhere (duplicated keys, values in the wrong place)
                    int length = random.Next(1, Math.Max(2, Math.Min(60, b.Count - at)));
                    if (at + length <= b.Count) b.InsertRange(random.Next(b.Count), b.GetRange(at, length));
                    break;
                case 5: // a digit changed: a counter, a hash or a metric moves
                    int digit = b.FindIndex(random.Next(b.Count), c => c is >= (byte)'0' and <= (byte)'9');
                    if (digit >= 0) b[digit] = (byte)('0' + random.Next(10));
                    break;
                case 6: // whitespace: the same record
                    int sep = b.FindIndex(random.Next(b.Count), c => c is (byte)',' or (byte)':');
                    if (sep >= 0) b.Insert(sep + 1, (byte)' ');
                    break;
                default: if (b.Count > 0) b.RemoveRange(at, Math.Min(b.Count - at, random.Next(1, 200))); break; // truncation
            }
        }
        return [.. b];
    }

    static JsonNode? InterestingValue(Random random) => random.Next(16) switch
    {
        0 => JsonValue.Create(int.MaxValue),
        1 => JsonValue.Create((long)int.MaxValue + 1),
        2 => JsonValue.Create(long.MaxValue),
        3 => JsonValue.Create(-1),
        4 => JsonValue.Create(0),
        5 => JsonValue.Create(1e308),
        6 => JsonValue.Create("NaN"),
        7 => JsonValue.Create("-Infinity"),
        8 => JsonValue.Create(2.5),
        9 => null,
        10 => JsonValue.Create(true),
        11 => new JsonArray(),
        12 => new JsonObject(),
        13 => JsonValue.Create("../../model.safetensors"),
        14 => JsonValue.Create(new string('9', 400)),
        _ => JsonValue.Create(random.Next(-3, 9)),
    };

    static readonly string[] FileKeys = ["model.safetensors", "optimizer.safetensors", "ema.safetensors", "../exp1/last/model.safetensors", "/dev/zero", "args.yaml", ""];

    // Every (parent, key-or-index) in the tree, so a mutation can reach any depth.
    static void Slots(JsonNode node, List<(JsonNode Parent, object Key)> slots)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, child) in o.ToArray()) { slots.Add((o, key)); if (child is not null) Slots(child, slots); }
                break;
            case JsonArray a:
                for (int i = 0; i < a.Count; i++) { slots.Add((a, i)); if (a[i] is JsonNode child) Slots(child, slots); }
                break;
        }
    }

    static byte[] MutateStructure(byte[] json, Random random)
    {
        var rootNode = JsonNode.Parse(json)!;
        string? suffix = null;
        for (int k = random.Next(1, 4); k > 0; k--)
        {
            var slots = new List<(JsonNode Parent, object Key)>();
            Slots(rootNode, slots);
            var (parent, key) = slots[random.Next(slots.Count)];
            switch (random.Next(7))
            {
                case 0:
                case 1: // a value replaced by one from the edges (huge, negative, NaN, wrong type, a path)
                    if (parent is JsonObject po) po[(string)key] = InterestingValue(random);
                    else ((JsonArray)parent)[(int)key] = InterestingValue(random);
                    break;
                case 2: // an entry removed
                    if (parent is JsonObject ro) ro.Remove((string)key);
                    else ((JsonArray)parent).RemoveAt((int)key);
                    break;
                case 3: // an entry renamed (a tensor file under another name, a path that leaves the folder)
                    if (parent is JsonObject no && no[(string)key] is var moved)
                    {
                        no.Remove((string)key);
                        var name = FileKeys[random.Next(FileKeys.Length)];
                        if (!no.ContainsKey(name)) no[name] = moved;
                    }
                    break;
                case 4: // two recorded hashes swapped (each file then fails its own check)
                    if (rootNode["Files"] is JsonObject files && files.Count >= 2)
                    {
                        var names = files.Select(p => p.Key).ToArray();
                        var (a, b) = (names[0], names[random.Next(1, names.Length)]);
                        (files[a], files[b]) = (files[b]?.DeepClone(), files[a]?.DeepClone());
                    }
                    break;
                case 5: // a key given twice, the second with another value
                    if (parent is JsonObject) suffix = $",\"{(parent == rootNode ? key : "Epoch")}\":{InterestingValue(random)?.ToJsonString() ?? "null"}";
                    break;
                default: // deep nesting in place of a value: the parser's depth limit, never a stack overflow
                    var deep = new string('[', 5000) + new string(']', 5000);
                    suffix = $",\"Metadata\":{deep}";
                    break;
            }
        }
        var text = rootNode.ToJsonString();
        if (suffix is not null && text.EndsWith('}')) text = text[..^1] + suffix + "}";
        return Encoding.UTF8.GetBytes(text);
    }

    static Dictionary<string, string> Snapshot(string folder)
    {
        var hashes = new Dictionary<string, string>();
        foreach (var file in Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories))
            hashes[file] = File.Exists(file) ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(file))) : "folder";
        return hashes;
    }

    // Loads the mutated record as resume (last/) or evaluation (best/) would; returns null when it was refused.
    static CheckpointState? Load(Run run, bool resume, out double[] weights)
    {
        var (model, optimizer, ema) = Parts();
        if (resume)
        {
            var state = Checkpoint.Load(run.Last, model, optimizer, ema);
            state.CheckRange(Path.Combine(run.Last, Checkpoint.JsonFile), Epochs, BatchesPerEpoch, Accumulation);
            weights = Flat(model.StateDict());
            return state;
        }
        var evaluated = Checkpoint.LoadForInference(run.Best, model);
        weights = Flat(model.StateDict());
        return evaluated;
    }

    (int Refused, int Loaded) Fuzz(bool resume, Func<byte[], Random, byte[]> mutate, int seed)
    {
        var run = new Run(root);
        var folder = resume ? run.Last : run.Best;
        var json = Path.Combine(folder, Checkpoint.JsonFile);
        var original = resume ? run.LastJson : run.BestJson;
        var random = new Random(seed);
        int refused = 0, loaded = 0;
        for (int i = 0; i < Iterations; i++)
        {
            var mutated = mutate(original, random);
            File.WriteAllBytes(json, mutated);
            var before = Snapshot(run.Folder);
            CheckpointState? state = null;
            double[] weights = [];
            var (error, allocated, _) = HostileFile.Run(() => state = Load(run, resume, out weights), timeoutMs: 10_000);
            var context = $"iteration {i}: {Encoding.UTF8.GetString(mutated[..Math.Min(mutated.Length, 2000)])}";
            Assert.True(allocated < HostileFile.DefaultMaxAllocated, $"{context}\nallocated {allocated:N0} bytes");
            Assert.Equal(before, Snapshot(run.Folder)); // nothing under the run folder was written, removed or added
            if (error is not null)
            {
                var e = Assert.IsType<CheckpointException>(error, exactMatch: true);
                Assert.True(e.File.StartsWith(folder, StringComparison.Ordinal), $"{context}\n{e.Message} names {e.File}, not a file of {folder}");
                Assert.Contains(e.File, e.Message);
                Assert.False(string.IsNullOrWhiteSpace(e.Problem), context);
                refused++;
                continue;
            }
            // accepted: the weights that were saved, and a record that is the same after a save and a read
            Assert.Equal(resume ? run.LiveWeights : run.EmaWeights, weights);
            var again = Path.Combine(root, "again");
            Checkpoint.Save(again, new Linear(3, 2).StateDict(), state! with { Files = null, OptimizerScalars = null, EmaUpdates = null });
            var reread = Checkpoint.ReadState(again);
            Assert.Equal(state!.Epoch, reread.Epoch);
            Assert.Equal(state.GlobalStep, reread.GlobalStep);
            Assert.Equal(state.History, reread.History);
            Assert.Equal(state.Scheduler, reread.Scheduler);
            Assert.Equal(state.Metadata, reread.Metadata);
            loaded++;
        }
        output.WriteLine($"{(resume ? "last/" : "best/")}: {refused} refused, {loaded} loaded");
        return (refused, loaded);
    }

    [Fact]
    public void Byte_mutations_of_a_resumed_checkpoint_json_are_refused_naming_the_file_or_load_consistently()
    {
        var (refused, loaded) = Fuzz(resume: true, MutateBytes, seed: 20261203);
        Assert.InRange(refused, Iterations / 2, Iterations - 1); // the mutations reach the checks, and harmless ones still load
        Assert.True(loaded > 0);
    }

    [Fact]
    public void Structural_mutations_of_a_resumed_checkpoint_json_are_refused_naming_the_file_or_load_consistently()
    {
        var (refused, _) = Fuzz(resume: true, MutateStructure, seed: 1812);
        Assert.InRange(refused, Iterations / 2, Iterations);
    }

    [Fact]
    public void Mutations_of_an_evaluated_best_checkpoint_json_are_refused_naming_the_file_or_load_the_saved_weights()
    {
        var (refused, loaded) = Fuzz(resume: false, (json, random) => random.Next(2) == 0 ? MutateBytes(json, random) : MutateStructure(json, random), seed: 77);
        Assert.InRange(refused, Iterations / 3, Iterations - 1);
        Assert.True(loaded > 0);
    }
}
