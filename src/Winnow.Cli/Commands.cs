using System.CommandLine;
using System.Globalization;
using System.Text;
using Spectre.Console;
using Winnow.Analysis;
using Winnow.Data;
using Winnow.Methods;
using Winnow.Models;
using Winnow.Training;

namespace Winnow.Cli;

internal static class Commands
{
    public static Command Train()
    {
        var cmd = new Command("train", "Train a classifier on (noisy) labels and write a run folder: options.json, metrics.csv, noisy_labels.csv, last.ckpt, best.ckpt, summary.json");
        var method = new Option<string>("--method") { Description = "Training method: " + string.Join("; ", MethodFactory.Methods.Select(m => $"{m.Key} = {m.Value}")), DefaultValueFactory = _ => "ce" };
        method.AcceptOnlyFromAmong([.. MethodFactory.Methods.Keys]);
        var model = new Option<string>("--model") { Description = "Encoder: " + string.Join("; ", ModelFactory.Encoders.Select(m => $"{m.Key} = {m.Value}")), DefaultValueFactory = _ => ModelFactory.DefaultEncoder };
        model.AcceptOnlyFromAmong([.. ModelFactory.Encoders.Keys]);
        var noisyLabels = new Option<string?>("--noisy-labels") { Description = "Use a noisy-label CSV written by 'winnow noise make' (index,noisy_label,true_label) instead of making noise" };
        var outDir = new Option<string?>("--out") { Description = "Run folder to create (default: runs/<method>-<dataset>-<noise>-<time>)" };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this folder from its last checkpoint; every other option is read from its options.json" };
        cmd.Options.Add(method);
        cmd.Options.Add(model);
        var dataset = new DatasetOptions(cmd);
        var noise = new NoiseOptions(cmd);
        cmd.Options.Add(noisyLabels);
        var loop = new TrainingLoopOptions(cmd);
        cmd.Options.Add(outDir);
        cmd.Options.Add(resume);
        cmd.SetAction((r, ct) => CliErrors.Run(() =>
        {
            if (r.GetValue(resume) is { } resumeDir)
            {
                if (!File.Exists(Path.Combine(resumeDir, "options.json"))) throw new DataFormatException(resumeDir, "no options.json: not a Winnow run folder");
                var folder = new RunFolder(resumeDir);
                Console.WriteLine($"Resuming {folder.Path}");
                var (resumed, result) = TrainingConsole.Run("train", p => TrainingJob.Resume(folder, p, ct));
                resumed.Dispose();
                TrainingConsole.PrintSummary(result.Summary, folder.Path);
                return 0;
            }
            var manifest = new RunManifest
            {
                Method = r.GetValue(method)!,
                Model = r.GetValue(model)!,
                Dataset = dataset.Read(r),
                Noise = noise.Read(r, r.GetValue(noisyLabels)),
                Training = loop.Read(r),
                CommandLine = "winnow " + string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
            };
            string outPath = r.GetValue(outDir) ?? DefaultRunFolder(manifest);
            if (File.Exists(Path.Combine(outPath, "options.json")))
                throw new WinnowException($"{outPath} already holds a run; continue it with --resume {outPath} or choose another --out");
            using var job = TrainingJob.Prepare(manifest);
            Console.WriteLine($"{job.Train.Name}: {job.Train.Count} training images, {job.Test.Count} test images, {job.Train.ClassCount} classes; labels: {job.Labels.Description}" +
                (job.Labels.True is null ? "" : string.Create(CultureInfo.InvariantCulture, $" ({100 * job.Labels.Summarize().NoiseRate:F1}% wrong)")));
            Console.WriteLine($"method {manifest.Method}, model {manifest.Model}, {manifest.Training.Epochs} epochs, {manifest.Training.Precision}, seed {manifest.Training.Seed}");
            var folder2 = new RunFolder(outPath);
            var res = TrainingConsole.Run("train", p => job.Run(folder2, p, ct));
            TrainingConsole.PrintSummary(res.Summary, folder2.Path);
            return 0;
        }));
        return cmd;
    }

    private static string DefaultRunFolder(RunManifest m)
    {
        string noise = m.Noise.File is not null ? "labels" : m.Noise.Kind == NoiseKind.None ? "clean"
            : string.Create(CultureInfo.InvariantCulture, $"{m.Noise.Kind.ToString().ToLowerInvariant()}{m.Noise.Rate * 100:0}");
        return Path.Combine("runs", $"{m.Method}-{m.Dataset.Kind.ToString().ToLowerInvariant()}-{noise}-{DateTime.Now:yyyyMMdd-HHmmss}");
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

    private static (RunManifest, ITrainingMethod, ImageDataset) LoadForInference(ParseResult r, Option<string> checkpoint, Option<string> split, DatasetOptions data)
    {
        var (manifest, method) = TrainingJob.LoadTrained(r.GetValue(checkpoint)!);
        bool overridden = r.GetResult(data.Dataset) is { Implicit: false } || r.GetResult(data.Data) is { Implicit: false };
        var spec = overridden ? data.Read(r) : manifest.Dataset;
        var train = spec.LoadTrain();
        var images = r.GetValue(split) == "train" ? train : spec.LoadTest(train);
        if (images.Channels != manifest.InputShape![0] || images.ClassCount != manifest.ClassNames!.Length)
            throw new WinnowException($"{images.Name} has {images.Channels} channel(s) and {images.ClassCount} classes; the model expects {manifest.InputShape![0]} and {manifest.ClassNames!.Length}");
        return (manifest, method, images);
    }

    public static Command Eval()
    {
        var cmd = new Command("eval", "Accuracy of a checkpoint on a dataset split (by default the run's own test set)");
        var checkpoint = CheckpointOption();
        var split = SplitOption();
        cmd.Options.Add(checkpoint);
        cmd.Options.Add(split);
        var data = new DatasetOptions(cmd);
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var (manifest, method, images) = LoadForInference(r, checkpoint, split, data);
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
        cmd.Options.Add(checkpoint);
        cmd.Options.Add(split);
        cmd.Options.Add(output);
        var data = new DatasetOptions(cmd);
        cmd.SetAction(r => CliErrors.Run(() =>
        {
            var (_, method, images) = LoadForInference(r, checkpoint, split, data);
            using var _m = method;
            var pred = Evaluation.Predict(method.PredictLogits, images);
            var ci = CultureInfo.InvariantCulture;
            var sb = new StringBuilder("index,");
            if (images.ItemPaths is not null) sb.Append("path,");
            sb.Append("label,predicted,").AppendJoin(',', images.ClassNames.Select(n => "p_" + CsvCell(n))).Append('\n');
            for (int i = 0; i < images.Count; i++)
            {
                sb.Append(i).Append(',');
                if (images.ItemPaths is not null) sb.Append(CsvCell(images.ItemPaths[i])).Append(',');
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

    private static string CsvCell(string s) => s.IndexOfAny([',', '"', '\n']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;

    public static Command Bench()
    {
        var cmd = new Command("bench", "Training throughput (images per second of forward, backward and SGD step) on random inputs, as ../shared/bench/torch_reference.py measures it");
        var model = new Option<string>("--model") { Description = "Encoder", DefaultValueFactory = _ => ModelFactory.DefaultEncoder };
        model.AcceptOnlyFromAmong([.. ModelFactory.Encoders.Keys]);
        var batch = new Option<int>("--batch") { Description = "Batch size", DefaultValueFactory = _ => 128 };
        var size = new Option<int>("--size") { Description = "Image height and width", DefaultValueFactory = _ => 28 };
        var channels = new Option<int>("--channels") { Description = "Image channels", DefaultValueFactory = _ => 1 };
        var precision = new Option<string>("--precision") { Description = "fp32 or bf16", DefaultValueFactory = _ => "fp32" };
        precision.AcceptOnlyFromAmong("fp32", "bf16");
        var steps = new Option<int>("--steps") { Description = "Timed steps (after 2 warm-up steps)", DefaultValueFactory = _ => 10 };
        var threads = new Option<int>("--threads") { Description = "Torch threads", DefaultValueFactory = _ => 2 };
        foreach (var o in new Option[] { model, batch, size, channels, precision, steps, threads }) cmd.Options.Add(o);
        cmd.SetAction((r, ct) => CliErrors.Run(() =>
        {
            var o = new ThroughputOptions(r.GetValue(model)!, r.GetValue(batch), r.GetValue(channels), r.GetValue(size),
                TrainingLoopOptions.ParsePrecision(r.GetValue(precision)), r.GetValue(steps), r.GetValue(threads));
            if (o.Batch < 1 || o.Steps < 1 || o.Threads < 1 || o.Size < 8 || o.Channels is not (1 or 3))
                throw new WinnowException("--batch, --steps and --threads must be positive, --size at least 8, --channels 1 or 3");
            double rate = ThroughputBenchmark.TrainingImagesPerSecond(o, ct);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"winnow {o.Model} {o.Channels}x{o.Size}x{o.Size} batch {o.Batch} {(o.Precision == Precision.BFloat16 ? "bf16" : "fp32")} threads {o.Threads}: {rate:F1} img/s"));
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
        catch (WinnowException e) { return Fail(e.Message); }
        catch (OperationCanceledException) { Console.Error.WriteLine("winnow: cancelled"); return Task.FromResult(130); }
        catch (IOException e) { return Fail(e.Message); }
        catch (UnauthorizedAccessException e) { return Fail(e.Message); }
    }

    private static Task<int> Fail(string message)
    {
        Console.Error.WriteLine("winnow: error: " + message.ReplaceLineEndings(" "));
        return Task.FromResult(2);
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
