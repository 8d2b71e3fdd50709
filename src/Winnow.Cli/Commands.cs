using Winnow.Runs;
using System.CommandLine;
using System.Globalization;
using System.Text;
using Spectre.Console;
using Winnow.Analysis;
using Winnow.Data;
using Winnow.Detection;
using Winnow.Methods;
using Winnow.Models;
using Winnow.SelfSupervised;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Cli;

internal static class Commands
{
    /// <summary>
    /// 'winnow train' with the common options and those of <paramref name="methodName"/> (the --method on the command
    /// line; ce when none is given or the name is unknown, which --method's own check then refuses).
    /// </summary>
    public static Command Train(string? methodName)
    {
        var classifiers = MethodRegistry.OfKind(MethodKind.Classifier);
        var definition = classifiers.FirstOrDefault(d => d.Name == methodName) ?? classifiers.First(d => d.Name == "ce");
        var cmd = new Command("train", "Train a classifier on (noisy) labels and write a run folder: options.json, metrics.csv, noisy_labels.csv, last.ckpt, best.ckpt, summary.json, label_issues.csv, noise_estimate.json, report.html. "
            + "'winnow train --method NAME --help' lists NAME's own options");
        var method = new Option<string>("--method") { Description = "Training method: " + string.Join("; ", classifiers.Select(m => $"{m.Name} = {m.Summary}")), DefaultValueFactory = _ => "ce" };
        method.AcceptOnlyFromAmong([.. classifiers.Select(m => m.Name)]);
        var model = new Option<string>("--model") { Description = "Encoder: " + string.Join("; ", ModelFactory.Encoders.Select(m => $"{m.Key} = {m.Value}")), DefaultValueFactory = _ => ModelFactory.DefaultEncoder };
        model.AcceptOnlyFromAmong([.. ModelFactory.Encoders.Keys]);
        var noisyLabels = new Option<string?>("--noisy-labels") { Description = "Use a noisy-label CSV written by 'winnow noise make' (index,noisy_label,true_label) instead of making noise" };
        var exclude = new Option<string?>("--exclude") { Description = "Leave these training samples out: a CSV whose first column is the sample's index (or, for folders, its relative path), e.g. a filtered noisy_labels.csv; the noise is still made on the whole set" };
        var outDir = new Option<string?>("--out") { Description = "Run folder to create (default: runs/<method>-<dataset>-<noise>-<time>)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder from its last checkpoint; every other option is read from its options.json" };
        var encoder = new Option<string?>("--encoder") { Description = "Start the encoder from this checkpoint (a 'winnow pretrain' run's last.ckpt: C2D's SimCLR initialisation; or a 'winnow train' run's checkpoint); --model defaults to its architecture" };
        var encoderMode = new Option<string>("--encoder-mode") { Description = "With --encoder: finetune (all layers train) or fixed (frozen encoder in eval mode, linear head trained; ce only)", DefaultValueFactory = _ => "finetune" };
        encoderMode.AcceptOnlyFromAmong("finetune", "fixed");
        cmd.Options.Add(method);
        cmd.Options.Add(model);
        cmd.Options.Add(encoder);
        cmd.Options.Add(encoderMode);
        var methodOptions = new MethodOptionSet(cmd, definition);
        var dataset = new DatasetOptions(cmd);
        var noise = new NoiseOptions(cmd);
        cmd.Options.Add(noisyLabels);
        cmd.Options.Add(exclude);
        var loop = new TrainingLoopOptions(cmd);
        cmd.Options.Add(outDir);
        cmd.Options.Add(resume);
        cmd.SetAction((r, ct) => CliErrors.Run(() =>
        {
            if (r.GetValue(resume) is { } resumeDir) return ResumeRun(resumeDir, ct);
            string? encoderPath = r.GetValue(encoder);
            if (r.GetValue(method) != definition.Name)
                throw new WinnowException($"--method {r.GetValue(method)} must be read before the other options; give it as '--method NAME' after 'train'");
            var manifest = new RunManifest
            {
                Method = r.GetValue(method)!,
                Model = ChooseModel(r, model, encoderPath, loop.RecipeOf(r)),
                Encoder = encoderPath is null ? null : Path.GetFullPath(encoderPath),
                EncoderMode = r.GetValue(encoderMode) == "fixed" ? EncoderMode.Fixed : EncoderMode.Finetune,
                Dataset = dataset.Read(r),
                Noise = noise.Read(r, r.GetValue(noisyLabels)),
                ExcludeFile = r.GetValue(exclude) is { } excludePath ? Path.GetFullPath(excludePath) : null,
                Training = loop.Read(r),
                CommandLine = "winnow " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
            }.WithMethodOptions(methodOptions.Read(r));
            string outPath = r.GetValue(outDir) ?? DefaultRunFolder(manifest);
            RunFolder.RequireNoRun(outPath);
            using var job = TrainingJob.Prepare(manifest);
            Console.WriteLine($"{job.Train.Name}: {job.Train.Count} training images, {job.Test.Count} test images, {job.Train.ClassCount} classes; labels: {job.Labels.Description}" +
                (job.Labels.True is null ? "" : string.Create(CultureInfo.InvariantCulture, $" ({100 * job.Labels.Summarize().NoiseRate:F1}% wrong)")));
            Console.WriteLine($"method {manifest.Method}, model {manifest.Model}, {manifest.Training.Epochs} epochs, {job.Manifest.PrecisionChoice!.Summary}{CappedKernels}, seed {manifest.Training.Seed}" +
                (manifest.Encoder is null ? "" : $", encoder {manifest.Encoder} ({manifest.EncoderMode.ToString().ToLowerInvariant()})"));
            var folder2 = new RunFolder(outPath);
            var res = TrainingConsole.Run("train", p => job.Run(folder2, p, ct));
            TrainingConsole.PrintSummary(res.Summary, folder2.Path, finalViews: res.Epochs.Count > 0 && res.Epochs[^1].Extra.TryGetValue(TrainingLoop.TestAccuracyTtaColumn, out var tta) ? tta : null);
            LabelIssueConsole.PrintFor(job, folder2.Path);
            return 0;
        }));
        return cmd;
    }

    private static string PrecisionName(Precision p) => PrecisionSelector.Name(p);

    /// <summary>Settles --precision for inference with <paramref name="model"/> on images of this shape (eval, predict, probe).</summary>
    internal static PrecisionChoice InferencePrecision(ParseResult r, Option<string> precision, string model, ImageDataset images, CancellationToken ct) =>
        PrecisionSelector.Resolve(TrainingLoopOptions.ParsePrecision(r.GetValue(precision)),
            new ThroughputOptions(model, Evaluation.DefaultBatchSize, images.Channels, images.Width, Threads: Environment.ProcessorCount, Step: BenchmarkStep.Inference, Height: images.Height),
            cancellation: ct);

    /// <summary>Features of an encoder in eval mode, without gradients, computed in <paramref name="precision"/>, as float32.</summary>
    internal static Func<Tensor, Tensor> FeaturesOf(Models.Encoder net, Precision precision) => x =>
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        return net.forward(Classifier.PrepareInput(x, precision)).to(ScalarType.Float32).MoveToOuterDisposeScope();
    };

    /// <summary>--model as given; without it, the architecture of the --encoder checkpoint's run, else the recipe's, else the default.</summary>
    private static string ChooseModel(ParseResult r, Option<string> model, string? encoderPath, TrainingRecipe? recipe = null)
    {
        string? recorded = encoderPath is null ? null : EncoderCheckpoint.ArchitectureOf(encoderPath);
        if (r.GetResult(model) is { Implicit: false }) return r.GetValue(model)!;
        return recorded ?? recipe?.Model ?? r.GetValue(model)!;
    }

    /// <summary>", oneDNN kernels AVX2 (…)" for a run's header line when the kernels are capped below the CPU's best; empty otherwise.</summary>
    private static string CappedKernels => KernelIsa.Current.Capped ? ", " + KernelIsa.Current.Summary : "";

    private static string DefaultRunFolder(RunManifest m)
    {
        string noise = m.Noise.File is not null ? "labels" : m.Noise.Kind == NoiseKind.None ? "clean"
            : string.Create(CultureInfo.InvariantCulture, $"{m.Noise.Kind.ToString().ToLowerInvariant()}{m.Noise.Rate * 100:0}");
        return Path.Combine("runs", $"{m.Method}-{m.Dataset.Kind.ToString().ToLowerInvariant()}-{noise}-{DateTime.Now:yyyyMMdd-HHmmss}");
    }

    /// <summary>Defaults of SimCLR pre-training on a 2-core CPU: batch 256, SGD lr 0.06 with one warm-up epoch and cosine decay, 20 epochs.</summary>
    public static TrainingOptions PretrainDefaults { get; } = new()
    {
        Epochs = 20, BatchSize = 256, LearningRate = 0.06, Momentum = 0.9, WeightDecay = 5e-4,
        Schedule = new LearningRateSchedule { Kind = ScheduleKind.Cosine, WarmupEpochs = 1 },
    };

    public static Command Pretrain()
    {
        var cmd = new Command("pretrain", "Self-supervised SimCLR pre-training on the training images (labels are never read); writes last.ckpt (encoder and projection head), metrics.csv with a kNN monitor, options.json");
        var model = new Option<string>("--model") { Description = "Encoder: " + string.Join(", ", ModelFactory.Encoders.Keys), DefaultValueFactory = _ => ModelFactory.DefaultEncoder };
        model.AcceptOnlyFromAmong([.. ModelFactory.Encoders.Keys]);
        var outDir = new Option<string?>("--out") { Description = "Run folder to create (default: runs/simclr-<dataset>-<time>)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the pre-training run in this folder from its last checkpoint" };
        cmd.Options.Add(model);
        var dataset = new DatasetOptions(cmd);
        var loop = new TrainingLoopOptions(cmd, PretrainDefaults);
        var simclr = MethodRegistry.Get("simclr");
        var methodOptions = new MethodOptionSet(cmd, simclr);
        foreach (var o in new Option[] { outDir, resume }) cmd.Options.Add(o);
        cmd.SetAction((r, ct) => CliErrors.Run(() =>
        {
            if (r.GetValue(resume) is { } resumeDir) return ResumeRun(resumeDir, ct);
            if (loop.RecipeOf(r) is { } recipe) throw new WinnowException($"--recipe {recipe.Name} is a recipe for 'winnow train'; pretrain takes its options one by one");
            var training = loop.Read(r) with { EvaluateTrainingSet = false };
            var manifest = new RunManifest
            {
                Method = "simclr",
                Model = r.GetValue(model)!,
                Dataset = dataset.Read(r),
                Training = training,
                CommandLine = "winnow " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
            }.WithMethodOptions(methodOptions.Read(r));
            string outPath = r.GetValue(outDir) ?? Path.Combine("runs", $"simclr-{manifest.Dataset.Kind.ToString().ToLowerInvariant()}-{DateTime.Now:yyyyMMdd-HHmmss}");
            RunFolder.RequireNoRun(outPath);
            using var job = TrainingJob.Prepare(manifest);
            Console.WriteLine($"{job.Train.Name}: {job.Train.Count} training images (labels not used), kNN monitor on {job.Test.Count} test images");
            Console.WriteLine($"SimCLR, model {manifest.Model}, {training.Epochs} epochs, batch {training.BatchSize} x 2 views, {job.Manifest.PrecisionChoice!.Summary}{CappedKernels}, seed {training.Seed}");
            var folder = new RunFolder(outPath);
            var res = TrainingConsole.Run("pretrain", p => job.Run(folder, p, ct));
            TrainingConsole.PrintSummary(res.Summary, folder.Path, "kNN");
            Console.WriteLine($"Encoder: {folder.LastCheckpoint}  (winnow train --encoder {folder.LastCheckpoint} ...)");
            return 0;
        }));
        return cmd;
    }

    private static int ResumeRun(string resumeDir, CancellationToken ct)
    {
        if (!File.Exists(Path.Combine(resumeDir, "options.json"))) throw new DataFormatException(resumeDir, "no options.json: not a Winnow run folder");
        var folder = RunFolder.Existing(resumeDir);
        Console.WriteLine($"Resuming {folder.Path}");
        bool knn = RunManifest.Read(folder).Definition().Kind == MethodKind.Pretraining;
        var (resumed, result) = TrainingConsole.Run(knn ? "pretrain" : "train", p => TrainingJob.Resume(folder, p, ct));
        resumed.Dispose();
        TrainingConsole.PrintSummary(result.Summary, folder.Path, knn ? "kNN" : "test");
        LabelIssueConsole.PrintFor(resumed, folder.Path);
        return 0;
    }

    public static Command Probe()
    {
        var cmd = new Command("probe", "Feature quality of an encoder with clean labels: linear-probe and weighted kNN (k = 200) test accuracy on frozen features");
        var encoder = new Option<string>("--encoder") { Description = "Checkpoint holding the encoder (from 'winnow pretrain' or 'winnow train')", Required = true };
        var epochs = new Option<int>("--epochs") { Description = "Linear-probe epochs over the training features", DefaultValueFactory = _ => new LinearProbeOptions().Epochs };
        var lr = new Option<double>("--lr") { Description = "AdamW learning rate of the linear probe (cosine-decayed to zero)", DefaultValueFactory = _ => new LinearProbeOptions().LearningRate };
        var precision = TrainingLoopOptions.PrecisionOption("the encoder's inference");
        cmd.Options.Add(encoder);
        cmd.Options.Add(epochs);
        cmd.Options.Add(lr);
        cmd.Options.Add(precision);
        var data = new DatasetOptions(cmd);
        cmd.SetAction((r, ct) => CliErrors.Run(() =>
        {
            string path = r.GetValue(encoder)!;
            var probeOptions = new LinearProbeOptions { Epochs = r.GetValue(epochs), LearningRate = r.GetValue(lr) };
            probeOptions.Validate();
            var spec = data.Read(r);
            var train = spec.LoadTrain();
            var test = spec.LoadTest(train);
            using var net = EncoderCheckpoint.Load(path, train.Channels);
            string model = net.Architecture;
            var choice = InferencePrecision(r, precision, model, train, ct);
            Console.WriteLine($"features in {choice.Summary}; CPU: {choice.Cpu}");
            var result = LinearProbe.Run(FeaturesOf(net, choice.Chosen), train, test, probeOptions, cancellation: ct);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{train.Name} -> {test.Name}, {model} encoder from {path}: linear probe {100 * result.LinearAccuracy:F2}%, kNN (k=200) {100 * result.KnnAccuracy:F2}% ({result.Seconds:F0} s)"));
            return 0;
        }));
        return cmd;
    }

    public static Command Issues()
    {
        var cmd = new Command("issues", "Find the training labels that are probably wrong, from a trained run (--run), from an encoder's features alone (--encoder: kNN label agreement), or both: writes label_issues.csv (every sample, most suspect first), noise_estimate.json and report.html (plots and the most suspect images), and measures the detectors against the true labels where they are known");
        var run = new Option<string?>("--run") { Description = "A 'winnow train' run folder: its final model's predictions, its data and labels" };
        var encoder = new Option<string?>("--encoder") { Description = "A checkpoint holding an encoder (e.g. 'winnow pretrain' run's last.ckpt): kNN label agreement on its features" };
        var which = new Option<string>("--checkpoint") { Description = "With --run: which of the run's checkpoints predicts, last or best", DefaultValueFactory = _ => "last" };
        which.AcceptOnlyFromAmong("last", "best");
        var neighbours = new Option<int>("--neighbours") { Description = "With --encoder: neighbours per sample", DefaultValueFactory = _ => KnnLabelAgreement.DefaultNeighbours };
        var outDir = new Option<string?>("--out") { Description = "Folder for the files (default with --run: the run folder)" };
        var precision = TrainingLoopOptions.PrecisionOption("the model's inference");
        var noisyLabels = new Option<string?>("--noisy-labels") { Description = "Without --run: a noisy-label CSV written by 'winnow noise make' (index,noisy_label,true_label)" };
        var folds = new Option<int?>("--folds") { Description = "Out-of-fold predictions (cleanlab's practice): train K cross-entropy models, each on K-1 folds of the data, each predicting the fold it never saw, and find the issues from those; with the training options below (--recipe fast for photos); --out required, a killed job continues when started again" };
        var model = new Option<string>("--model") { Description = "With --folds: the encoder (default: the recipe's, else " + ModelFactory.DefaultEncoder + ")", DefaultValueFactory = _ => ModelFactory.DefaultEncoder };
        model.AcceptOnlyFromAmong([.. ModelFactory.Encoders.Keys]);
        foreach (var o in new Option[] { run, encoder, which, neighbours, outDir, precision, folds, model }) cmd.Options.Add(o);
        var data = new DatasetOptions(cmd);
        var noise = new NoiseOptions(cmd);
        cmd.Options.Add(noisyLabels);
        var loop = new TrainingLoopOptions(cmd);
        cmd.SetAction((r, ct) => CliErrors.Run(() =>
        {
            string? runPath = r.GetValue(run), encoderPath = r.GetValue(encoder);
            if (r.GetValue(folds) is { } k) return OutOfFold(r, k, runPath, encoderPath, r.GetValue(outDir), model, data, noise, noisyLabels, loop, ct);
            if (runPath is null && encoderPath is null) throw new WinnowException("give --run (a trained run), --encoder (an encoder checkpoint), or both");
            string outPath = r.GetValue(outDir) ?? runPath ?? throw new WinnowException("--out is needed without --run");
            var folder = runPath is null ? null : RunFolder.Existing(runPath);
            string? checkpointUsed = folder is null ? null : r.GetValue(which) == "best" ? folder.BestCheckpoint : folder.LastCheckpoint;
            if (checkpointUsed is not null && !File.Exists(checkpointUsed)) throw new DataFormatException(checkpointUsed, "missing; expected a finished or running 'winnow train' run");
            if (folder is not null && !File.Exists(folder.NoisyLabelsFile)) throw new DataFormatException(folder.NoisyLabelsFile, "missing; expected the training labels of a 'winnow train' run");
            using var held = FolderLock.Take(outPath);
            ImageDataset train;
            NoisyLabelSet labels;
            int[]? kept = null;
            float[]? probabilities = null;
            int seed = 0;
            if (folder is not null && checkpointUsed is { } checkpoint)
            {
                var recorded = TrainingJob.ReadManifestBeside(checkpoint);
                train = recorded.Dataset.LoadTrain();
                labels = NoisyLabelSet.Load(folder.NoisyLabelsFile, train.Count, train.ClassCount);
                if (File.Exists(folder.ExcludedSamplesFile))
                {
                    kept = SampleExclusion.Kept(train.Count, SampleExclusion.Read(folder.ExcludedSamplesFile, train));
                    train = train.Subset(kept);
                    labels = labels.Subset(kept);
                }
                var choice = InferencePrecision(r, precision, recorded.Model, train, ct);
                Console.WriteLine($"{train.Name}: {train.Count} training images; labels: {folder.NoisyLabelsFile}; model {recorded.Model} from {checkpoint}, inference in {choice.Summary}");
                var (_, method) = TrainingJob.LoadTrained(checkpoint, choice.Chosen);
                using var _m = method;
                probabilities = TestTimeAugmenter.PredictTrainingSet(method, train, recorded.Training.TestTimeAugmentation, ct).Probabilities;
                seed = recorded.Training.Seed;
            }
            else
            {
                var spec = data.Read(r);
                train = spec.LoadTrain();
                labels = noise.Read(r, r.GetValue(noisyLabels)).Create(train, trueLabelsKnown: spec.LabelFile is null);
                Console.WriteLine($"{train.Name}: {train.Count} training images; labels: {labels.Description}");
            }
            float[]? distribution = null;
            if (encoderPath is not null)
            {
                KnnLabelAgreement.CheckNeighbours(r.GetValue(neighbours), train.Count);
                using var net = EncoderCheckpoint.Load(encoderPath, train.Channels);
                string model = net.Architecture;
                var choice = InferencePrecision(r, precision, model, train, ct);
                using var features = Evaluation.FeatureMatrix(FeaturesOf(net, choice.Chosen), train, cancellation: ct);
                distribution = KnnLabelAgreement.NeighbourLabelDistribution(features, labels.Noisy, labels.ClassCount, r.GetValue(neighbours), ct);
                Console.WriteLine($"{model} encoder from {encoderPath}: {features.shape[1]} features, {r.GetValue(neighbours)} neighbours, inference in {choice.Summary}");
            }
            var findings = LabelIssueReport.Find(labels, probabilities, distribution, seed);
            var facts = new List<KeyValuePair<string, string>>();
            if (folder is not null) facts.Add(new("run", folder.Path));
            if (checkpointUsed is not null) facts.Add(new("checkpoint", checkpointUsed));
            if (encoderPath is not null) facts.Add(new("encoder", string.Create(CultureInfo.InvariantCulture, $"{Path.GetFullPath(encoderPath)} ({r.GetValue(neighbours)} neighbours)")));
            facts.Add(new("CPU", CpuInfo.Current.Description));
            LabelIssuePage.Write(outPath, findings, labels, train, kept, new LabelIssueReportContext(facts, folder));
            LabelIssueConsole.Print(findings, outPath);
            return 0;
        }));
        return cmd;
    }

    /// <summary>'issues --folds K': the K fold runs, their out-of-fold predictions, the label issues from those.</summary>
    private static int OutOfFold(ParseResult r, int folds, string? runPath, string? encoderPath, string? outPath, Option<string> model,
        DatasetOptions data, NoiseOptions noise, Option<string?> noisyLabels, TrainingLoopOptions loop, CancellationToken ct)
    {
        if (runPath is not null || encoderPath is not null) throw new WinnowException("--folds trains its own models; it does not combine with --run or --encoder");
        if (outPath is null) throw new WinnowException("--folds needs --out (the folder for the fold runs and the label issues)");
        if (folds is < 2 or > 20) throw new WinnowException($"--folds must be in 2..20, got {folds}");
        var manifest = new RunManifest
        {
            Method = "ce",
            Model = ChooseModel(r, model, null, loop.RecipeOf(r)),
            Dataset = data.Read(r),
            Noise = noise.Read(r, r.GetValue(noisyLabels)),
            Training = loop.Read(r),
            CommandLine = "winnow " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
        };
        var ci = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(ci, $"{folds} folds: model {manifest.Model}, {manifest.Training.Epochs} epochs each on {folds - 1} of {folds} folds, seed {manifest.Training.Seed}"));
        var result = OutOfFoldJob.Run(manifest, outPath, folds, new ImmediateProgress<OutOfFoldProgress>(p =>
        {
            if (p.Training is { Finished: { } m } t) Console.WriteLine($"fold {p.Fold}/{p.Folds}  " + TrainingConsole.EpochLine(m, t.TotalEpochs));
            else if (p.Training is null) Console.WriteLine($"fold {p.Fold}/{p.Folds}: predicting the samples it left out");
        }), ct);
        Console.WriteLine(string.Create(ci, $"Fold models' test accuracy: {string.Join(", ", result.FoldAccuracies.Select(a => $"{100 * a:F2}%"))}"));
        var facts = new List<KeyValuePair<string, string>>
        {
            new("out-of-fold", string.Create(ci, $"{folds} folds of {manifest.Model}, {manifest.Training.Epochs} epochs, seed {manifest.Training.Seed}")),
            new("CPU", CpuInfo.Current.Description),
        };
        if (manifest.CommandLine is { } command) facts.Add(new("command", command));
        LabelIssuePage.Write(outPath, result.Findings, result.Labels, result.Train, null, new LabelIssueReportContext(facts, null));
        LabelIssueConsole.Print(result.Findings, outPath);
        return 0;
    }

    public static Command Noise()
    {
        var cmd = new Command("noise", "Make noisy labels or inspect a noisy-label file");
        var make = new Command("make", "Make synthetic noisy labels for a dataset, save them as CSV (index,noisy_label,true_label) and print their summary");
        var makeData = new DatasetOptions(make);
        var makeNoise = new NoiseOptions(make);
        var makeOut = new Option<string>("--out") { Description = "CSV file to write", Required = true };
        make.Options.Add(makeOut);
        make.SetAction(r => CliErrors.Run(() =>
        {
            var train = makeData.Read(r).LoadTrain();
            var spec = makeNoise.Read(r);
            if (spec.Kind == NoiseKind.None) throw new WinnowException("choose a --noise kind (symmetric, asymmetric or instance)");
            var labels = spec.Create(train, true);
            labels.Save(r.GetValue(makeOut)!);
            Console.WriteLine($"Wrote {r.GetValue(makeOut)}: {labels.Description}");
            NoiseReport.Print(labels.Summarize(), train.ClassNames);
            return 0;
        }));
        var inspect = new Command("inspect", "Print the summary of a noisy-label CSV: actual noise rate, per-class rates, transition matrix");
        var inspectData = new DatasetOptions(inspect);
        var labelsFile = new Option<string>("--labels") { Description = "Noisy-label CSV (index,noisy_label,true_label)", Required = true };
        inspect.Options.Add(labelsFile);
        inspect.SetAction(r => CliErrors.Run(() =>
        {
            var train = inspectData.Read(r).LoadTrain();
            var labels = NoisyLabelSet.Load(r.GetValue(labelsFile)!, train.Count, train.ClassCount);
            NoiseReport.Print(labels.Summarize(), train.ClassNames);
            return 0;
        }));
        cmd.Subcommands.Add(make);
        cmd.Subcommands.Add(inspect);
        return cmd;
    }

    private static Option<string> CheckpointOption() => new("--checkpoint")
    {
        Description = "A checkpoint (best.ckpt or last.ckpt) inside a run folder; the run's options.json says how to rebuild the model",
        Required = true,
    };

    private static Option<string> SplitOption()
    {
        var o = new Option<string>("--split") { Description = "Which split: test or train", DefaultValueFactory = _ => "test" };
        o.AcceptOnlyFromAmong("test", "train");
        return o;
    }

    private static (RunManifest, ITrainingMethod, ImageDataset) LoadForInference(ParseResult r, Option<string> checkpoint, Option<string> split, DatasetOptions data,
        Option<string> precision, CancellationToken ct)
    {
        string path = r.GetValue(checkpoint)!;
        var recorded = TrainingJob.ReadManifestBeside(path);
        var spec = data.Override(r, recorded.Dataset);
        var train = spec.LoadTrain();
        var images = r.GetValue(split) == "train" ? train : spec.LoadTest(train);
        var shape = recorded.InputShape!;
        if (images.Channels != shape[0] || images.Height != shape[1] || images.Width != shape[2])
            throw new WinnowException($"{images.Name}: images of {images.Channels}x{images.Height}x{images.Width} (channels x height x width); the model was trained on {shape[0]}x{shape[1]}x{shape[2]} (--channels, --image-size)");
        if (!images.ClassNames.SequenceEqual(recorded.ClassNames!))
            throw new WinnowException($"{images.Name}: classes {string.Join(", ", images.ClassNames)}; the model's are {string.Join(", ", recorded.ClassNames!)} (the same names in the same order)");
        // Normalised as the model's training images were, not by these images' own statistics.
        if (recorded.Normalization is { } normalization) images = images.WithNormalization(normalization);
        var choice = InferencePrecision(r, precision, recorded.Model, images, ct);
        var (manifest, method) = TrainingJob.LoadTrained(path, choice.Chosen);
        Console.Error.WriteLine($"inference in {choice.Summary}; CPU: {choice.Cpu}");
        return (manifest, method, images);
    }

    public static Command Eval()
    {
        var cmd = new Command("eval", "Accuracy of a checkpoint on a dataset split (by default the run's own test set)");
        var checkpoint = CheckpointOption();
        var split = SplitOption();
        var precision = TrainingLoopOptions.PrecisionOption("the model's inference");
        cmd.Options.Add(checkpoint);
        cmd.Options.Add(split);
        cmd.Options.Add(precision);
        var data = new DatasetOptions(cmd);
        cmd.SetAction((r, ct) => CliErrors.Run(() =>
        {
            var (manifest, method, images) = LoadForInference(r, checkpoint, split, data, precision, ct);
            using var _ = method;
            var pred = Evaluation.Predict(method.PredictLogits, images);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{images.Name}: accuracy {100 * pred.Accuracy(images.Labels):F2}% on {images.Count} images ({manifest.Method}, {manifest.Model})"));
            var table = new Table().AddColumns("class", "images", "accuracy");
            for (int c = 0; c < images.ClassCount; c++)
            {
                var idx = Enumerable.Range(0, images.Count).Where(i => images.Labels[i] == c).ToArray();
                double acc = idx.Length == 0 ? double.NaN : (double)idx.Count(i => pred.Predicted[i] == c) / idx.Length;
                table.AddRow(images.ClassNames[c], idx.Length.ToString(CultureInfo.InvariantCulture), (100 * acc).ToString("F2", CultureInfo.InvariantCulture) + "%");
            }
            AnsiConsole.Write(table);
            return 0;
        }));
        return cmd;
    }

    public static Command Predict()
    {
        var cmd = new Command("predict", "Write a CSV of the predicted class and the class probabilities of every sample");
        var checkpoint = CheckpointOption();
        var split = SplitOption();
        var output = new Option<string>("--out") { Description = "CSV file to write", Required = true };
        var precision = TrainingLoopOptions.PrecisionOption("the model's inference");
        cmd.Options.Add(checkpoint);
        cmd.Options.Add(split);
        cmd.Options.Add(output);
        cmd.Options.Add(precision);
        var data = new DatasetOptions(cmd);
        cmd.SetAction((r, ct) => CliErrors.Run(() =>
        {
            var (_, method, images) = LoadForInference(r, checkpoint, split, data, precision, ct);
            using var _m = method;
            var pred = Evaluation.Predict(method.PredictLogits, images);
            var ci = CultureInfo.InvariantCulture;
            var sb = new StringBuilder("index,");
            if (images.ItemPaths is not null) sb.Append("path,");
            sb.Append("label,predicted,").AppendJoin(',', images.ClassNames.Select(n => "p_" + CsvField.Escape(n))).Append('\n');
            for (int i = 0; i < images.Count; i++)
            {
                sb.Append(i).Append(',');
                if (images.ItemPaths is not null) sb.Append(CsvField.Escape(images.ItemPaths[i])).Append(',');
                sb.Append(images.Labels[i]).Append(',').Append(pred.Predicted[i]);
                for (int c = 0; c < images.ClassCount; c++) sb.Append(',').Append(pred.Probabilities[i * images.ClassCount + c].ToString("G6", ci));
                sb.Append('\n');
            }
            AtomicFile.WriteAllText(r.GetValue(output)!, sb.ToString());
            Console.WriteLine($"Wrote {r.GetValue(output)}: {images.Count} rows; accuracy {(100 * pred.Accuracy(images.Labels)).ToString("F2", ci)}% against the dataset's labels");
            return 0;
        }));
        return cmd;
    }

    public static Command Bench()
    {
        var cmd = new Command("bench", "Training throughput (images per second of forward, backward and SGD step) on random inputs, as ../shared/bench/torch_reference.py measures it");
        var model = new Option<string>("--model") { Description = "Encoder", DefaultValueFactory = _ => ModelFactory.DefaultEncoder };
        model.AcceptOnlyFromAmong([.. ModelFactory.Encoders.Keys]);
        var batch = new Option<int>("--batch") { Description = "Batch size", DefaultValueFactory = _ => 128 };
        var size = new Option<int>("--size") { Description = "Image height and width", DefaultValueFactory = _ => 28 };
        var channels = new Option<int>("--channels") { Description = "Image channels", DefaultValueFactory = _ => 1 };
        var precision = TrainingLoopOptions.PrecisionOption("the benchmarked step");
        var inference = new Option<bool>("--inference") { Description = "Measure inference (eval mode, no gradients) instead of a training step" };
        var gemm = new Option<bool>("--gemm") { Description = "Measure the machine's matrix-multiply peak instead (2048 x 2048 fp32 products, GFLOP/s), the reference for a step's fraction of peak" };
        var steps = new Option<int>("--steps") { Description = "Timed steps (after 2 warm-up steps)", DefaultValueFactory = _ => 10 };
        var threads = new Option<int>("--threads") { Description = "Torch threads", DefaultValueFactory = _ => 2 };
        var pretrain = new Option<bool>("--pretrain") { Description = "Measure a SimCLR pre-training step (two views per image; the figure is views per second)" };
        foreach (var o in new Option[] { model, batch, size, channels, precision, steps, threads, pretrain, inference, gemm }) cmd.Options.Add(o);
        cmd.SetAction((r, ct) => CliErrors.Run(() =>
        {
            Console.WriteLine($"CPU: {CpuInfo.Current.Description}; {KernelIsa.Current.Summary}");
            if (r.GetValue(gemm))
            {
                var (blas, onednn) = ThroughputBenchmark.GemmFlopsPerSecond(threads: r.GetValue(threads), cancellation: ct);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"winnow gemm 2048x2048 fp32 threads {r.GetValue(threads)}: matmul {blas / 1e9:F1} GFLOP/s, as a 1x1 convolution {onednn / 1e9:F1} GFLOP/s; peak {Math.Max(blas, onednn) / 1e9:F1} GFLOP/s"));
                return 0;
            }
            if (r.GetValue(pretrain) && r.GetValue(inference)) throw new WinnowException("choose one of --pretrain and --inference");
            var step = r.GetValue(pretrain) ? BenchmarkStep.Pretraining : r.GetValue(inference) ? BenchmarkStep.Inference : BenchmarkStep.Training;
            var requested = TrainingLoopOptions.ParsePrecision(r.GetValue(precision));
            var o = new ThroughputOptions(r.GetValue(model)!, r.GetValue(batch), r.GetValue(channels), r.GetValue(size), Precision.Float32, r.GetValue(steps), r.GetValue(threads), step);
            if (o.Batch < 1 || o.Steps < 1) throw new WinnowException($"--batch and --steps must be positive, got {o.Batch} and {o.Steps}");
            if (o.Threads is < 1 or > TrainingOptions.MaxThreads) throw new WinnowException($"--threads must be in 1..{TrainingOptions.MaxThreads}, got {o.Threads}");
            if (o.Size is < 8 or > 1024) throw new WinnowException($"--size must be in 8..1024, got {o.Size}");
            if (o.Channels is not (1 or 3)) throw new WinnowException($"--channels must be 1 or 3, got {o.Channels}");
            var cpu = CpuInfo.Current;
            string what = step switch { BenchmarkStep.Pretraining => "simclr ", BenchmarkStep.Inference => "inference ", _ => "" };
            void Print(Precision p, double rate) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"winnow {what}{o.Model} {o.Channels}x{o.Size}x{o.Size} batch {o.Batch}{(step == BenchmarkStep.Pretraining ? " x 2 views" : "")} {PrecisionName(p)} threads {o.Threads}: {rate:F1} img/s"));
            if (requested != Precision.Auto)
            {
                Print(requested, ThroughputBenchmark.ImagesPerSecond(o with { Precision = requested }, ct));
                return 0;
            }
            // The same measurement and decision as a run's --precision auto, with this command's step count.
            var choice = PrecisionSelector.Resolve(Precision.Auto, o, cpu, ct, o.Steps);
            Print(Precision.Float32, choice.Float32ImagesPerSecond!.Value);
            if (choice.BFloat16ImagesPerSecond is { } b) Print(Precision.BFloat16, b);
            Console.WriteLine("auto picks " + choice.Summary);
            return 0;
        }));
        return cmd;
    }
}

/// <summary>Turns expected failures into one line on stderr and a non-zero exit code.</summary>
internal static class CliErrors
{
    public static Task<int> Run(Func<int> action)
    {
        try { return Task.FromResult(action()); }
        catch (OperationCanceledException) { Console.Error.WriteLine("winnow: cancelled"); return Task.FromResult(130); }
        catch (OutOfMemoryException)
        {
            Console.Error.WriteLine("winnow: error: out of memory; use a smaller --batch-size, or for image folders a smaller --image-size (a training run continues from its last checkpoint with --resume <run folder>)");
            return Task.FromResult(2);
        }
        catch (Exception e)
        {
            if (!IsExpected(e) && Environment.GetEnvironmentVariable("WINNOW_DEBUG") is "1" or "true") Console.Error.WriteLine(e.ToString());
            return Task.FromResult(Refuse(e));
        }
    }

    /// <summary>Prints the one line of <paramref name="e"/> on stderr; returns the exit code of bad input, 2.</summary>
    public static int Refuse(Exception e)
    {
        Console.Error.WriteLine(OneLine(e));
        return 2;
    }

    private static bool IsExpected(Exception e) => e is WinnowException or IOException or UnauthorizedAccessException;

    /// <summary>
    /// The single stderr line for a failure: the message of an expected error (bad input, a missing file); for
    /// libtorch's errors only the first line (the C++ backtrace follows it) and for anything else the type too,
    /// each with how to continue an interrupted run.
    /// </summary>
    public static string OneLine(Exception e)
    {
        const string Continue = "a training or pre-training run continues from its last checkpoint with --resume <run folder>; set WINNOW_DEBUG=1 for the full trace";
        string message = e switch
        {
            _ when IsExpected(e) => e.Message,
            System.Runtime.InteropServices.ExternalException => $"libtorch failed: {e.Message.Split('\n', 2)[0].Trim()} ({Continue})",
            _ => $"unexpected {e.GetType().Name}: {e.Message} ({Continue})",
        };
        return "winnow: error: " + message.ReplaceLineEndings(" ");
    }
}

/// <summary>Prints what the label-issue detectors found.</summary>
internal static class LabelIssueConsole
{
    /// <summary>What a finished training job found about its labels; an error saying why, and how to write them, when it found nothing.</summary>
    public static void PrintFor(TrainingJob job, string folder)
    {
        if (job.LabelIssues is { } issues) Print(issues, folder);
        if (job.LabelIssueError is { } why)
            throw new WinnowException($"no label issues written ({why}); the run itself is saved in {folder}: write them with 'winnow train --resume {folder}' or 'winnow issues --run {folder}'");
    }

    public static void Print(LabelIssueFindings f, string folder)
    {
        var ci = CultureInfo.InvariantCulture;
        var p = f.Primary;
        int flagged = p.Flagged.Count(x => x);
        var actual = f.Measures.Count > 0 ? string.Create(ci, $" (actual {100 * f.Measures[0].ActualNoiseRate:F1}%)") : "";
        Console.WriteLine(string.Create(ci, $"Label issues: {flagged} of {p.Flagged.Length} labels flagged by {p.Detector}; estimated noise {100 * p.EstimatedNoiseRate:F1}%{actual}"));
        if (f.Measures.Count > 0)
        {
            Console.WriteLine("  against the true labels:  detector            flagged  precision  recall     F1  ROC-AUC  avg prec  est. noise");
            foreach (var m in f.Measures)
                Console.WriteLine(string.Create(ci,
                    $"                            {m.Detector,-18} {m.FlaggedCount,8} {m.Precision,10:F3} {m.Recall,7:F3} {m.F1,6:F3} {m.RocAuc,8:F4} {m.AveragePrecision,9:F4} {100 * m.EstimatedNoiseRate,10:F1}%"));
        }
        Console.WriteLine($"Wrote {Path.Combine(folder, LabelIssueReport.IssuesFile)}, {LabelIssueReport.NoiseFile} and {LabelIssuePage.ReportFile}");
    }
}

/// <summary>Prints a <see cref="NoiseSummary"/>.</summary>
internal static class NoiseReport
{
    public static void Print(NoiseSummary s, IReadOnlyList<string> classes)
    {
        var ci = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(ci, $"Actual noise rate: {100 * s.NoiseRate:F2}% of labels are wrong"));
        var table = new Table().Title("Transition matrix P(noisy | true), %").AddColumn("true \\ noisy");
        for (int k = 0; k < classes.Count; k++) table.AddColumn(k.ToString(ci));
        table.AddColumn("wrong");
        for (int t = 0; t < classes.Count; t++)
        {
            var cells = new List<string> { $"{t} {classes[t]}" };
            for (int k = 0; k < classes.Count; k++) cells.Add((100 * s.Transition[t, k]).ToString("F1", ci));
            cells.Add((100 * s.PerClassNoiseRate[t]).ToString("F1", ci));
            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }
        AnsiConsole.Write(table);
    }
}
