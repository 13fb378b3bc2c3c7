using System.Diagnostics;
using System.Text.Json.Nodes;
using Ember.Interop;
using Ember.Nn;
using Ember.Nn.Layers;
using Ember.Optim;
using Ember.Training;

namespace Ember.Tests.Training;

/// <summary>A checkpoint is written whole or not at all, and a folder that is not exactly one checkpoint is refused, naming the file.</summary>
public class CheckpointIntegrityTests
{
    sealed class Fixture : IDisposable
    {
        public readonly string Root = Directory.CreateTempSubdirectory("ember-ckpt").FullName;
        public string Folder => Path.Combine(Root, "last");
        public readonly Linear Model = new(3, 2, generator: new Generator(1));
        public readonly Sgd Optimizer;
        public readonly ModelEma Ema;

        public Fixture()
        {
            Optimizer = new Sgd(Model.Parameters(), new SgdOptions { LearningRate = 0.1, Momentum = 0.9 });
            Ema = new ModelEma(Model, 0.9);
        }

        public void Step(int i)
        {
            Optimizer.ZeroGrad();
            Model.Call(Torch.Randn([4, 3], generator: new Generator(100 + i))).Square().Mean().Backward();
            Optimizer.Step();
            Ema.Update();
        }

        public void Save(int epoch) => Checkpoint.Save(Folder, Model, new CheckpointState { Epoch = epoch, GlobalStep = epoch }, Optimizer, Ema);

        public string Json => Path.Combine(Folder, Checkpoint.JsonFile);

        public void EditJson(Action<JsonObject> edit)
        {
            var node = JsonNode.Parse(File.ReadAllText(Json))!.AsObject();
            edit(node);
            File.WriteAllText(Json, node.ToJsonString());
        }

        public void Dispose() => Directory.Delete(Root, true);
    }

    [Fact]
    public void A_cut_epochs_running_sums_round_trip_exactly_and_a_checkpoint_from_before_them_still_reads()
    {
        using var f = new Fixture();
        var sums = new PartialEpochSums(0.1 + 0.2 + 1e-17 * 3, 320, 271, 320); // a sum whose last bits matter
        Checkpoint.Save(f.Folder, f.Model, new CheckpointState { Epoch = 2, BatchesDone = 5, GlobalStep = 13, PartialEpoch = sums }, f.Optimizer, f.Ema);
        var read = Checkpoint.ReadState(f.Folder);
        Assert.Equal(sums, read.PartialEpoch);
        Assert.Equal(BitConverter.DoubleToInt64Bits(sums.LossSum), BitConverter.DoubleToInt64Bits(read.PartialEpoch!.LossSum));
        // written before the field existed: no PartialEpoch member at all
        f.EditJson(node => node.Remove(nameof(CheckpointState.PartialEpoch)));
        Assert.Null(Checkpoint.ReadState(f.Folder).PartialEpoch);
        // every other member stays required: a missing one is still damage
        f.EditJson(node => node.Remove(nameof(CheckpointState.BatchesDone)));
        Assert.Throws<CheckpointException>(() => Checkpoint.ReadState(f.Folder));
    }

    [Fact]
    public void The_ranks_sums_of_a_cut_epoch_round_trip_and_counts_that_do_not_add_up_are_damage()
    {
        using var f = new Fixture();
        List<PartialEpochSums> ranks = [new(0.1 + 0.2, 160, 130, 160), new(1e-17 * 3 + 0.3, 160, 141, 160)];
        var total = PartialEpochSums.Total(ranks);
        Assert.Equal(new PartialEpochSums(0.1 + 0.2 + (1e-17 * 3 + 0.3), 320, 271, 320), total); // added in rank order
        Checkpoint.Save(f.Folder, f.Model, new CheckpointState { Epoch = 2, BatchesDone = 5, GlobalStep = 13, PartialEpoch = total, PartialEpochRanks = ranks }, f.Optimizer, f.Ema);
        var read = Checkpoint.ReadState(f.Folder);
        Assert.Equal(ranks, read.PartialEpochRanks);
        Assert.Equal(total, read.PartialEpoch);

        f.EditJson(o => o["PartialEpochRanks"]![1]!["Samples"] = 161);
        Assert.Contains("partial_epoch_ranks (2 ranks) do not add up to partial_epoch", Assert.Throws<CheckpointException>(() => Checkpoint.ReadState(f.Folder)).Message);
        f.EditJson(o => { o.Remove("PartialEpochRanks"); o["PartialEpoch"]!["Correct"] = 321; });
        Assert.Contains("partial_epoch counts 321 correct of 320 classified of 320 samples", Assert.Throws<CheckpointException>(() => Checkpoint.ReadState(f.Folder)).Message);
    }

    [Theory]
    [InlineData("model.safetensors")]
    [InlineData("optimizer.safetensors")]
    [InlineData("ema.safetensors")]
    [InlineData("checkpoint.json")]
    [InlineData("swap")]
    public void A_save_that_fails_after_any_file_leaves_the_previous_checkpoint_loadable(string failAfter)
    {
        using var f = new Fixture();
        f.Step(0);
        f.Save(1);
        var savedWeight = f.Model.Weight.ToArray<float>();
        var savedShadow = f.Ema.Shadow["weight"].ToArray<float>();
        f.Step(1);
        Assert.NotEqual(savedWeight, f.Model.Weight.ToArray<float>());

        // a full disk: the write after that file fails with the error the OS gives
        Checkpoint.FaultInjection.Value = name => { if (name == failAfter) throw new IOException("No space left on device"); };
        try { Assert.Throws<IOException>(() => f.Save(2)); }
        finally { Checkpoint.FaultInjection.Value = null; }

        var (model, optimizer, ema) = (new Linear(3, 2, generator: new Generator(9)), (Sgd?)null, (ModelEma?)null);
        optimizer = new Sgd(model.Parameters(), new SgdOptions { LearningRate = 0.1, Momentum = 0.9 });
        ema = new ModelEma(model, 0.9);
        var state = Checkpoint.Load(f.Folder, model, optimizer, ema);
        Assert.Equal(1, state.Epoch);
        Assert.Equal(savedWeight, model.Weight.ToArray<float>());
        Assert.Equal(savedShadow, ema.Shadow["weight"].ToArray<float>());
        Assert.Equal(["last"], Directory.GetFileSystemEntries(f.Root).Select(Path.GetFileName)); // no staging leftovers

        f.Save(2); // the next save goes through
        Assert.Equal(2, Checkpoint.ReadState(f.Folder).Epoch);
    }

    [Fact]
    public void A_crash_between_the_two_renames_falls_back_to_the_previous_checkpoint()
    {
        using var f = new Fixture();
        f.Save(1);
        // what the first rename and a half-written staging folder leave when the process dies there
        Directory.Move(f.Folder, Path.Combine(f.Root, ".last.old"));
        Directory.CreateDirectory(Path.Combine(f.Root, ".last.new"));
        File.WriteAllText(Path.Combine(f.Root, ".last.new", "model.safetensors"), "partial");
        Assert.Equal(1, Checkpoint.ReadState(f.Folder).Epoch);
        f.Save(2);
        Assert.Equal(2, Checkpoint.ReadState(f.Folder).Epoch);
        Assert.Equal(["last"], Directory.GetFileSystemEntries(f.Root).Select(Path.GetFileName));
    }

    public static TheoryData<string, string> DamagedRecords => new()
    {
        { """{"..\/..\/etc\/passwd": "00"}""", "it lists '../../etc/passwd', which is not one of this checkpoint's files" },
        { """{"/etc/passwd": "00"}""", "it lists '/etc/passwd'" },
        { "null", "it has no 'Files' list of SHA-256 hashes" },
        { "{}", "it records no valid SHA-256 for model.safetensors" },
        { """{"model.safetensors": null}""", "it records no valid SHA-256 for model.safetensors" },
        { """{"model.safetensors": "abc"}""", "it records no valid SHA-256 for model.safetensors (expected 64 hex digits, got 'abc')" },
    };

    [Theory]
    [MemberData(nameof(DamagedRecords))]
    public void The_file_list_comes_from_the_format_and_every_hash_must_be_there(string files, string expected)
    {
        using var f = new Fixture();
        Checkpoint.Save(f.Folder, f.Model, new CheckpointState { Epoch = 1 }); // model only: the list is exactly model.safetensors
        f.EditJson(o => o["Files"] = JsonNode.Parse(files));
        var ex = Assert.Throws<CheckpointException>(() => Checkpoint.ReadState(f.Folder));
        Assert.Contains($"{f.Json} is damaged", ex.Message);
        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void A_missing_or_swapped_file_is_named()
    {
        using var f = new Fixture();
        f.Save(1);
        File.Delete(Path.Combine(f.Folder, "ema.safetensors"));
        var ex = Assert.Throws<CheckpointException>(() => Checkpoint.ReadState(f.Folder));
        Assert.Contains($"{Path.Combine(f.Folder, "ema.safetensors")} is missing", ex.Message);
        Assert.Equal(Path.Combine(f.Folder, "ema.safetensors"), ex.File); // typed: the file and the problem apart
        Assert.Equal("is missing", ex.Problem);

        // a model file from another checkpoint of the same run: valid safetensors, wrong set
        f.Save(1);
        var other = Path.Combine(f.Root, "other");
        f.Step(3);
        Checkpoint.Save(other, f.Model, new CheckpointState { Epoch = 2 }, f.Optimizer, f.Ema);
        File.Copy(Path.Combine(other, "model.safetensors"), Path.Combine(f.Folder, "model.safetensors"), overwrite: true);
        ex = Assert.Throws<CheckpointException>(() => Checkpoint.Load(f.Folder, f.Model, f.Optimizer, f.Ema));
        Assert.Contains($"{Path.Combine(f.Folder, "model.safetensors")} is damaged or from another checkpoint", ex.Message);
    }

    [Fact]
    public void Links_fifos_and_folders_are_refused_without_being_opened()
    {
        using var f = new Fixture();
        f.Save(1);
        var model = Path.Combine(f.Folder, "model.safetensors");
        File.Delete(model);
        File.CreateSymbolicLink(model, "/dev/zero");
        var ex = Assert.Throws<CheckpointException>(() => Checkpoint.ReadState(f.Folder));
        Assert.Contains($"{model} is a symbolic link (to /dev/zero)", ex.Message);

        File.Delete(model);
        using (var mkfifo = Process.Start("mkfifo", [model])) mkfifo.WaitForExit();
        var clock = Stopwatch.StartNew();
        ex = Assert.Throws<CheckpointException>(() => Checkpoint.ReadState(f.Folder)); // opening a FIFO would block forever
        Assert.Contains($"{model} is empty or not a regular file", ex.Message);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5));

        File.Delete(model);
        Directory.CreateDirectory(model);
        ex = Assert.Throws<CheckpointException>(() => Checkpoint.ReadState(f.Folder));
        Assert.Contains($"{model} is a folder, expected a file", ex.Message);
    }

    // A record is read exactly as written: a member renamed, repeated or missing would otherwise become a default silently.
    public static TheoryData<string, string> StrictRecords => new()
    {
        { "renamed", "'BatchesDonf' could not be mapped" },
        { "repeated", "Duplicate property 'Epoch'" },
        { "missing", "missing required properties including: 'GlobalStep'" },
        { "row member missing", "missing required properties including: 'Top5'" },
        { "zero generator", "generator 'default' has the all-zero state" },
        { "accuracy", "history row 1 has an accuracy outside 0..1" },
        { "rows", "history has 1 rows for 0 epoch(s)" },
        { "negative", "must not be negative" },
        { "scaler", "scaler state [1] is not a positive finite scale" },
    };

    [Theory]
    [MemberData(nameof(StrictRecords))]
    public void Renamed_repeated_missing_or_inconsistent_members_are_damage(string edit, string expected)
    {
        using var f = new Fixture();
        Checkpoint.Save(f.Folder, f.Model, new CheckpointState
        {
            Epoch = 1,
            BatchesDone = 2,
            EpochComplete = true,
            GlobalStep = 2,
            History = [new EpochMetrics(1, 0.5, 0.5, 0.5, 0.5, 0.5, 0.1, 1)],
            Generators = new() { ["default"] = new Generator(3).GetState() },
        });
        Checkpoint.ReadState(f.Folder); // the record as written is fine
        var text = File.ReadAllText(f.Json);
        switch (edit)
        {
            case "renamed": text = text.Replace("\"BatchesDone\"", "\"BatchesDonf\""); break;
            case "repeated": text = text.Replace("\"Epoch\": 1,", "\"Epoch\": 1, \"Epoch\": 2,"); break;
            case "missing": f.EditJson(o => o.Remove("GlobalStep")); text = File.ReadAllText(f.Json); break;
            case "row member missing": f.EditJson(o => o["History"]![0]!.AsObject().Remove("Top5")); text = File.ReadAllText(f.Json); break;
            case "zero generator": f.EditJson(o => o["Generators"]!["default"]!["Words"] = new JsonArray(0, 0, 0, 0)); text = File.ReadAllText(f.Json); break;
            case "accuracy": f.EditJson(o => o["History"]![0]!["Top1"] = 60.5); text = File.ReadAllText(f.Json); break;
            case "rows": f.EditJson(o => o["Epoch"] = 0); text = File.ReadAllText(f.Json); break;
            case "negative": f.EditJson(o => o["BatchesDone"] = -1); text = File.ReadAllText(f.Json); break;
            case "scaler": f.EditJson(o => o["Scaler"] = new JsonArray(1)); text = File.ReadAllText(f.Json); break;
        }
        File.WriteAllText(f.Json, text);
        var ex = Assert.Throws<CheckpointException>(() => Checkpoint.ReadState(f.Folder));
        Assert.Equal(f.Json, ex.File);
        Assert.Contains(expected, ex.Message);
    }

    [LinuxTheory]
    [InlineData("link", "is a symbolic link (to /dev/zero); only regular files are read")]
    [InlineData("fifo", "is a FIFO (named pipe), not a regular file")]
    public void A_file_swapped_after_its_check_is_refused_by_the_opened_handle(string swap, string problem)
    {
        using var f = new Fixture();
        f.Save(1);
        var model = Path.Combine(f.Folder, "model.safetensors");
        Ember.Data.UntrustedFile.BetweenCheckAndOpen.Value = path =>
        {
            if (path != model) return;
            File.Delete(path);
            if (swap == "link") File.CreateSymbolicLink(path, "/dev/zero");
            else Assert.True(Ember.Tests.Interop.HostileFile.MakeFifo(path));
        };
        try
        {
            var ex = Ember.Tests.Interop.HostileFile.Refused<CheckpointException>(() => Checkpoint.ReadState(f.Folder), model, problem, timeoutMs: 5_000);
            Assert.Equal(model, ex.File);
        }
        finally { Ember.Data.UntrustedFile.BetweenCheckAndOpen.Value = null; }
    }

    [Fact]
    public void Tensors_whose_hash_matches_but_shape_does_not_are_refused_naming_the_file()
    {
        using var f = new Fixture();
        f.Save(1);
        // an EMA shadow of shape [1] that CopyFrom would have broadcast: rewritten with a consistent hash
        var ema = Path.Combine(f.Folder, "ema.safetensors");
        SafeTensors.Save(ema, new Dictionary<string, Tensor> { ["weight"] = Torch.Zeros([1]), ["bias"] = Torch.Zeros([2]) });
        var hash = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(ema))).ToLowerInvariant();
        f.EditJson(o => o["Files"]!["ema.safetensors"] = hash);
        var before = f.Ema.Shadow["weight"].ToArray<float>();
        var ex = Assert.Throws<CheckpointException>(() => Checkpoint.Load(f.Folder, f.Model, f.Optimizer, f.Ema));
        Assert.Contains($"{ema} does not fit the model: ModelEma: the saved shadow's 'weight' is Float32 [1], the model's is Float32 [2, 3]", ex.Message);
        Assert.Equal(before, f.Ema.Shadow["weight"].ToArray<float>());

        var wrongModel = Assert.Throws<CheckpointException>(() => Checkpoint.Load(f.Folder, new Linear(4, 2)));
        Assert.Contains($"{Path.Combine(f.Folder, "model.safetensors")} does not fit the model Linear", wrongModel.Message);
    }

    [Fact]
    public void Best_saved_from_the_ema_is_evaluated_as_is_and_last_evaluates_its_ema()
    {
        using var f = new Fixture();
        f.Step(0);
        f.Step(1);
        Assert.NotEqual(f.Ema.Shadow["weight"].ToArray<float>(), f.Model.Weight.ToArray<float>());
        f.Save(1);
        var best = Path.Combine(f.Root, "best");
        Checkpoint.Save(best, f.Ema.Shadow, new CheckpointState { Epoch = 1, ModelIsEma = true });

        var fromLast = new Linear(3, 2);
        Checkpoint.LoadForInference(f.Folder, fromLast);
        Assert.Equal(f.Ema.Shadow["weight"].ToArray<float>(), fromLast.Weight.ToArray<float>());
        var fromBest = new Linear(3, 2);
        Checkpoint.LoadForInference(best, fromBest);
        Assert.Equal(f.Ema.Shadow["weight"].ToArray<float>(), fromBest.Weight.ToArray<float>());
        var live = new Linear(3, 2);
        Checkpoint.Load(f.Folder, live);
        Assert.Equal(f.Model.Weight.ToArray<float>(), live.Weight.ToArray<float>());
        var resumeFromBest = Assert.Throws<CheckpointException>(() => Checkpoint.Load(best, live, f.Optimizer));
        Assert.Contains("holds the EMA weights only (a run's best/); resume from last/", resumeFromBest.Message);
    }

    static CheckpointState Valid(Action<CheckpointStateBuilder>? change = null)
    {
        var b = new CheckpointStateBuilder();
        change?.Invoke(b);
        return b.Build();
    }

    sealed class CheckpointStateBuilder
    {
        public int Epoch = 2, BatchesDone = 3; public long Step = 6; public int? EmaUpdates = 6;
        public Dictionary<string, double>? Scheduler = new() { ["last_epoch"] = 6, ["_step_count"] = 7, ["base_lrs.0"] = 0.1, ["_last_lr.0"] = 0.05 };
        public double[]? Scaler;
        public int Rows = 1;
        public CheckpointState Build() => new()
        {
            Epoch = Epoch,
            BatchesDone = BatchesDone,
            EpochComplete = false,
            GlobalStep = Step,
            EmaUpdates = EmaUpdates,
            Scheduler = Scheduler,
            Scaler = Scaler,
            History = Enumerable.Range(1, Rows).Select(e => new EpochMetrics(e, 1, 0.5, 1, 0.5, 0.9, 0.1, 1)).ToList(),
        };
    }

    public static TheoryData<string, string> OutOfRange => new()
    {
        { "epoch", "epoch 2147483647 is outside this run's 1..5" },
        { "epoch0", "epoch 0 is outside this run's 1..5" },
        { "batches", "batches_done 8 is outside 0..7" },
        { "step", "global_step 9223372036854775807 is outside 0..6" },
        { "ema", "ema_updates 7 is outside 0..6" },
        { "history", "history has 0 rows, expected 1" },
        { "scheduler", "scheduler 'last_epoch' 1E+30 is outside -1..7" },
        { "lr", "scheduler '_last_lr.0' is NaN" },
        { "nested", "scheduler '_schedulers.1.last_epoch' -5 is outside -1..7" },
        { "scaler", "scaler state [-1, 0] is not a positive finite scale" },
    };

    [Theory]
    [MemberData(nameof(OutOfRange))]
    public void Counters_are_range_checked_against_the_run(string field, string expected)
    {
        // 5 epochs of 8 batches, 2 micro-batches per step: 4 steps per epoch, so epoch 2 after 3 batches allows at most 4 + 2 steps
        var valid = Valid();
        valid.CheckRange("ck.json", epochs: 5, batchesPerEpoch: 8, accumulation: 2);
        var state = Valid(b =>
        {
            switch (field)
            {
                case "epoch": b.Epoch = int.MaxValue; break;
                case "epoch0": b.Epoch = 0; break;
                case "batches": b.BatchesDone = 8; break;
                case "step": b.Step = long.MaxValue; break;
                case "ema": b.EmaUpdates = 7; break;
                case "history": b.Rows = 0; break;
                case "scheduler": b.Scheduler!["last_epoch"] = 1e30; break;
                case "lr": b.Scheduler!["_last_lr.0"] = double.NaN; break;
                case "nested": b.Scheduler!["_schedulers.1.last_epoch"] = -5; break;
                case "scaler": b.Scaler = [-1, 0]; break;
            }
        });
        var ex = Assert.Throws<CheckpointException>(() => state.CheckRange("ck.json", epochs: 5, batchesPerEpoch: 8, accumulation: 2));
        Assert.StartsWith("checkpoint: ck.json: ", ex.Message);
        Assert.Contains(expected, ex.Message);
    }
}
