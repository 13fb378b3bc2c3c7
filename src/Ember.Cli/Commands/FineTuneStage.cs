using Ember.Cli.Configuration;
using Ember.Nn;
using Ember.Nn.Layers;
using Ember.Nn.Lora;
using Ember.Training;

namespace Ember.Cli.Commands;

/// <summary>
/// `ember train --init-from RUN_DIR [--lora R]`: fine-tuning a trained run's model, fully or with LoRA adapters.
/// With LoRA the trainer trains the <see cref="LoraModel"/> (so last/ holds the frozen base and the adapters, and resumes),
/// while best/ holds the adapters merged into the weights (<see cref="ModelCheckpoint.BestWeights"/>): a plain model for
/// eval, predict and export.
/// </summary>
internal static class FineTuneStage
{
    /// <summary>The checkpoint folder of <paramref name="runFolder"/> that init_from loads: best/, or last/ when it has no best/.</summary>
    internal static string CheckpointOf(string runFolder, TrainConfig config)
    {
        // an option's value, so a usage error (exit 2), naming the option and what the folder is
        try { RunFolderCheck.ForRun(runFolder, RunFolderKind.Classification, "init_from"); }
        catch (Exception e) when (e is IOException or InvalidDataException) { throw new ConfigException(e.Message.StartsWith("init_from", StringComparison.Ordinal) ? e.Message : $"init_from: {e.Message}"); }
        var args = Path.Combine(runFolder, "args.yaml");
        var recorded = ConfigLoader.Load(args);
        if (recorded.Model != config.Model)
            throw new ConfigException($"init_from: {runFolder} trained a '{recorded.Model}' model (its args.yaml), but this run's model is '{config.Model}'; " +
                $"use --model {recorded.Model}, or another run");
        foreach (var name in new[] { "best", "last" })
        {
            var folder = Path.Combine(runFolder, name);
            // a LoRA run's last/ holds the base and the adapters apart; its best/ holds them merged, the plain model
            if (Directory.Exists(folder) && (name == "best" || recorded.Lora == 0)) return folder;
        }
        throw new ConfigException($"init_from: {runFolder} has no {(recorded.Lora == 0 ? "best/ or last/" : "best/")} checkpoint (no epoch finished)");
    }

    /// <summary>Loads the init_from run's weights into <paramref name="model"/> (a fresh model built from <paramref name="config"/>).</summary>
    internal static void LoadInitWeights(TrainConfig config, Module model)
    {
        var folder = CheckpointOf(config.InitFrom!, config);
        CheckpointState state;
        try { state = Checkpoint.LoadForInference(folder, model); }
        catch (CheckpointException e)
        {
            throw new ConfigException($"init_from: the weights in {folder} do not fit this run's {config.Model} model " +
                $"(norm {config.Norm}, dropout_kind {config.DropoutKind}, and the data set's classes must match the run's): {e.Message}");
        }
        // weights that fit but diverged are another problem: fine-tuning from them would train on NaN from the first step
        if (Interop.FiniteWeights.FirstNonFinite(model.StateDict()) is string nonFinite)
            throw new ConfigException($"init_from: {Path.Combine(folder, Checkpoint.ModelFile)}: {nonFinite}; the run diverged, so there is nothing to fine-tune from; choose a run that trained to finite weights");
        Console.WriteLine($"init_from: {model.GetType().Name} weights of {folder} (epoch {state.Epoch})");
    }

    /// <summary>Wraps <paramref name="model"/> with rank-<see cref="TrainConfig.Lora"/> adapters and freezes its base; prints what trains.</summary>
    internal static LoraModel Apply(TrainConfig config, Module model)
    {
        var lora = LoraModel.Apply(model, config.Lora, config.LoraAlpha, generator: new Generator(config.Seed));
        long trainable = lora.TrainableParameters().Sum(p => p.NumEl), total = model.Parameters().Sum(p => p.NumEl);
        Console.WriteLine($"lora: rank {config.Lora}, alpha {config.LoraAlpha} on {lora.Adapters.Count} layers " +
            $"({string.Join(", ", lora.Adapters.Select(a => a.Path))}): {trainable:N0} trainable parameters, the {total:N0} of the base frozen");
        return lora;
    }

    /// <summary>
    /// A LoRA run's last/ checkpoint as the plain model: rebuilt with the run's adapters, loaded, merged. (Its best/
    /// already holds the merged weights.)
    /// </summary>
    internal static Module LoadMergedLast(string folder, TrainConfig config, int classes, bool allowNonFinite)
    {
        var model = Models.ModelZoo.Create(config.Model, classes, 1, TrainJob.Norm(config));
        var lora = LoraModel.Apply(model, config.Lora, config.LoraAlpha);
        Checkpoint.LoadForInference(folder, lora);
        if (!allowNonFinite) Checkpoint.RequireFinite(lora.StateDict(), Path.Combine(folder, Checkpoint.ModelFile));
        var merged = lora.Merge();
        merged.Eval();
        return merged;
    }

    /// <summary>
    /// Keeps the base model's normalization layers in evaluation mode while the trainer trains: their running statistics
    /// belong to the frozen base, as in LoRA fine-tuning (the trainer puts the model in training mode before each epoch).
    /// </summary>
    internal sealed class FrozenNorms(Module model) : Callback
    {
        public override void OnEpochStart(TrainerState state)
        {
            foreach (var m in model.Modules()) if (m is NormBase) m.Eval();
        }
    }
}
