using Winnow.Training;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Winnow.Analysis;
using Winnow.Detection;
using Winnow.Data;
using Winnow.Methods;
using Winnow.Models;
using Winnow.SelfSupervised;

namespace Winnow.Runs;

/// <summary>
/// Everything that defines a run, as written to options.json: with it (and the same Winnow version) the run can be
/// repeated exactly, or resumed.
/// </summary>
public sealed record RunManifest
{
    /// <summary>Winnow's version.</summary>
    public string WinnowVersion { get; init; } = typeof(RunManifest).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>The training method's name.</summary>
    public string Method { get; init; } = "ce";

    /// <summary>The encoder architecture.</summary>
    public string Model { get; init; } = ModelFactory.DefaultEncoder;

    /// <summary>A checkpoint whose encoder starts the network (C2D: a SimCLR pre-training run's last.ckpt); null starts from random weights.</summary>
    public string? Encoder { get; init; }

    /// <summary>With <see cref="Encoder"/>: train every layer, or keep the encoder fixed and train the linear head only.</summary>
    public EncoderMode EncoderMode { get; init; } = EncoderMode.Finetune;

    /// <summary>
    /// The method's options record as JSON (<see cref="IMethodDefinition.ReadOptions"/>), its per-setting values resolved
    /// when the run starts; null takes the method's defaults.
    /// </summary>
    public JsonElement? MethodOptions { get; init; }

    /// <summary>Fields of options.json this version does not know (runs made before the method registry keep their method's options here).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? OtherFields { get; init; }

    /// <summary>The images.</summary>
    public DatasetSpec Dataset { get; init; } = new();

    /// <summary>The training labels.</summary>
    public NoiseSpec Noise { get; init; } = new();

    /// <summary>Optimisation, schedule, augmentation, precision and the seed.</summary>
    public TrainingOptions Training { get; init; } = new();

    /// <summary>How the precision in <see cref="Training"/> was settled: given, or measured (both figures and the CPU).</summary>
    public PrecisionChoice? PrecisionChoice { get; init; }

    /// <summary>The instruction set libtorch's oneDNN kernels were allowed in the process that started the run, and why (<see cref="KernelIsa"/>).</summary>
    public KernelIsaChoice? Kernels { get; init; }

    /// <summary>The command line that started the run, for the record.</summary>
    public string? CommandLine { get; init; }

    /// <summary>The class names of the training set (filled in when the run starts).</summary>
    public string[]? ClassNames { get; init; }

    /// <summary>
    /// A CSV of training samples to leave out (<see cref="SampleExclusion"/>): the noise is still made on the whole
    /// set, so the kept samples have the labels they have in a run without exclusion. Null keeps every sample.
    /// </summary>
    public string? ExcludeFile { get; init; }

    /// <summary>Training samples left out by <see cref="ExcludeFile"/> (filled in when the run starts).</summary>
    public int? ExcludedCount { get; init; }

    /// <summary>Training images trained on, after any exclusion (filled in when the run starts).</summary>
    public int? SampleCount { get; init; }

    /// <summary>Channels, height and width of the images (filled in when the run starts).</summary>
    public int[]? InputShape { get; init; }

    /// <summary>
    /// The per-channel mean and standard deviation the training images were normalised with (filled in when the run
    /// starts): inference on other images normalises them the same way. Null in runs made before it was recorded.
    /// </summary>
    public Normalization? Normalization { get; init; }

    /// <summary>
    /// The noise a method estimated during the run because nobody gave the labels' rate (<see cref="KnownNoise"/>), and
    /// from which it resolved its per-setting values (recorded in its options above); null otherwise.
    /// </summary>
    public NoiseRateEstimate? NoiseEstimate { get; init; }

    /// <summary>
    /// The noise that per-setting defaults resolve from: the synthetic noise when the run makes it (or a noise kind and
    /// rate were given with a noisy-label file), the clean labels of a built-in dataset; null when the labels are the
    /// user's (a label file, a noisy-label file without a rate, an image folder) and their noise is unknown.
    /// </summary>
    public NoiseSpec? KnownNoise() =>
        Noise.Kind != NoiseKind.None || (Dataset.LabelFile is null && Noise.File is null && Dataset.Kind != DatasetKind.Folder) ? Noise : null;

    /// <summary>What the method is built from, for images of <paramref name="inputChannels"/> channels.</summary>
    public MethodContext Context(int inputChannels, int classCount, int sampleCount, bool initialiseEncoder, (int Height, int Width)? imageSize = null) => new()
    {
        Model = Model, Encoder = Encoder, EncoderMode = EncoderMode, Noise = Noise, KnownNoise = KnownNoise(), Training = Training,
        InputChannels = inputChannels, ClassCount = classCount, SampleCount = sampleCount, InitialiseEncoder = initialiseEncoder,
        ImageSize = imageSize ?? (InputShape is [_, var h, var w] ? (h, w) : (0, 0)),
    };

    /// <summary>The fields of options.json that every run records from its start (<see cref="TrainingJob.Prepare"/>).</summary>
    private static readonly string[] RecordedFields = ["method", "model", "dataset", "noise", "training", "classNames", "inputShape"];

    /// <summary>
    /// Reads the options.json of the run in <paramref name="folder"/>; one lacking a field every run records is an error
    /// naming the file and the fields (defaults in their place would describe another run).
    /// </summary>
    public static RunManifest Read(RunFolder folder)
    {
        var manifest = folder.ReadJson<RunManifest>(folder.OptionsFile);
        using var json = JsonDocument.Parse(File.ReadAllText(folder.OptionsFile));
        var missing = RecordedFields.Where(f => !json.RootElement.TryGetProperty(f, out var value) || value.ValueKind == JsonValueKind.Null).ToArray();
        if (missing.Length > 0) throw new DataFormatException(folder.OptionsFile, $"lacks {string.Join(", ", missing)}; expected the options.json of a Winnow run");
        return manifest;
    }

    /// <summary>The method's definition (an unknown method is an error naming the known ones).</summary>
    public IMethodDefinition Definition() => MethodRegistry.Get(Method);

    /// <summary>
    /// The method's options record: <see cref="MethodOptions"/>, or, in a run made before the method registry, its
    /// method's field of options.json (and cross-entropy's top-level headOnlyEpochs); the defaults when there is none.
    /// </summary>
    public object ReadMethodOptions()
    {
        var definition = Definition();
        if (MethodOptions is { } json) return definition.ReadOptions(json);
        if (definition.LegacyOptionsField is { } field && OtherFields?.TryGetValue(field, out var legacy) == true) return definition.ReadOptions(legacy);
        if (definition.Name == "ce" && OtherFields?.TryGetValue("headOnlyEpochs", out var head) == true && head.ValueKind == JsonValueKind.Number)
            return new CrossEntropyOptions { HeadOnlyEpochs = head.GetInt32() };
        return definition.DefaultOptions();
    }

    /// <summary>This manifest with <paramref name="options"/> (the method's options record) as its method options.</summary>
    public RunManifest WithMethodOptions(object options) => this with { MethodOptions = Definition().WriteOptions(options), OtherFields = null };

    /// <summary>The method's options record as <typeparamref name="T"/> (<see cref="ReadMethodOptions"/>).</summary>
    public T MethodOptionsAs<T>() where T : class => ReadMethodOptions() as T
        ?? throw new InvalidOperationException($"method '{Method}' does not take {typeof(T).Name}");
}

/// <summary>A run set up from a manifest: data loaded, labels made, method built.</summary>
public sealed class TrainingJob : IDisposable
{
    private TrainingJob(RunManifest manifest, ImageDataset train, ImageDataset test, NoisyLabelSet allLabels, int[] excluded, NoisyLabelSet labels, ITrainingMethod method)
    {
        Manifest = manifest;
        Train = train;
        Test = test;
        AllLabels = allLabels;
        Excluded = excluded;
        Labels = labels;
        Method = method;
    }

    /// <summary>The manifest (with the method's settlement once it has made one, <see cref="ITrainingMethod.Settlement"/>).</summary>
    public RunManifest Manifest { get; private set; }

    /// <summary>Training images.</summary>
    public ImageDataset Train { get; }

    /// <summary>Test images.</summary>
    public ImageDataset Test { get; }

    /// <summary>Training labels of the samples trained on.</summary>
    public NoisyLabelSet Labels { get; }

    /// <summary>Labels of the whole training set, excluded samples included (saved as noisy_labels.csv).</summary>
    public NoisyLabelSet AllLabels { get; }

    /// <summary>Indices (into the whole training set) of the samples left out, sorted; empty when none are.</summary>
    public int[] Excluded { get; }

    /// <summary>The method, with freshly initialised networks (seeded).</summary>
    public ITrainingMethod Method { get; }

    /// <summary>Loads the data, makes the labels and builds the method. <paramref name="labelsOverride"/> replaces the manifest's noise (used on resume).</summary>
    public static TrainingJob Prepare(RunManifest manifest, Func<ImageDataset, NoisyLabelSet>? labelsOverride = null)
    {
        manifest.Training.Validate();
        var train = manifest.Dataset.LoadTrain();
        var test = manifest.Dataset.LoadTest(train);
        var allLabels = labelsOverride?.Invoke(train) ?? manifest.Noise.Create(train, trueLabelsKnown: manifest.Dataset.LabelFile is null);
        var labels = allLabels;
        int[] excluded = manifest.ExcludeFile is { } excludeFile ? SampleExclusion.Read(excludeFile, train) : [];
        if (excluded.Length > 0)
        {
            var kept = SampleExclusion.Kept(train.Count, excluded);
            train = train.Subset(kept);
            labels = allLabels.Subset(kept);
        }
        manifest.Training.ValidateFor(train.Count);
        var precision = manifest.PrecisionChoice is { } settled && settled.Chosen == manifest.Training.Precision ? settled
            : PrecisionSelector.Resolve(manifest.Training.Precision, new ThroughputOptions(manifest.Model, manifest.Training.BatchSize, train.Channels, train.Width,
                Threads: manifest.Training.Threads > 0 ? manifest.Training.Threads : Environment.ProcessorCount,
                Step: manifest.Definition().Kind == MethodKind.Pretraining ? BenchmarkStep.Pretraining : BenchmarkStep.Training, Height: train.Height));
        manifest = manifest with
        {
            Training = manifest.Training with { Precision = precision.Chosen },
            PrecisionChoice = precision,
            Kernels = KernelIsa.Current,
            ClassNames = train.ClassNames.ToArray(),
            InputShape = [train.Channels, train.Height, train.Width],
            Normalization = train.Normalization,
            ExcludedCount = manifest.ExcludeFile is null ? null : excluded.Length,
            SampleCount = train.Count,
        };
        var definition = manifest.Definition();
        var context = manifest.Context(train.Channels, train.ClassCount, train.Count, initialiseEncoder: true, (train.Height, train.Width));
        var methodOptions = definition.Resolve(manifest.ReadMethodOptions(), context);
        manifest = manifest.WithMethodOptions(methodOptions);
        TrainingLoop.SeedForInitialisation(manifest.Training.Seed);
        var method = definition.Create(methodOptions, context);
        return new TrainingJob(manifest, train, test, allLabels, excluded, labels, method);
    }

    /// <summary>
    /// Starts a new run in <paramref name="folder"/> (refused when it holds one already, or another process holds its
    /// lock): writes options.json and the labels, then trains, then (unless <paramref name="findLabelIssues"/> is false:
    /// an out-of-fold job's fold runs) writes the label issues of the final model.
    /// </summary>
    public TrainingResult Run(RunFolder folder, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default, bool findLabelIssues = true)
    {
        using var held = FolderLock.Take(folder.Path);
        RunFolder.RequireNoRun(folder.Path);
        if (Manifest.ExcludeFile is not null) SampleExclusion.Save(folder.ExcludedSamplesFile, Excluded);
        folder.WriteJson(folder.OptionsFile, Manifest);
        if (Method.Evaluation == EvaluationKind.Classification) AllLabels.Save(folder.NoisyLabelsFile);
        var result = new TrainingLoop(Manifest.Training).Run(Method, Train, Labels, Test, folder, null, new SettlementRecorder(this, folder, progress), cancellation);
        if (findLabelIssues) FindLabelIssues(folder, result, cancellation);
        return result;
    }

    /// <summary>What the final model says about the training labels (null for methods without a classifier, or before the run ends).</summary>
    public LabelIssueFindings? LabelIssues { get; private set; }

    /// <summary>
    /// Writes label_issues.csv, noise_estimate.json and report.html into the run folder (<see cref="LabelIssueReport"/>) from the final
    /// model's predictions on the training set: the loop's last evaluation of it, or a new pass when there was none.
    /// </summary>
    private void FindLabelIssues(RunFolder folder, TrainingResult result, CancellationToken cancellation)
    {
        if (Method.Evaluation != EvaluationKind.Classification) return;
        try
        {
            var tta = Manifest.Training.TestTimeAugmentation;
            var predictions = tta == TestTimeAugmentation.None && result.FinalTrainingSetPredictions is { } last ? last
                : TestTimeAugmenter.PredictTrainingSet(Method, Train, tta, cancellation);
            LabelIssues = LabelIssueReport.Find(Labels, predictions.Probabilities, seed: Manifest.Training.Seed);
            LabelIssuePage.Write(folder.Path, LabelIssues, Labels, Train, Excluded.Length == 0 ? null : SampleExclusion.Kept(AllLabels.Count, Excluded),
                new LabelIssueReportContext(ReportFacts(folder), folder));
        }
        catch (Exception e) when (e is not OperationCanceledException and not OutOfMemoryException)
        {
            // The run itself finished and is saved; 'winnow issues --run' can try again.
            LabelIssues = null;
            LabelIssueError = e.Message;
        }
    }

    /// <summary>The run's facts for the header of its report.html: folder, method, model, schedule, precision, machine.</summary>
    private List<KeyValuePair<string, string>> ReportFacts(RunFolder folder)
    {
        var ci = System.Globalization.CultureInfo.InvariantCulture;
        var t = Manifest.Training;
        var facts = new List<KeyValuePair<string, string>>
        {
            new("run", folder.Path),
            new("method", Manifest.Method),
            new("model", Manifest.Encoder is null ? Manifest.Model : $"{Manifest.Model}, encoder from {Manifest.Encoder} ({Manifest.EncoderMode.ToString().ToLowerInvariant()})"),
            new("training", string.Create(ci, $"{t.Epochs} epochs, batch {t.BatchSize}, {t.Optimizer.ToString().ToLowerInvariant()} lr {t.LearningRate:G4}, seed {t.Seed}")),
            new("precision", Manifest.PrecisionChoice?.Summary ?? t.Precision.ToString().ToLowerInvariant()),
            new("kernels", (Manifest.Kernels ?? KernelIsa.Current).Summary),
            new("CPU", CpuInfo.Current.Description),
            new("Winnow", Manifest.WinnowVersion),
        };
        if (Manifest.CommandLine is { } command) facts.Add(new("command", command));
        return facts;
    }

    /// <summary>Why the label issues of a finished run could not be found, if they could not; null otherwise.</summary>
    public string? LabelIssueError { get; private set; }

    /// <summary>
    /// Continues the run in <paramref name="folder"/> from its last checkpoint (or starts it if none was written), once
    /// it holds the folder's lock, and removes the temporary files that killed writes left there; then, unless
    /// <paramref name="findLabelIssues"/> is false, writes the final model's label issues.
    /// </summary>
    public static (TrainingJob Job, TrainingResult Result) Resume(RunFolder folder, IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default,
        bool findLabelIssues = true)
    {
        using var held = FolderLock.Take(folder.Path);
        AtomicFile.RemoveLeftovers(folder.Path);
        var manifest = RunManifest.Read(folder);
        // Leave out what the run left out when it started, even if the user's file has changed since.
        if (manifest.ExcludeFile is not null && File.Exists(folder.ExcludedSamplesFile)) manifest = manifest with { ExcludeFile = folder.ExcludedSamplesFile };
        var job = Prepare(manifest, File.Exists(folder.NoisyLabelsFile) ? train => NoisyLabelSet.Load(folder.NoisyLabelsFile, train.Count, train.ClassCount) : null);
        using var checkpoint = File.Exists(folder.LastCheckpoint) ? Checkpoint.Load(folder.LastCheckpoint) : null;
        var result = new TrainingLoop(job.Manifest.Training).Run(job.Method, job.Train, job.Labels, job.Test, folder, checkpoint,
            new SettlementRecorder(job, folder, progress), cancellation);
        if (findLabelIssues) job.FindLabelIssues(folder, result, cancellation);
        return (job, result);
    }

    /// <summary>
    /// Rebuilds the method of a finished or running run from its checkpoint <paramref name="checkpointPath"/>; the
    /// run's options.json must sit in the same folder.
    /// </summary>
    /// <param name="checkpointPath">best.ckpt or last.ckpt of a run.</param>
    /// <param name="precision">Compute precision of the rebuilt networks (fp32 or bf16); null keeps the run's own.</param>
    public static (RunManifest Manifest, ITrainingMethod Method) LoadTrained(string checkpointPath, Precision? precision = null)
    {
        var manifest = ReadManifestBeside(checkpointPath);
        if (precision is { } p && p != Precision.Auto) manifest = manifest with { Training = manifest.Training with { Precision = p } };
        using var checkpoint = Checkpoint.Load(checkpointPath);
        var method = CreateMethod(manifest, manifest.InputShape![0], manifest.ClassNames!.Length, manifest.SampleCount ?? 0, initialiseEncoder: false);
        TrainingLoop.RestoreFrom(method, checkpoint);
        return (manifest, method);
    }

    /// <summary>The options.json of the run whose folder holds <paramref name="checkpointPath"/>, checked to describe a trained model.</summary>
    public static RunManifest ReadManifestBeside(string checkpointPath)
    {
        if (!File.Exists(checkpointPath)) throw new DataFormatException(checkpointPath, "checkpoint not found");
        var folder = RunFolder.Existing(Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!);
        var manifest = RunManifest.Read(folder);
        if (manifest.InputShape is not { Length: 3 }) throw new DataFormatException(folder.OptionsFile, "inputShape must be [channels, height, width]");
        return manifest;
    }

    /// <summary>
    /// Builds the method a manifest names (its options resolved from the manifest) on new networks (seed torch first);
    /// with <paramref name="initialiseEncoder"/> they start from <see cref="RunManifest.Encoder"/> when one is named.
    /// </summary>
    public static ITrainingMethod CreateMethod(RunManifest manifest, int inputChannels, int classCount, int sampleCount = 0, bool initialiseEncoder = true,
        (int Height, int Width)? imageSize = null)
    {
        var definition = manifest.Definition();
        var context = manifest.Context(inputChannels, classCount, sampleCount, initialiseEncoder, imageSize);
        return definition.Create(definition.Resolve(manifest.ReadMethodOptions(), context), context);
    }

    /// <inheritdoc/>
    public void Dispose() => Method.Dispose();

    /// <summary>
    /// Passes the loop's progress on; after an epoch in which the method settled options from a noise estimate, records
    /// the estimate and the settled options in options.json and adds a note saying so to that epoch's report.
    /// </summary>
    private sealed class SettlementRecorder(TrainingJob job, RunFolder folder, IProgress<TrainingProgress>? inner) : IProgress<TrainingProgress>
    {
        private bool recorded = job.Manifest.NoiseEstimate is not null;

        public void Report(TrainingProgress value)
        {
            if (value.Finished is not null && !recorded && job.Method.Settlement is { } settlement)
            {
                recorded = true;
                job.Manifest = job.Manifest.WithMethodOptions(settlement.ResolvedOptions) with { NoiseEstimate = settlement.Estimate };
                folder.WriteJson(folder.OptionsFile, job.Manifest);
                value = value with { Note = $"noise estimated: {settlement.Estimate.Summary}; {settlement.Summary}" };
            }
            inner?.Report(value);
        }
    }
}
