using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Winnow.Analysis;
using Winnow.Data;
using Winnow.Models;
using Winnow.Runs;
using Winnow.Training;
using static TorchSharp.torch;

namespace Winnow.Cli;

/// <summary>'winnow analyze': why a result is what it is, for encoders and runs (spectrum and alignment, memorisation).</summary>
internal static class AnalyzeCommand
{
    public static Command Create()
    {
        var cmd = new Command("analyze", "Explain encoders and runs: the singular values of each encoder's features and their alignment with the clean and the noisy labels (Xue et al.), "
            + "and the runs' memorisation curves overlaid; writes spectrum/<name>/ (spectrum.json, singular_values.csv, alignment.csv), memorisation.csv, analysis.json and report.html");
        var encoders = new Option<string[]>("--encoder") { Description = "An encoder checkpoint (a 'winnow pretrain' or 'winnow train' run's last.ckpt); repeat for several", AllowMultipleArgumentsPerToken = true };
        var runs = new Option<string[]>("--run") { Description = "A 'winnow train' run folder: its final encoder's spectrum and its per-epoch curves; repeat for several", AllowMultipleArgumentsPerToken = true };
        var random = new Option<bool>("--random") { Description = "Also analyse a randomly initialised encoder of --model (seeded by --seed)" };
        var model = new Option<string>("--model") { Description = "Architecture of the --random encoder", DefaultValueFactory = _ => ModelFactory.DefaultEncoder };
        var samples = new Option<int>("--samples") { Description = "Training images in the spectrum: a seeded subset (0: all)", DefaultValueFactory = _ => 10_000 };
        var seed = new Option<int>("--seed") { Description = "Seed of the subset and of the random encoder", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string>("--out") { Description = "Folder for the files", Required = true };
        var precision = TrainingLoopOptions.PrecisionOption("the encoders' inference");
        var noisyLabels = new Option<string?>("--noisy-labels") { Description = "A noisy-label CSV written by 'winnow noise make' (index,noisy_label,true_label)" };
        var probeEpochs = new Option<int>("--probe-epochs") { Description = "Linear-probe epochs of the runs' encoders in the separability analysis (0: no probe)", DefaultValueFactory = _ => new LinearProbeOptions().Epochs };
        var mapSamples = new Option<int>("--map-samples") { Description = "Training images in each encoder's 2-D maps (PCA and t-SNE): a seeded subset, at most 5000 (0: no maps)", DefaultValueFactory = _ => 2000 };
        var jacobianSamples = new Option<int>("--jacobian-samples") { Description = "Images in the Jacobian spectrum of each encoder with a new linear head, at initialisation (Xue et al.'s Table 4 uses 1000: about 10 minutes per encoder on 2 cores and half the machine's memory; 0: none)", DefaultValueFactory = _ => 0 };
        foreach (var o in new Option[] { encoders, runs, random, model, samples, seed, outDir, precision, probeEpochs, mapSamples, jacobianSamples }) cmd.Options.Add(o);
        var data = new DatasetOptions(cmd);
        var noise = new NoiseOptions(cmd);
        cmd.Options.Add(noisyLabels);
        cmd.SetAction((r, ct) => CliErrors.Run(() =>
        {
            var encoderPaths = r.GetValue(encoders) ?? [];
            var runPaths = r.GetValue(runs) ?? [];
            bool withRandom = r.GetValue(random);
            if (encoderPaths.Length == 0 && runPaths.Length == 0 && !withRandom)
                throw new WinnowException("give at least one --encoder, --run or --random");
            foreach (var (option, zero) in new[] { (samples, "all"), (probeEpochs, "no probe"), (jacobianSamples, "none") })
                if (r.GetValue(option) < 0) throw new WinnowException($"{option.Name} must be 0 ({zero}) or positive, got {r.GetValue(option)}");
            if (r.GetValue(mapSamples) is < 0 or > 5000) throw new WinnowException($"--map-samples must be between 0 (no maps) and 5000, got {r.GetValue(mapSamples)}");
            foreach (string last in runPaths.Select(p => RunFolder.Existing(p).LastCheckpoint))
                if (!File.Exists(last)) throw new DataFormatException(last, "missing; expected a 'winnow train' run folder");
            string outPath = r.GetValue(outDir)!;
            var spec = data.Read(r);
            var train = spec.LoadTrain();
            var labels = noise.Read(r, r.GetValue(noisyLabels)).Create(train, trueLabelsKnown: spec.LabelFile is null);
            using var held = FolderLock.Take(outPath);
            Console.WriteLine($"{train.Name}: {train.Count} training images; labels: {labels.Description}");
            var options = new RepresentationSpectrumOptions
            {
                MaxSamples = r.GetValue(samples) == 0 ? null : r.GetValue(samples),
                Seed = r.GetValue(seed),
            };

            // Every encoder to analyse: its name (unique), where it comes from, and how to build it.
            var sources = new List<(string Name, string Source, Func<Models.Encoder> Build)>();
            var taken = new HashSet<string>(StringComparer.Ordinal);
            string Unique(string name)
            {
                string candidate = name;
                for (int i = 2; !taken.Add(candidate); i++) candidate = string.Create(CultureInfo.InvariantCulture, $"{name}-{i}");
                return candidate;
            }
            if (withRandom)
            {
                string m = r.GetValue(model)!;
                sources.Add((Unique($"random {m}"), $"randomly initialised {m}, seed {r.GetValue(seed)}", () =>
                {
                    TrainingLoop.SeedForInitialisation(r.GetValue(seed));
                    var e = ModelFactory.CreateEncoder(m, train.Channels);
                    e.eval();
                    return e;
                }));
            }
            foreach (var path in encoderPaths)
                sources.Add((Unique(NameOf(path)), Path.GetFullPath(path), () => EncoderCheckpoint.Load(path, train.Channels)));
            foreach (var runPath in runPaths)
            {
                string checkpoint = RunFolder.Existing(runPath).LastCheckpoint;
                sources.Add((Unique(RunName(runPath)), Path.GetFullPath(checkpoint), () => EncoderCheckpoint.Load(checkpoint, train.Channels)));
            }

            var spectra = new List<(string Name, SpectrumResult Result)>();
            var maps = new List<FeatureMapResult>();
            var jacobians = new List<(string Name, JacobianSpectrumResult Result)>();
            int[]? mapped = r.GetValue(mapSamples) == 0 ? null : RepresentationSpectrum.SubsetIndices(train.Count, r.GetValue(mapSamples), r.GetValue(seed));
            foreach (var (name, source, build) in sources)
            {
                ct.ThrowIfCancellationRequested();
                using var net = build();
                var choice = Commands.InferencePrecision(r, precision, net.Architecture, train, ct);
                using var features = Evaluation.FeatureMatrix(Commands.FeaturesOf(net, choice.Chosen), train, cancellation: ct);
                var result = RepresentationSpectrum.Compute(features, labels, options, ct);
                result.Write(Path.Combine(outPath, "spectrum", FolderName(name)));
                spectra.Add((name, result));
                Console.WriteLine($"{name}: {result.Summary}");
                if (mapped is not null) maps.Add(MapOf(name, features, mapped, labels, ct));
                if (r.GetValue(jacobianSamples) > 0)
                {
                    // A new linear head on the encoder, seeded, as at the start of training: J(W₀).
                    TrainingLoop.SeedForInitialisation(r.GetValue(seed));
                    using var classifier = new Classifier(build(), train.ClassCount);
                    var jacobian = JacobianSpectrum.Compute(classifier, train, labels.Noisy,
                        new JacobianSpectrumOptions { Samples = r.GetValue(jacobianSamples), Seed = r.GetValue(seed) },
                        new ImmediateProgress<(int Done, int Total)>(p => Console.WriteLine($"{name}: Jacobian rows, block {p.Done} of {p.Total}")), ct);
                    jacobian.Write(Path.Combine(outPath, "spectrum", FolderName(name)));
                    Console.WriteLine($"{name}: {jacobian.Summary}");
                    jacobians.Add((name, jacobian));
                }
            }

            var curves = runPaths
                .Select(p => (Name: RunName(p), File: RunFolder.Existing(p).MetricsFile))
                .Where(c => File.Exists(c.File))
                .Select(c => (c.Name, (IReadOnlyList<EpochMetrics>)EpochMetrics.ReadCsv(c.File)))
                .ToList();

            var separability = new List<(string Run, IReadOnlyList<StageSeparability> Stages)>();
            foreach (var runPath in runPaths)
            {
                var stages = RunSeparability(runPath, r.GetValue(probeEpochs), r.GetValue(seed), images => Commands.InferencePrecision(r, precision, ModelOf(runPath), images, ct).Chosen, ct);
                if (stages.Count > 0) separability.Add((RunName(runPath), stages));
            }

            Directory.CreateDirectory(outPath);
            var report = new HtmlReport("Winnow analysis");
            report.AddFact("dataset", $"{train.Name}: {train.Count} training images")
                .AddFact("labels", labels.Description)
                .AddFact("CPU", CpuInfo.Current.Description);
            foreach (var (name, source, _) in sources) report.AddFact(name, source);
            if (spectra.Count > 0) SpectrumSection.AddTo(report, spectra.ToArray());
            if (jacobians.Count > 0) JacobianSection.AddTo(report, jacobians.ToArray());
            if (maps.Count > 0)
            {
                FeatureMapSection.AddTo(report, maps, train.ClassNames);
                FeatureMapSection.WriteCsv(Path.Combine(outPath, "feature_map.csv"), maps);
            }
            if (curves.Any(c => c.Item2.Count > 0))
            {
                MemorisationSection.AddTo(report, curves);
                MemorisationSection.WriteCsv(Path.Combine(outPath, MemorisationSection.CsvFile), curves);
            }
            if (separability.Count > 0)
            {
                SeparabilitySection.AddTo(report, separability);
                SeparabilitySection.WriteCsv(Path.Combine(outPath, SeparabilitySection.CsvFile), separability);
            }
            var record = new
            {
                dataset = train.Name,
                labels = labels.Description,
                encoders = sources.Select(s => new { name = s.Name, source = s.Source }).ToArray(),
                runs = runPaths.Select(Path.GetFullPath).ToArray(),
                samples = r.GetValue(samples),
                seed = r.GetValue(seed),
                cpu = CpuInfo.Current.Description,
            };
            AtomicFile.WriteAllText(Path.Combine(outPath, "analysis.json"), JsonSerializer.Serialize(record, RunFolder.Json) + "\n");
            string page = Path.Combine(outPath, "report.html");
            report.Write(page);
            Console.WriteLine($"Wrote {page}");
            return 0;
        }));
        return cmd;
    }

    /// <summary>The PCA and (from 31 samples on, perplexity 30) t-SNE maps of the <paramref name="rows"/> of <paramref name="features"/>.</summary>
    private static FeatureMapResult MapOf(string name, Tensor features, int[] rows, NoisyLabelSet labels, CancellationToken ct)
    {
        using var scope = NewDisposeScope();
        var chosen = features.index_select(0, tensor(rows.Select(i => (long)i).ToArray())).contiguous();
        int n = rows.Length, p = (int)chosen.shape[1];
        var values = chosen.data<float>().ToArray();
        var pca = FeatureProjection.Pca(values, n, p);
        var tsne = n > 30 ? FeatureProjection.TSne(values, n, p, cancellation: ct) : null;
        var classes = rows.Select(i => (labels.True ?? labels.Noisy)[i]).ToArray();
        var wrong = labels.True is null ? null : rows.Select(labels.IsMislabeled).ToArray();
        return new FeatureMapResult(name, rows, pca, tsne, classes, wrong);
    }

    private static string RunName(string runPath) => Path.GetFileName(Path.TrimEndingDirectorySeparator(Path.GetFullPath(runPath)));

    private static string ModelOf(string runPath) => TrainingJob.ReadManifestBeside(RunFolder.Existing(runPath).LastCheckpoint).Model;

    /// <summary>
    /// The run's separability at the end of its warm-up (when it kept warmup.ckpt) and at its end, on its own training
    /// set and labels; empty when the true labels are unknown.
    /// </summary>
    private static List<StageSeparability> RunSeparability(string runPath, int probeEpochs, int seed, Func<ImageDataset, Precision> precisionFor, CancellationToken ct)
    {
        var folder = RunFolder.Existing(runPath);
        var stages = new List<StageSeparability>();
        if (!File.Exists(folder.NoisyLabelsFile)) return stages;
        var manifest = TrainingJob.ReadManifestBeside(folder.LastCheckpoint);
        var train = manifest.Dataset.LoadTrain();
        var test = manifest.Dataset.LoadTest(train);
        var labels = NoisyLabelSet.Load(folder.NoisyLabelsFile, train.Count, train.ClassCount);
        if (File.Exists(folder.ExcludedSamplesFile))
        {
            var kept = SampleExclusion.Kept(train.Count, SampleExclusion.Read(folder.ExcludedSamplesFile, train));
            train = train.Subset(kept);
            labels = labels.Subset(kept);
        }
        if (labels.True is null)
        {
            Console.WriteLine($"{RunName(runPath)}: the true labels are unknown; no separability");
            return stages;
        }
        var precision = precisionFor(train);
        foreach (var (checkpoint, stage) in new[] { (folder.WarmupCheckpoint, "end of warm-up"), (folder.LastCheckpoint, "end") })
        {
            if (!File.Exists(checkpoint)) continue;
            ct.ThrowIfCancellationRequested();
            int epochs = JsonSerializer.Deserialize<CheckpointState>(Checkpoint.ReadMetadata(checkpoint), RunFolder.Json)?.CompletedEpochs ?? 0;
            DatasetPredictions predictions;
            var (_, method) = TrainingJob.LoadTrained(checkpoint, precision);
            using (method) predictions = method.PredictTrainingSet(train, ct);
            double? probe = null;
            if (probeEpochs > 0)
            {
                using var encoder = EncoderCheckpoint.Load(checkpoint, train.Channels);
                probe = LinearProbe.Run(Commands.FeaturesOf(encoder, precision), train, test, new LinearProbeOptions { Epochs = probeEpochs, Seed = seed }, cancellation: ct).LinearAccuracy;
            }
            var result = Separability.Measure(stage, epochs, predictions, labels, probe, seed);
            stages.Add(result);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{RunName(runPath)}, {stage} (epoch {epochs}): mixture ROC-AUC {result.MixtureAuc:0.0000}{(probe is { } p ? $", linear probe {100 * p:F2}%" : "")}"));
        }
        return stages;
    }

    /// <summary>A name for an encoder checkpoint: its run folder's name (runs/ssl/simclr/last.ckpt → simclr), else the file's.</summary>
    private static string NameOf(string checkpointPath)
    {
        string full = Path.GetFullPath(checkpointPath);
        string? folder = Path.GetFileName(Path.GetDirectoryName(full));
        return string.IsNullOrEmpty(folder) ? Path.GetFileNameWithoutExtension(full) : folder;
    }

    /// <summary>A folder name for an encoder's files: letters, digits, '-', '_' and '.', the rest as '-'.</summary>
    private static string FolderName(string name) =>
        new(name.Select(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '-').ToArray());
}
