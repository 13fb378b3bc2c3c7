using Ember.Cli.Commands.Detect;
using Ember.Cli.Commands.Forecast;
using Ember.Cli.Configuration;
using Ember.Cli.Reporting;
using Ember.Interop;
using Ember.Training;

namespace Ember.Cli.Commands;

/// <summary>
/// Tells what kind of folder a command was given (from the files each command leaves) before the command reads it, so
/// that a folder of another kind, a file inside a run, a checkpoint folder, an empty or an unfinished folder is named for
/// what it is, with the command that takes it — instead of "unknown key 'img'" from the wrong config reader, or "folder
/// not found" for a file that is there. Refusals are exit 3 (a missing or invalid run folder).
/// </summary>
public static class RunFolderCheck
{
    // How each kind is named, the command that makes it, and where it writes them (null: not resumable).
    sealed record Kind(string What, string Command, string? Project, string KeyFile = "args.yaml", string Folder = "an ember run folder");

    static readonly IReadOnlyDictionary<RunFolderKind, Kind> Kinds = new Dictionary<RunFolderKind, Kind>
    {
        [RunFolderKind.Classification] = new("a classification run", "ember train", "runs/train"),
        [RunFolderKind.Detection] = new("a detection run", "ember detect train", "runs/detect"),
        [RunFolderKind.DetectionPretrain] = new("a detection pre-training run", "ember detect pretrain", "runs/detect-pretrain"),
        [RunFolderKind.Forecast] = new("a forecast run", "ember forecast train", "runs/forecast"),
        [RunFolderKind.Evolve] = new("an evolve folder", "ember evolve", "runs/evolve", "base.yaml", "an ember evolve folder"),
        [RunFolderKind.Ablation] = new("an ablation study folder", "ember ablate", "runs/ablate", "study.yaml", "an ember ablate study folder"),
        [RunFolderKind.GradientFlow] = new("a gradient-flow run", "ember gradient-flow", null),
        [RunFolderKind.VarianceShift] = new("a variance-shift run", "ember variance-shift", null),
        [RunFolderKind.LoraTransfer] = new("a lora-transfer run", "ember lora-transfer", null),
        [RunFolderKind.DetectionDataSet] = new("a detection data set", "ember detect make-data", null, "data.yaml"),
    };

    // The keys a study command's args.yaml may hold: the names of its options and arguments, taken from the command
    // itself so that a new option is known here too (the study's runs hold the train keys in their own args.yaml).
    static readonly Lazy<IReadOnlySet<string>> EvolveArgs = new(() => SettingNames(EvolveCommand.Create()));
    static readonly Lazy<IReadOnlySet<string>> AblateArgs = new(() => SettingNames(AblateCommand.Create()));

    static IReadOnlySet<string> SettingNames(System.CommandLine.Command command)
        => command.Options.Select(o => o.Name).Concat(command.Arguments.Select(a => a.Name))
            .Select(name => name.TrimStart('-').Replace('-', '_').ToLowerInvariant()).ToHashSet();

    /// <summary>What <paramref name="path"/> holds, from its files; reads at most one small args.yaml or marker.</summary>
    public static RunFolderKind Identify(string path)
    {
        if (File.Exists(path)) return RunFolderKind.File;
        if (!Directory.Exists(path)) return RunFolderKind.Missing;
        bool Has(string name) => File.Exists(Path.Combine(path, name));
        if (Has("study.yaml")) return RunFolderKind.Ablation;
        if (Has("base.yaml") && Has("space.yaml")) return RunFolderKind.Evolve;
        if (Has(Checkpoint.JsonFile)) return RunFolderKind.Checkpoint;
        if (Has("args.yaml")) return FromArgs(Path.Combine(path, "args.yaml"));
        if (Has("data.yaml")) return RunFolderKind.DetectionDataSet;
        if (IncompleteMarker.IsMarked(path))
        {
            // a folder killed before its first file: the marker names the command that made it
            var marker = MarkerText(path);
            foreach (var (kind, info) in Kinds)
                if (marker.StartsWith(info.Command + " ", StringComparison.Ordinal)) return kind;
        }
        try { return Directory.EnumerateFileSystemEntries(path).Any() ? RunFolderKind.Unrecognized : RunFolderKind.Empty; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return RunFolderKind.Unrecognized; }
    }

    /// <summary>
    /// Refuses, before anything is read, a <paramref name="folder"/> given to --resume that is not an <paramref name="expected"/>
    /// folder; the message says what it is and which command resumes it. A folder whose args.yaml cannot be read passes:
    /// the command's own reader names the file and line. A folder that cannot be written (a read-only mount) is refused
    /// too, before an epoch is trained that could not be saved — unless <paramref name="finished"/>, asked only then, says
    /// that the run has nothing left to do: resuming it writes nothing and only says so, as it does in a writable folder.
    /// In a writable folder the temporaries that a killed process left there are removed (<see cref="AtomicFile.RemoveStaleTemporaries"/>), saying so.
    /// Before all that, a folder that another process holds (<see cref="RunFolderLock"/>: it trains there) is refused,
    /// unless <paramref name="lockCheck"/> is false (the ranks of a distributed run other than the one that holds it).
    /// Returns whether the folder can be written (false only for a finished one let through).
    /// </summary>
    public static bool ForResume(string folder, RunFolderKind expected, Func<bool>? finished = null, bool lockCheck = true)
    {
        // a run that another process still trains (or resumes) is refused first: what the checks below would say of
        // it (no checkpoint yet, temporaries to remove) is that process's work in progress
        if (lockCheck) RunFolderLock.RequireFree(folder, () => ResumeCommand(folder, expected));
        Check(folder, expected, "--resume", Kinds[expected].Command + " --resume");
        try { Writable(folder, $"{Kinds[expected].Command} --resume writes its checkpoints and results there; copy the folder somewhere writable (cp -r) and resume the copy"); }
        catch (IOException) when (NothingToWrite(finished)) { return false; }
        // a process killed outright (kill -9) while writing a file left its hidden temporary: the resume writes that file anew
        var stale = AtomicFile.RemoveStaleTemporaries(folder);
        if (stale.Count > 0)
            Console.WriteLine($"removed {stale.Count} temporary file(s) that a killed process left in {folder}: " +
                string.Join(", ", stale.Select(p => Path.GetRelativePath(folder, p))));
        return true;
    }

    /// <summary>
    /// For the resume of a finished study (<paramref name="resume"/>) in a folder that <see cref="ForResume"/> found it
    /// cannot write: passes, writing nothing, when each of <paramref name="files"/> is there and holds the text the resume
    /// would write (a null text: a picture, which only has to be there), and <paramref name="removes"/> (a marker the resume
    /// removes) is not; else refuses as <see cref="Writable"/> does (exit 5), naming the files that are missing or would
    /// change. Returns false when the folder can be written after all (then the caller writes them).
    /// </summary>
    public static bool UpToDate(string folder, IEnumerable<(string Name, string? Text)> files, string resume, string? removes = null)
    {
        var needed = new List<string>();
        foreach (var (name, text) in files)
        {
            var path = Path.Combine(folder, name);
            if (!File.Exists(path)) needed.Add($"{name} (missing)");
            else if (text is not null && File.ReadAllText(path) != text) needed.Add($"{name} (changed)");
        }
        bool remove = removes is not null && File.Exists(Path.Combine(folder, removes));
        if (needed.Count == 0 && !remove) return true;
        var change = string.Join(" and ", new[] { needed.Count > 0 ? $"write {string.Join(", ", needed)}" : null, remove ? $"remove {removes}" : null }.OfType<string>());
        Writable(folder, $"every trial of the study is recorded, but {resume} would {change}; copy the folder somewhere writable (cp -r) and resume the copy");
        return false;
    }

    /// <summary>
    /// The command that resumes what <paramref name="folder"/> holds ("ember train --resume"), if it is a kind that
    /// resumes; else the <paramref name="expected"/> kind's (for the refusal of a folder another process holds).
    /// </summary>
    internal static string ResumeCommand(string folder, RunFolderKind expected)
    {
        RunFolderKind kind;
        try { kind = Identify(folder); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or FormatException or ConfigException
            or YamlDotNet.Core.YamlException) { kind = expected; }
        return (Kinds.TryGetValue(kind, out var info) && info.Project is not null ? info : Kinds[expected]).Command + " --resume";
    }

    /// <summary>
    /// Whether the run in <paramref name="folder"/> has nothing left to do: it has finished (trained <paramref name="epochs"/>
    /// epochs, or been ended by early stopping), as its last/ checkpoint records (read and verified, no tensor loaded), and
    /// written its closing summary.md (a run whose closing part met a full disk or ran out of memory has that left, which
    /// its --resume writes).
    /// </summary>
    public static bool Finished(string folder, int epochs)
        => File.Exists(Path.Combine(folder, "summary.md")) && Finished(Checkpoint.ReadState(Path.Combine(folder, "last")), epochs);

    /// <summary>
    /// Whether a run whose last/ checkpoint holds <paramref name="state"/> has finished: trained <paramref name="epochs"/>
    /// epochs, or been ended by early stopping (<see cref="StoppedEarly"/>).
    /// </summary>
    public static bool Finished(CheckpointState state, int epochs) => state.EpochComplete && (state.Epoch >= epochs || StoppedEarly(state));

    /// <summary>
    /// Whether early stopping (`train --patience`) ended the run at the epoch its last/ checkpoint holds (its saved state
    /// says it stopped there): a resume would train further than the run decided to.
    /// </summary>
    public static bool StoppedEarly(CheckpointState state)
        => state.EpochComplete && state.Callbacks.TryGetValue(nameof(Ember.Training.Callbacks.EarlyStopping), out var saved)
           && saved.TryGetValue("stopped_epoch", out var stopped) && stopped == state.Epoch;

    // Anything that keeps the question from being answered (a damaged args.yaml or checkpoint) counts as "no": the write
    // refusal stands, and the command's own readers name the damage once the folder is copied somewhere writable.
    static bool NothingToWrite(Func<bool>? finished)
    {
        if (finished is null) return false;
        try { return finished(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or FormatException or ConfigException
            or ArgumentException or YamlDotNet.Core.YamlException) { return false; }
    }

    /// <summary>
    /// Refuses a <paramref name="folder"/> that cannot be written (read-only, permission denied) with an <see cref="IOException"/>
    /// (exit 5) saying why and <paramref name="advice"/>: a probe file is made and removed, since the mode bits do not tell
    /// (root ignores them; a read-only mount keeps them).
    /// </summary>
    public static void Writable(string folder, string advice)
    {
        var probe = Path.Combine(folder, AtomicFile.TemporaryName("ember-write-probe", Environment.ProcessId));
        // as a write, so that a signal's stop waits for the probe to be gone
        try { AtomicFile.AsWrite(() => { using (new FileStream(probe, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.DeleteOnClose)) { } }); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            var why = e switch
            {
                UnauthorizedAccessException => "permission denied or read-only",
                // .NET's words under /proc or /sys ("Could not find file '/proc/.ember-write-probe….tmp'") would name the probe
                FileNotFoundException or DirectoryNotFoundException => "the file system does not allow it: read-only, or virtual like /proc",
                _ => e.Message.Split('\n')[0].Replace($" : '{probe}'", "").TrimEnd('.'),
            };
            throw new IOException($"cannot write to {folder} ({why}); {advice}", e);
        }
    }

    /// <summary>As <see cref="ForResume"/>, for the run folder that <paramref name="command"/> ("ember eval") reads.</summary>
    public static void ForRun(string folder, RunFolderKind expected, string command)
        => Check(folder, expected, command, command);

    const string WeightsTakes = "--weights takes a checkpoint folder, best/ or last/ of an `ember detect train` run";

    /// <summary>
    /// Refuses what is not a checkpoint folder where --weights wants a detection checkpoint: a file, an empty folder, a
    /// run folder (or another kind of folder); a <see cref="CheckpointException"/> (exit 4) as for the other --weights
    /// problems, saying what was found and what --weights takes. A path that is not there passes: a save cut between its
    /// two renames left the checkpoint beside it, which <see cref="Checkpoint"/> reads (else see <see cref="MissingWeights"/>).
    /// </summary>
    public static void ForWeights(string weights)
    {
        var kind = Identify(weights);
        switch (kind)
        {
            case RunFolderKind.File:
                throw new CheckpointException(weights, $"is a file; {WeightsTakes} (it holds {Checkpoint.JsonFile} and {Checkpoint.ModelFile})");
            case RunFolderKind.Empty:
                throw new CheckpointException(weights, $"is an empty folder, not a checkpoint; {WeightsTakes}");
            case RunFolderKind.Detection:
                throw new CheckpointException(weights, $"is a detection run folder; --weights takes one of its checkpoint folders: {Path.Combine(weights, "best")} (or last)");
            case var _ when Kinds.ContainsKey(kind):
                throw new CheckpointException(weights, $"is {Named(kind)}, not a detection checkpoint; --weights takes best/ or last/ of an `ember detect train` run{ReadHint(kind, weights)}");
        }
    }

    /// <summary>
    /// The error for --weights <paramref name="weights"/> that is not there (nor a checkpoint a cut save left beside it),
    /// worded as a missing path; for RUN/best of a detection run that stopped before an epoch completed, it names RUN/last.
    /// </summary>
    public static CheckpointException MissingWeights(string weights)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(weights));
        var run = Path.GetDirectoryName(full);
        var last = run is not null && Path.GetFileName(full) == "best" && Identify(run) == RunFolderKind.Detection && Directory.Exists(Path.Combine(run, "last"))
            ? $"; {run} has no best/ yet (no epoch completed): use --weights {Path.Combine(run, "last")}" : "";
        return new CheckpointException(weights, $": no such file or folder; {WeightsTakes}{last}");
    }

    static void Check(string folder, RunFolderKind expected, string taker, string usage)
    {
        var want = Kinds[expected];
        var kind = Identify(folder);
        if (kind == expected) return;
        switch (kind)
        {
            case RunFolderKind.Missing:
                throw new DirectoryNotFoundException($"{(taker == "--resume" ? "resume" : "run")} folder not found: {folder} ({Plural(want)} are written to {want.Project}/expN)");
            case RunFolderKind.File:
                throw new InvalidDataException($"{taker} takes a run folder, got the file {folder}{Enclosing(folder, expected, usage)}");
            case RunFolderKind.Checkpoint:
                throw new InvalidDataException($"{taker} takes a run folder, got the checkpoint folder {folder}{Enclosing(folder, expected, usage)}");
            case RunFolderKind.Empty:
                throw new InvalidDataException($"{folder} is an empty folder, not {Named(expected)}; was it stopped before it wrote anything? " +
                    $"Then start it again ({Plural(want)} are written to {want.Project}/expN and hold {want.KeyFile})");
            case RunFolderKind.Unrecognized:
                if (File.Exists(Path.Combine(folder, "args.yaml"))) return; // the command's reader says what is wrong with it
                throw new FileNotFoundException($"{folder} is not {want.Folder}: it has no {want.KeyFile}{Marker(folder)} " +
                    $"({Plural(want)} are written to {want.Project}/expN)", Path.Combine(folder, want.KeyFile));
            // a trial of a study given for the study: name the study
            case var _ when Ancestor(folder, expected) is string study:
                throw new InvalidDataException($"{folder} is {Named(kind)} inside {study}, {Named(expected)}; did you mean `{usage} {study}`?");
            default:
                throw new InvalidDataException($"{folder} is {Named(kind)}, not {want.What}" +
                    (taker == "--resume" ? ResumeHint(kind, folder) : ReadHint(kind, folder)));
        }
    }

    static string Named(RunFolderKind kind) => $"{Kinds[kind].What} (`{Kinds[kind].Command}`)";

    static string Plural(Kind kind) => kind.What[(kind.What.IndexOf(' ') + 1)..] + "s";

    static string ResumeHint(RunFolderKind kind, string folder) => kind switch
    {
        RunFolderKind.DetectionDataSet => $"; train on it with `ember detect train --data {Path.Combine(folder, "data.yaml")}`",
        _ when Kinds[kind].Project is null => $"; {Kinds[kind].Command} has no --resume (run it again: it writes a new expN)",
        _ => $"; resume it with `{Kinds[kind].Command} --resume {folder}`",
    };

    // What reads a folder of this kind, for a command that was given one it cannot read.
    static string ReadHint(RunFolderKind kind, string folder) => kind switch
    {
        RunFolderKind.Classification => $"; evaluate it with `ember eval {folder}`",
        RunFolderKind.Detection => $"; validate it with `ember detect val --weights {Path.Combine(folder, "best")}`",
        RunFolderKind.Forecast => $"; score it with `ember forecast eval {folder}`",
        RunFolderKind.Evolve => $"; its best settings are {Path.Combine(folder, "best.yaml")} (`ember train --config {Path.Combine(folder, "best.yaml")}`)",
        RunFolderKind.Ablation => $"; its results are {Path.Combine(folder, "ablation.md")}",
        RunFolderKind.DetectionDataSet => $"; train on it with `ember detect train --data {Path.Combine(folder, "data.yaml")}`",
        _ => "",
    };

    // For a file or checkpoint folder given where a run folder belongs: the run around it (RUN/FILE, RUN/last/FILE), if any.
    static string Enclosing(string path, RunFolderKind expected, string usage)
    {
        var dir = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path)));
        for (int depth = 0; dir is not null && depth < 2; depth++, dir = Path.GetDirectoryName(dir))
        {
            var kind = Identify(dir);
            if (kind == expected) return $"; did you mean its run folder {dir}? (`{usage} {dir}`)";
            if (Kinds.ContainsKey(kind))
                return $"; it lies in {dir}, {Named(kind)}, not {Kinds[expected].What}" + (usage.EndsWith("--resume", StringComparison.Ordinal) ? ResumeHint(kind, dir) : ReadHint(kind, dir));
        }
        var want = Kinds[expected];
        return $" ({Plural(want)} are folders, written to {want.Project}/expN)";
    }

    // The study around a study's trial (STUDY/trials/NAME/expN), if it is of the expected kind.
    static string? Ancestor(string folder, RunFolderKind expected)
    {
        if (expected is not (RunFolderKind.Evolve or RunFolderKind.Ablation)) return null;
        var trials = Path.GetDirectoryName(Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder))));
        var study = Path.GetDirectoryName(trials);
        return Path.GetFileName(trials) == "trials" && study is not null && Identify(study) == expected ? study : null;
    }

    // An unfinished folder says so, and what to do, in its marker.
    static string Marker(string folder)
        => IncompleteMarker.IsMarked(folder) ? $" (its {IncompleteMarker.FileName} says: {MarkerText(folder)})" : "";

    static string MarkerText(string folder)
    {
        try
        {
            var text = File.ReadAllText(Path.Combine(folder, IncompleteMarker.FileName)).Trim();
            return text.Length > 300 ? text[..300] + "…" : text;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return ""; }
    }

    // A run's args.yaml: the kind whose keys hold every key of the file (a file that several or none fit, or that cannot
    // be read, is left to the command's own reader).
    static RunFolderKind FromArgs(string path)
    {
        Dictionary<string, string?> values;
        try { values = YamlFile.Scalars(YamlFile.RootMapping(YamlFile.Load(path), path, "a mapping"), path); }
        catch (Exception e) when (e is ConfigException or IOException or UnauthorizedAccessException) { return RunFolderKind.Unrecognized; }
        if (values.TryGetValue("command", out var command))
            foreach (var (kind, info) in Kinds)
                if (info.Command == "ember " + command) return kind;
        var keys = values.Keys.Select(k => k.Replace('-', '_').ToLowerInvariant()).ToHashSet();
        var fits = new (RunFolderKind Kind, IEnumerable<string> Keys)[]
        {
            (RunFolderKind.Classification, ConfigLoader.Keys.Keys), (RunFolderKind.Detection, DetectConfig.Keys.Keys), (RunFolderKind.DetectionPretrain, DetectPretrainConfig.Keys.Keys),
            (RunFolderKind.Forecast, ForecastConfig.Keys.Keys), (RunFolderKind.Evolve, EvolveArgs.Value), (RunFolderKind.Ablation, AblateArgs.Value),
        }.Where(c => keys.Count > 0 && keys.IsSubsetOf(c.Keys)).ToList();
        return fits.Count == 1 ? fits[0].Kind : RunFolderKind.Unrecognized;
    }
}
