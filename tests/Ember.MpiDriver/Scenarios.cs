using Ember.Autograd;
using Ember.Distributed;
using Ember.Nn;
using Ember.Nn.Functional;
using Ember.Nn.Layers;
using Ember.Optim;
using Dist = Ember.Distributed.Distributed;

namespace Ember.MpiDriver;

/// <summary>The multi-process checks of distributed training and the example the docs show.</summary>
internal static class Scenarios
{
    public static int Run(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "suite";
        double timeoutSeconds = args.Length > 1 ? double.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 60;
        Dist.InitProcessGroup(timeout: TimeSpan.FromSeconds(timeoutSeconds));
        switch (mode)
        {
            case "suite":
                Run("collectives", Collectives);
                Run("sgd-equivalence", () => Equivalence(p => new Sgd(p, new SgdOptions { LearningRate = 0.1, Momentum = 0.9 })));
                Run("adamw-equivalence", () => Equivalence(p => new AdamW(p, new AdamWOptions { LearningRate = 0.01, WeightDecay = 0.01 })));
                Run("no-sync", NoSyncAccumulation);
                Run("buffers", BufferBroadcast);
                Run("mismatch", Mismatch);
                Run("second-backward", SecondBackward);
                Run("unused-parameters", UnusedParameters);
                Run("sync-batchnorm", SyncBatchNormEquivalence);
                Run("epoch-metrics", EpochMetrics);
                Run("stop-consensus", StopConsensus);
                Run("step-stats", StepStats);
                Run("validation-metrics", ValidationMetrics);
                break;
            case "raise":
                // Rank 1 fails before the all-reduce its peers wait in; the unhandled exception must end the whole job.
                if (Dist.Rank == 1) throw new InvalidOperationException("rank 1 fails on purpose before the all-reduce");
                Dist.AllReduce(Torch.Ones(4));
                Console.WriteLine($"rank {Dist.Rank}: the all-reduce returned although rank 1 never joined it");
                break;
            case "hang":
                // Rank 1 stays alive but never joins: the peers' wait must end with a timeout error, not hang.
                if (Dist.Rank == 1) { Thread.Sleep(TimeSpan.FromSeconds(timeoutSeconds * 20)); break; }
                Dist.AllReduce(Torch.Ones(4));
                break;
            case "allreduce-timing":
                AllReduceTiming();
                break;
            case "example":
                Example.Train();
                break;
            default:
                Console.Error.WriteLine($"unknown mode '{mode}' (suite, raise, hang, example, allreduce-timing)");
                return 2;
        }
        Dist.DestroyProcessGroup();
        return 0;
    }

    // A passing scenario may leave a note for its result line (the measured difference).
    static string? note;

    /// <summary>
    /// The time of one float32 all-reduce at a few sizes (the fastest of 5 after a warm-up) and the algorithm bandwidth
    /// it implies (bytes / time). A quick look at the engine, not a benchmark row: no steps, no overlap.
    /// </summary>
    static void AllReduceTiming()
    {
        foreach (int mib in new[] { 1, 4, 25, 100 })
        {
            var t = Torch.Ones([mib * 1024 * 1024 / 4]);
            Dist.AllReduce(t);
            double best = double.MaxValue;
            for (int rep = 0; rep < 5; rep++)
            {
                Dist.Barrier();
                var clock = System.Diagnostics.Stopwatch.StartNew();
                Dist.AllReduce(t);
                best = Math.Min(best, clock.Elapsed.TotalSeconds);
            }
            var slowest = Torch.FromArray(new double[] { best }, [1]);
            Dist.AllReduce(slowest, ReduceOp.Max);
            if (Dist.Rank == 0)
                Console.WriteLine($"allreduce {mib,4} MiB float32 over {Dist.WorldSize} ranks: {slowest.Item() * 1e3,8:F2} ms, {mib / 1024.0 / slowest.Item(),6:F2} GiB/s");
        }
    }

    static void Run(string name, Func<string?> scenario)
    {
        string? failure;
        note = null;
        try { failure = scenario(); }
        catch (Exception e) { failure = $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" "); }
        var line = $"RESULT {name} rank {Dist.Rank} {(failure is null ? "PASS" + (note is null ? "" : " " + note) : "FAIL " + failure)}";
        Console.WriteLine(line);
        // mpirun interleaves the ranks' output mid-line; a test reads each rank's own file instead.
        if (Environment.GetEnvironmentVariable("EMBER_MPI_RESULTS") is { Length: > 0 } dir)
            File.AppendAllText(Path.Combine(dir, $"rank{Dist.Rank}.txt"), line + "\n");
        Dist.Barrier();
    }

    /// <summary>Each collective against values every rank can compute: rank r contributes f(r).</summary>
    static string? Collectives()
    {
        int rank = Dist.Rank, world = Dist.WorldSize;
        var errors = new List<string>();
        void Expect(string what, double[] expected, Tensor actual)
        {
            var got = actual.ToDoubleArray();
            for (int i = 0; i < expected.Length; i++)
                if (got.Length != expected.Length || Math.Abs(got[i] - expected[i]) > 1e-6)
                {
                    errors.Add($"{what}: expected [{string.Join(", ", expected)}], got [{string.Join(", ", got)}]");
                    return;
                }
        }
        double sumOfRanks = world * (world - 1) / 2.0;
        var t = Torch.FromArray(new float[] { rank, 2 * rank + 1 }, [2]);
        Dist.AllReduce(t, ReduceOp.Sum);
        Expect("AllReduce(sum)", [sumOfRanks, 2 * sumOfRanks + world], t);
        t = Torch.FromArray(new double[] { rank, -rank }, [2]);
        Dist.AllReduce(t, ReduceOp.Avg);
        Expect("AllReduce(avg) float64", [sumOfRanks / world, -sumOfRanks / world], t);
        t = Torch.FromArray(new float[] { rank, -rank }, [2]);
        Dist.AllReduce(t, ReduceOp.Max);
        Expect("AllReduce(max)", [world - 1, 0], t);
        t = Torch.FromArray(new float[] { rank, -rank }, [2]);
        Dist.AllReduce(t, ReduceOp.Min);
        Expect("AllReduce(min)", [0, -(world - 1)], t);
        t = Torch.FromArray(new long[] { rank + 1 }, [1]);
        Dist.AllReduce(t, ReduceOp.Sum);
        Expect("AllReduce(sum) int64", [sumOfRanks + world], t);

        // An async all-reduce of a view in the middle of a larger tensor: only the view changes.
        var big = Torch.Full([3, 4], rank + 1.0);
        var row = big.Select(0, 1);
        var work = Dist.AllReduceAsync(row, ReduceOp.Sum);
        work.Wait();
        if (!work.IsCompleted) errors.Add("Work.IsCompleted is false after Wait");
        Expect("AllReduceAsync of a row", [1 + rank, 1 + rank, 1 + rank, 1 + rank, sumOfRanks + world, sumOfRanks + world, sumOfRanks + world, sumOfRanks + world, 1 + rank, 1 + rank, 1 + rank, 1 + rank], big);

        int src = world - 1;
        t = Torch.FromArray(new float[] { 10 * rank, 10 * rank + 1, 10 * rank + 2 }, [3]);
        Dist.Broadcast(t, src);
        Expect($"Broadcast from rank {src}", [10 * src, 10 * src + 1, 10 * src + 2], t);

        var parts = Dist.AllGather(Torch.FromArray(new float[] { rank, 100 + rank }, [2]));
        var gathered = new List<double>();
        for (int r = 0; r < world; r++) gathered.AddRange([r, 100 + r]);
        Expect("AllGather", [.. gathered], Torch.Stack(parts));

        // Reduce-scatter: rank r sends (r + 1) * [0, 1, …, 2·world−1]; block k of the sum lands on rank k.
        var input = Torch.Arange(0, 2 * world, 1, DType.Float32) * (rank + 1);
        var output = Torch.Empty([2]);
        Dist.ReduceScatter(output, input, ReduceOp.Sum);
        double factor = sumOfRanks + world;
        Expect("ReduceScatter(sum)", [2 * rank * factor, (2 * rank + 1) * factor], output);

        // Argument errors name the call.
        try { Dist.AllGather(Torch.Empty([3]), Torch.Empty([2])); errors.Add("AllGather accepted a too-small output"); }
        catch (ArgumentException e) when (e.Message.Contains("AllGather")) { }
        Dist.Barrier();
        return errors.Count == 0 ? null : string.Join("; ", errors);
    }

    sealed class Mlp : Module
    {
        readonly Linear fc1, fc2;
        public Mlp(Generator g, int hidden = 16)
        {
            fc1 = RegisterModule(nameof(fc1), new Linear(8, hidden, generator: g));
            fc2 = RegisterModule(nameof(fc2), new Linear(hidden, 4, generator: g));
        }
        public override Tensor Forward(Tensor x) => fc2.Forward(F.Tanh(fc1.Forward(x)));
    }

    static (Tensor X, Tensor Y) Data(int step, int batch)
    {
        var g = new Generator(1000 + step); // the same global batch on every rank
        return (Torch.Randn([batch, 8], DType.Float32, g), Torch.Randn([batch, 4], DType.Float32, g));
    }

    static double MaxDifference(Module a, Module b)
    {
        double max = 0;
        var pa = a.Parameters().ToArray();
        var pb = b.Parameters().ToArray();
        for (int i = 0; i < pa.Length; i++)
        {
            var da = pa[i].ToDoubleArray();
            var db = pb[i].ToDoubleArray();
            for (int k = 0; k < da.Length; k++) max = Math.Max(max, Math.Abs(da[k] - db[k]));
        }
        return max;
    }

    /// <summary>
    /// K steps of DDP with batch B/N per rank against one process with batch B. The DDP replica starts from a different
    /// seed on each rank, so matching also shows that construction copied rank 0's parameters.
    /// </summary>
    static string? Equivalence(Func<IEnumerable<Tensor>, Optimizer> optimizer)
    {
        int rank = Dist.Rank, world = Dist.WorldSize;
        const int steps = 6, perRank = 4;
        int batch = perRank * world;
        var reference = new Mlp(new Generator(7));
        var ddp = new DistributedDataParallel(new Mlp(new Generator(7 + 1000 * rank)), bucketCapMB: 256.0 / (1024 * 1024));
        if (ddp.Buckets.Count < 2) return $"expected several gradient buckets with a 256-byte cap, got {ddp.Buckets.Count}";
        var optRef = optimizer(reference.Parameters());
        var optDdp = optimizer(ddp.Parameters());
        for (int step = 0; step < steps; step++)
        {
            var (x, y) = Data(step, batch);
            optRef.ZeroGrad();
            F.MseLoss(reference.Call(x), y).Backward();
            optRef.Step();

            optDdp.ZeroGrad();
            var xs = x.Narrow(0, rank * perRank, perRank);
            var ys = y.Narrow(0, rank * perRank, perRank);
            F.MseLoss(ddp.Call(xs), ys).Backward();
            optDdp.Step();
            // Every parameter takes part, so every bucket must have started from the hooks, while backward ran.
            if (ddp.BucketsStartedDuringBackward != ddp.Buckets.Count)
                return $"step {step}: only {ddp.BucketsStartedDuringBackward} of {ddp.Buckets.Count} buckets started during backward";
        }
        double diff = MaxDifference(reference, ddp.Module);
        note = $"max |DDP - single process| = {diff:g3} after {steps} steps, {ddp.Buckets.Count} buckets";
        return diff <= 1e-5 ? null : $"after {steps} steps the DDP parameters differ from the single-process ones by {diff:g3} (tolerance 1e-5)";
    }

    /// <summary>
    /// DistributedDataParallel.LastStepStats after one step: the bytes are the parameters' bytes, the counts match the
    /// bucket plan, and the times are ordered (overlap and wait within the communication span). Rank 1 then sleeps
    /// 300 ms between its forward and its backward: rank 0's all-reduces cannot complete before rank 1 joins, so rank 0
    /// must report at least that long waiting after its own backward ended, and rank 1 that long computing backward.
    /// A NoSync step leaves the stats of the last synchronised one in place.
    /// </summary>
    static string? StepStats()
    {
        int rank = Dist.Rank;
        var ddp = new DistributedDataParallel(new Mlp(new Generator(5), hidden: 64), bucketCapMB: 1024.0 / (1024 * 1024));
        if (ddp.LastStepStats is not null) return "LastStepStats is set before any step";
        long parameterBytes = 0;
        foreach (var p in ddp.Module.Parameters()) parameterBytes += p.NumEl * 4L;
        var (x, y) = Data(3, 4);
        string? Check(DdpStepStats? s, string when)
        {
            if (s is null) return $"{when}: LastStepStats is null after a synchronised backward";
            if (s.Bytes != parameterBytes) return $"{when}: Bytes {s.Bytes}, expected the parameters' {parameterBytes}";
            if (s.Buckets != ddp.Buckets.Count || s.BucketSeconds.Count != s.Buckets) return $"{when}: {s.Buckets} buckets and {s.BucketSeconds.Count} bucket times, the plan has {ddp.Buckets.Count}";
            if (s.Buckets < 2) return $"{when}: expected several buckets with a 1 KiB cap, got {s.Buckets}";
            if (s.StartedDuringBackward != s.Buckets) return $"{when}: {s.StartedDuringBackward} of {s.Buckets} buckets started during backward";
            if (!(s.ForwardSeconds > 0 && s.BackwardComputeSeconds > 0 && s.CommunicationSeconds > 0)) return $"{when}: non-positive times {s}";
            if (!(s.WaitSeconds >= 0 && s.WaitSeconds <= s.CommunicationSeconds)) return $"{when}: waited {s.WaitSeconds} s outside [0, communication {s.CommunicationSeconds} s]";
            if (!(s.OverlapSeconds >= 0 && s.OverlapSeconds <= s.CommunicationSeconds)) return $"{when}: overlap {s.OverlapSeconds} s outside [0, communication {s.CommunicationSeconds} s]";
            foreach (var b in s.BucketSeconds)
                if (!(b >= 0 && b <= s.CommunicationSeconds)) return $"{when}: a bucket took {b} s, outside [0, communication {s.CommunicationSeconds} s]";
            return null;
        }
        F.MseLoss(ddp.Call(x), y).Backward();
        if (Check(ddp.LastStepStats, "first step") is { } problem) return problem;

        var output = ddp.Call(x);
        if (rank == 1) Thread.Sleep(300);
        F.MseLoss(output, y).Backward();
        var slow = ddp.LastStepStats!;
        if (Check(slow, "slow step") is { } problem2) return problem2;
        if (rank == 0 && slow.WaitSeconds < 0.25) return $"rank 0 waited {slow.WaitSeconds * 1e3:F0} ms for a peer 300 ms late";
        if (rank == 1 && slow.BackwardComputeSeconds < 0.3) return $"rank 1's backward computation is {slow.BackwardComputeSeconds * 1e3:F0} ms although it slept 300 ms after forward";

        using (ddp.NoSync()) F.MseLoss(ddp.Call(x), y).Backward();
        if (!ReferenceEquals(ddp.LastStepStats, slow)) return "a NoSync step replaced LastStepStats";
        note = $"slow step: wait {slow.WaitSeconds * 1e3:F0} ms of {slow.CommunicationSeconds * 1e3:F0} ms communication, {slow.Buckets} buckets, {slow.Bytes} bytes";
        return null;
    }

    /// <summary>
    /// Two micro-batches per rank, the first inside NoSync: the step must equal one over the whole batch with the
    /// loss summed over the micro-batches, and no gradient may travel during the NoSync backward.
    /// </summary>
    static string? NoSyncAccumulation()
    {
        int rank = Dist.Rank, world = Dist.WorldSize;
        const int micro = 2, perMicro = 3;
        var reference = new Mlp(new Generator(11));
        var ddp = new DistributedDataParallel(new Mlp(new Generator(11)));
        var optRef = new Sgd(reference.Parameters(), new SgdOptions { LearningRate = 0.1 });
        var optDdp = new Sgd(ddp.Parameters(), new SgdOptions { LearningRate = 0.1 });
        // The global batch is micro × world × perMicro rows; micro-batch m of rank r is rows [(m·world + r)·perMicro, +perMicro).
        var (x, y) = Data(42, micro * world * perMicro);
        // Reference: Σ_m mean over micro-batch m of all ranks = micro × mean over everything.
        (F.MseLoss(reference.Call(x), y) * micro).Backward();
        optRef.Step();

        string? problem = null;
        for (int m = 0; m < micro; m++)
        {
            int start = (m * world + rank) * perMicro;
            var xs = x.Narrow(0, start, perMicro);
            var ys = y.Narrow(0, start, perMicro);
            if (m < micro - 1)
            {
                using (ddp.NoSync()) F.MseLoss(ddp.Call(xs), ys).Backward();
                // Without communication each rank holds its own gradient: they must differ across ranks.
                var norms = Dist.AllGather(ddp.Module.Parameters().First().Grad!.Norm().Reshape(1));
                if (Math.Abs(norms[0].Item() - norms[1].Item()) < 1e-9) problem = "gradients were equal across ranks after a NoSync backward";
            }
            else F.MseLoss(ddp.Call(xs), ys).Backward();
        }
        optDdp.Step();
        double diff = MaxDifference(reference, ddp.Module);
        note = $"max |DDP - single process| = {diff:g3}";
        return problem ?? (diff <= 1e-5 ? null : $"NoSync accumulation differs from the large batch by {diff:g3} (tolerance 1e-5)");
    }

    sealed class Normed : Module
    {
        readonly Linear fc;
        readonly BatchNorm1d bn;
        public Normed(Generator g)
        {
            fc = RegisterModule(nameof(fc), new Linear(8, 4, generator: g));
            bn = RegisterModule(nameof(bn), new BatchNorm1d(4));
        }
        public BatchNorm1d Bn => bn;
        public override Tensor Forward(Tensor x) => bn.Forward(fc.Forward(x));
    }

    /// <summary>Each forward starts from rank 0's running statistics, although each rank's own forward moved them.</summary>
    static string? BufferBroadcast()
    {
        int rank = Dist.Rank;
        var inner = new Normed(new Generator(5));
        var ddp = new DistributedDataParallel(inner);
        Tensor? seen = null;
        using var hook = inner.RegisterForwardPreHook((_, _) => { seen = inner.Bn.NamedBuffers().First(b => b.Name == "running_mean").Buffer.Clone(); return null; });
        var (x, _) = Data(100 + rank, 6); // different data per rank, so the local statistics drift apart
        ddp.Call(x);
        var afterLocal = Dist.AllGather(inner.Bn.NamedBuffers().First(b => b.Name == "running_mean").Buffer.Contiguous());
        if (afterLocal[0].Sub(afterLocal[1]).Abs().Max().Item() < 1e-7) return "the ranks' running means did not drift apart; the check proves nothing";
        ddp.Call(x);
        var atSecondForward = Dist.AllGather(seen!);
        double diff = atSecondForward[0].Sub(atSecondForward[1]).Abs().Max().Item();
        double fromRank0 = atSecondForward[rank].Sub(afterLocal[0]).Abs().Max().Item();
        return diff == 0 && fromRank0 == 0 ? null : $"the second forward did not start from rank 0's running mean (ranks differ by {diff:g3}, from rank 0's by {fromRank0:g3})";
    }

    sealed class ConvBn : Module
    {
        readonly Conv2d conv;
        readonly BatchNorm2d bn;
        public ConvBn(Generator g)
        {
            conv = RegisterModule(nameof(conv), new Conv2d(3, 4, 3, padding: 1, generator: g));
            bn = RegisterModule(nameof(bn), new BatchNorm2d(4));
        }
        public override Tensor Forward(Tensor x) => F.Relu(bn.Forward(conv.Forward(x)));
    }

    static double MaxDifference(Tensor a, Tensor b) => a.Sub(b).Abs().Max().Item();

    /// <summary>
    /// SyncBatchNorm (by ConvertSyncBatchNorm on a model whose BN is a field) under DDP, each rank holding its own
    /// share of the batch, against one plain BatchNorm over the whole batch in one process: outputs, running
    /// statistics, parameter gradients and evaluation outputs agree. With the ranks' mean losses averaged by DDP, the
    /// whole-batch loss is their average, so each rank's input gradient is world size × the reference's.
    /// </summary>
    static string? SyncBatchNormEquivalence()
    {
        int rank = Dist.Rank, world = Dist.WorldSize;
        int[] sizes = [3, 5]; // unequal shares: the global count is reduced, not assumed
        int total = 0, start = 0;
        for (int r = 0; r < world; r++) { if (r == rank) start = total; total += sizes[r % sizes.Length]; }
        int mine = sizes[rank % sizes.Length];
        var g = new Generator(77);
        var x = Torch.Randn([total, 3, 5, 5], DType.Float32, g) * 3.0 + 2.0;
        var target = Torch.Randn([total, 4, 5, 5], DType.Float32, g);

        var reference = new ConvBn(new Generator(12));
        var xRef = x.Clone().RequiresGradInPlace();
        var yRef = reference.Call(xRef);
        F.MseLoss(yRef, target).Backward();

        var model = SyncBatchNorm.ConvertSyncBatchNorm(new ConvBn(new Generator(12 + rank)));
        var ddp = new DistributedDataParallel(model);
        var xMine = x.Narrow(0, start, mine).Clone().RequiresGradInPlace();
        var y = ddp.Call(xMine);
        // each rank's mean loss weighted by its share, so that DDP's average is the whole-batch mean
        (F.MseLoss(y, target.Narrow(0, start, mine)) * ((double)mine * world / total)).Backward();

        var errors = new List<string>();
        void Expect(string what, double difference, double tolerance)
        {
            if (!(difference <= tolerance)) errors.Add($"{what} differs by {difference:g3}");
        }
        Expect("output", MaxDifference(y, yRef.Narrow(0, start, mine)), 1e-5);
        Expect("input gradient", MaxDifference(xMine.Grad!, xRef.Grad!.Narrow(0, start, mine) * world), 1e-6);
        foreach (var ((name, p), (_, q)) in model.NamedParameters().Zip(reference.NamedParameters()))
            Expect($"gradient of {name}", MaxDifference(p.Grad!, q.Grad!), 1e-5);
        foreach (var ((name, b), (_, c)) in model.NamedBuffers().Zip(reference.NamedBuffers()))
            Expect($"buffer {name}", MaxDifference(b.To(DType.Float64), c.To(DType.Float64)), 1e-5);
        model.Eval(); reference.Eval();
        using (Torch.NoGrad()) Expect("evaluation output", MaxDifference(model.Call(xMine), reference.Call(x.Narrow(0, start, mine))), 1e-5);
        return errors.Count == 0 ? null : string.Join("; ", errors);
    }

    /// <summary>Each rank's epoch loss and accuracy, weighted by its samples, become the global ones in the history row.</summary>
    static string? EpochMetrics()
    {
        int rank = Dist.Rank, world = Dist.WorldSize;
        var state = new Ember.Training.TrainerState(new Mlp(new Generator(1)), () => new())
        {
            EpochLoss = 1.0 + rank, EpochAccuracy = 0.5 + 0.1 * rank, EpochSamples = 10 * (rank + 1),
        };
        state.History.Add(new Ember.Training.EpochMetrics(1, state.EpochLoss, state.EpochAccuracy, 0.3, 0.9, 0.99, 1e-3, 1.0));
        new DistributedEpochMetrics().OnEpochEnd(state);
        double samples = 0, loss = 0, accuracy = 0;
        for (int r = 0; r < world; r++) { samples += 10 * (r + 1); loss += (1.0 + r) * 10 * (r + 1); accuracy += (0.5 + 0.1 * r) * 10 * (r + 1); }
        var row = state.History[^1];
        bool ok = Math.Abs(row.TrainLoss - loss / samples) < 1e-12 && Math.Abs(row.TrainAccuracy - accuracy / samples) < 1e-12
            && row.Top1 == 0.9 && state.EpochLoss == row.TrainLoss;
        return ok ? null : $"expected train loss {loss / samples} and accuracy {accuracy / samples}, got {row.TrainLoss} and {row.TrainAccuracy}";
    }

    /// <summary>
    /// Sharded validation: each rank's validation loss and accuracies, weighted by its sample count, reduce to the
    /// whole set's (a rank with an empty shard, whose means are NaN, counts for nothing), and the ranks' confusion
    /// matrices and weighted means sum to those of all samples.
    /// </summary>
    static string? ValidationMetrics()
    {
        int rank = Dist.Rank, world = Dist.WorldSize;
        var state = new Ember.Training.TrainerState(new Mlp(new Generator(1)), () => new());
        static double Loss(int r) => 0.5 + 0.25 * r;
        static double Top1(int r) => 0.8 - 0.1 * r;
        static double Top5(int r) => 1.0 - 0.05 * r;
        static int Samples(int r) => 30 - 10 * r;
        state.ValidationMetrics["val_loss"] = Loss(rank);
        state.ValidationMetrics["top1"] = Top1(rank);
        state.ValidationMetrics["top5"] = Top5(rank);
        state.ValidationSamples = Samples(rank);
        new DistributedEpochMetrics().OnValidationEnd(state);
        double n = 0, loss = 0, top1 = 0, top5 = 0;
        for (int r = 0; r < world; r++) { n += Samples(r); loss += Loss(r) * Samples(r); top1 += Top1(r) * Samples(r); top5 += Top5(r) * Samples(r); }
        var m = state.ValidationMetrics;
        if (Math.Abs(m["val_loss"] - loss / n) > 1e-12 || Math.Abs(m["top1"] - top1 / n) > 1e-12 || Math.Abs(m["top5"] - top5 / n) > 1e-12 || state.ValidationSamples != n)
            return $"expected val_loss {loss / n}, top1 {top1 / n}, top5 {top5 / n} over {n}, got {m["val_loss"]}, {m["top1"]}, {m["top5"]} over {state.ValidationSamples}";

        // the last rank's shard is empty: its NaN means must not poison the result
        bool empty = rank == world - 1;
        m["val_loss"] = empty ? double.NaN : 0.4;
        m["top1"] = m["top5"] = empty ? double.NaN : 0.7;
        state.ValidationSamples = empty ? 0 : 7;
        new DistributedEpochMetrics().OnValidationEnd(state);
        if (m["val_loss"] != 0.4 || Math.Abs(m["top1"] - 0.7) > 1e-15) return $"with an empty shard on rank {world - 1}: val_loss {m["val_loss"]}, top1 {m["top1"]}, expected 0.4 and 0.7";

        // rank r predicts class r for r + 1 samples of class 0, and one sample of class 1 correctly
        var confusion = new Ember.Metrics.ConfusionMatrix(world + 1);
        var predicted = new List<long>();
        var actual = new List<long>();
        for (int k = 0; k <= rank; k++) { predicted.Add(rank); actual.Add(0); }
        predicted.Add(1);
        actual.Add(1);
        confusion.Add(predicted, actual);
        Ember.Distributed.DistributedMetrics.AllReduce(confusion);
        for (int r = 0; r < world; r++)
            if (confusion[0, r] != r + 1 || confusion[1, 1] != world)
                return $"summed confusion: [0, {r}] = {confusion[0, r]}, [1, 1] = {confusion[1, 1]}";
        if (confusion.Total != world * (world + 1) / 2 + world) return $"summed confusion total {confusion.Total}, expected {world * (world + 1) / 2 + world}";
        double mean = Ember.Distributed.DistributedMetrics.WeightedMean(rank == 0 ? 2.0 : double.NaN, rank == 0 ? 3 : 0);
        return mean == 2.0 ? null : $"weighted mean {mean} with samples on rank 0 only, expected 2";
    }

    /// <summary>A stop requested on the last rank only (as a signal handler does) stops every rank at the same batch end.</summary>
    static string? StopConsensus()
    {
        int rank = Dist.Rank, world = Dist.WorldSize;
        var state = new Ember.Training.TrainerState(new Mlp(new Generator(1)), () => new());
        var consensus = new DistributedStopConsensus();
        consensus.OnBatchEnd(state);
        if (state.StopRequested) return "stopped although no rank asked";
        if (rank == world - 1) consensus.Request("interrupted (SIGTERM)");
        consensus.OnBatchEnd(state);
        if (!state.StopRequested) return "did not stop after the last rank asked";
        // the peers carry the asking rank's reason, so the lead can print "interrupted (SIGTERM); resume with ..."
        string expected = rank == world - 1 ? "interrupted (SIGTERM)" : $"interrupted (SIGTERM) (asked on rank {world - 1})";
        return state.StopReason == expected ? null : $"stop reason '{state.StopReason}', expected '{expected}'";
    }

    /// <summary>
    /// A second backward through one forward would leave its gradients unaveraged (the replicas would drift apart): it
    /// must be an error on every rank, while a NoSync forward followed by backward stays fine.
    /// </summary>
    static string? SecondBackward()
    {
        var ddp = new DistributedDataParallel(new Mlp(new Generator(9)));
        var (x, y) = Data(7, 4);
        var loss = F.MseLoss(ddp.Call(x), y);
        loss.Backward(retainGraph: true);
        try
        {
            loss.Backward();
            return "a second backward through one forward was accepted";
        }
        catch (InvalidOperationException e) when (e.Message.Contains("already averaged") && e.Message.Contains("'fc2.bias'"))
        {
        }
        using (ddp.NoSync()) F.MseLoss(ddp.Call(x), y).Backward();
        F.MseLoss(ddp.Call(x), y).Backward();
        return null;
    }

    sealed class TwoHeads : Module
    {
        readonly Linear trunk, common, rankZeroOnly, never;
        readonly bool useRankZeroHead;
        public TwoHeads(Generator g, bool useRankZeroHead)
        {
            trunk = RegisterModule(nameof(trunk), new Linear(8, 4, generator: g));
            common = RegisterModule(nameof(common), new Linear(4, 2, generator: g));
            rankZeroOnly = RegisterModule(nameof(rankZeroOnly), new Linear(4, 2, generator: g));
            never = RegisterModule(nameof(never), new Linear(4, 2, generator: g));
            this.useRankZeroHead = useRankZeroHead;
        }
        public override Tensor Forward(Tensor x)
        {
            var h = F.Tanh(trunk.Forward(x));
            return useRankZeroHead ? common.Forward(h) + rankZeroOnly.Forward(h) : common.Forward(h);
        }
    }

    /// <summary>
    /// A head used on rank 0 only gets rank 0's gradient averaged with zeros; a head no rank uses keeps no gradient
    /// with findUnusedParameters, and gets zeros without it. Both ways the replicas agree.
    /// </summary>
    static string? UnusedParameters()
    {
        int rank = Dist.Rank, world = Dist.WorldSize;
        foreach (bool find in new[] { true, false })
        {
            // The rank-0 reference: the same model and data on one process, to compute rank 0's local gradient.
            var local = new TwoHeads(new Generator(21), useRankZeroHead: true);
            var (x, y4) = Data(3, 4);
            var y = y4.Narrow(1, 0, 2);
            F.MseLoss(local.Call(x), y).Backward();
            var ddp = new DistributedDataParallel(new TwoHeads(new Generator(21), useRankZeroHead: rank == 0), findUnusedParameters: find);
            F.MseLoss(ddp.Call(x), y).Backward();
            var grads = ddp.Module.NamedParameters().ToDictionary(p => p.Name, p => p.Parameter.Grad);
            var expected = local.NamedParameters().First(p => p.Name == "rankZeroOnly.weight").Parameter.Grad!.ToDoubleArray();
            var got = grads["rankZeroOnly.weight"]!.ToDoubleArray();
            for (int i = 0; i < expected.Length; i++)
                if (Math.Abs(got[i] - expected[i] / world) > 1e-7)
                    return $"findUnusedParameters={find}: rankZeroOnly.weight's gradient is not rank 0's divided by {world} (element {i}: {got[i]} vs {expected[i] / world})";
            if (find && grads["never.weight"] is not null) return "findUnusedParameters=true: a parameter no rank used got a gradient";
            if (!find && (grads["never.weight"] is not { } g || g.Abs().Max().Item() != 0)) return "findUnusedParameters=false: a parameter no rank used should get a zero gradient";
        }
        return null;
    }

    /// <summary>Rank 1 builds a wider hidden layer: every rank must refuse, naming rank 1 and the parameter.</summary>
    static string? Mismatch()
    {
        int rank = Dist.Rank;
        try
        {
            _ = new DistributedDataParallel(new Mlp(new Generator(3), hidden: rank == 1 ? 17 : 16));
            return "DistributedDataParallel accepted a model whose fc1 differs on rank 1";
        }
        catch (DistributedException e)
        {
            bool names = e.Message.Contains("rank 1") && e.Message.Contains("'fc1.weight'") && e.Message.Contains("[17, 8]") && e.Message.Contains("[16, 8]");
            return names ? null : $"the message does not name rank 1, fc1.weight and both shapes: {e.Message}";
        }
    }
}
