using System.Diagnostics;
using SkiaSharp;
using Winnow.Data;

namespace Winnow.Tests.Cli;

public class CliTests
{
    private static double Number(System.Text.RegularExpressions.Group group) => double.Parse(group.Value, System.Globalization.CultureInfo.InvariantCulture);

    private static ProcessStartInfo WinnowProcess(params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Winnow.Cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        return psi;
    }

    internal static (int Code, string Out, string Err) Winnow(params string[] args)
    {
        using var p = Process.Start(WinnowProcess(args))!;
        var stdout = p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result, err);
    }

    /// <summary>Writes a <see cref="TestData.Bars"/> set as root/class&lt;k&gt;/&lt;i&gt;.png.</summary>
    internal static string BarsFolder(int count, int seed)
    {
        var ds = TestData.Bars(count, seed: seed);
        string root = TestData.TempDir();
        for (int i = 0; i < ds.Count; i++)
        {
            string dir = Path.Combine(root, ds.ClassNames[ds.Labels[i]]);
            Directory.CreateDirectory(dir);
            using var bmp = new SKBitmap(new SKImageInfo(16, 16, SKColorType.Gray8, SKAlphaType.Opaque));
            ds.Image(i).CopyTo(bmp.GetPixelSpan());
            using var png = bmp.Encode(SKEncodedImageFormat.Png, 100);
            File.WriteAllBytes(Path.Combine(dir, $"{i:D4}.png"), png.ToArray());
        }
        return root;
    }

    [Fact]
    public void NativeAndUnexpectedErrorsBecomeOneLineNamingTheFailureAndResume()
    {
        var native = new System.Runtime.InteropServices.ExternalException(
            "For integral input tensors, argument alpha must not be a floating point number.\nException raised from alpha_check at BinaryOps.h:19\nframe #0: c10::Error::Error");
        string line = global::Winnow.Cli.CliErrors.OneLine(native);
        Assert.StartsWith("winnow: error: libtorch failed: For integral input tensors, argument alpha must not be a floating point number. (", line);
        Assert.Contains("--resume <run folder>", line);
        Assert.DoesNotContain("frame #0", line);
        Assert.DoesNotContain("\n", line);
        Assert.StartsWith("winnow: error: unexpected InvalidOperationException: bad state (", global::Winnow.Cli.CliErrors.OneLine(new InvalidOperationException("bad state")));
        Assert.Equal("winnow: error: a.csv: row 3: expected 2 columns", global::Winnow.Cli.CliErrors.OneLine(new global::Winnow.WinnowException("a.csv: row 3: expected 2 columns")));
    }

    [Fact]
    public void EpochLineShowsMissingFiguresAsADashInTheSameWidth()
    {
        var full = new global::Winnow.Training.EpochMetrics
        {
            Epoch = 3, LearningRate = 0.02, TrainLoss = 0.5, TestAccuracy = 0.8863, TrainAccuracyNoisy = 0.25, TrainAccuracyTrue = 0.9034, Memorization = 0.021, Seconds = 14.7,
        };
        string line = global::Winnow.Cli.TrainingConsole.EpochLine(full, 25);
        Assert.Equal("epoch   3/25  lr 0.0200  loss 0.500  test  88.63%  train/noisy  25.00%  train/true  90.34%  memorised   2.10%  14.7 s", line);
        string missing = global::Winnow.Cli.TrainingConsole.EpochLine(full with { Memorization = double.NaN }, 25);
        Assert.Equal(line.Length, missing.Length);
        Assert.Contains("memorised      -   14.7 s", missing);
    }

    [Fact]
    public void MissingDataFolderGivesOneLineErrorAndExitCode2()
    {
        var (code, _, err) = Winnow("noise", "make", "--data", "/nonexistent/fmnist", "--noise", "symmetric", "--noise-rate", "0.4", "--out", "/tmp/x.csv");
        Assert.Equal(2, code);
        Assert.Equal("winnow: error: /nonexistent/fmnist: folder not found; expected the fashion-mnist IDX files there", err.Trim());
    }

    [Fact]
    public void NoiseMakeRefusesADatasetThatDeclaresNoImages()
    {
        string dir = TestData.TempDir();
        string images = Path.Combine(dir, "train-images-idx3-ubyte");
        File.WriteAllBytes(images, TestData.IdxImages(0, 28, 28));
        File.WriteAllBytes(Path.Combine(dir, "train-labels-idx1-ubyte"), TestData.IdxLabels());
        string output = Path.Combine(dir, "noisy.csv");
        var (code, _, err) = Winnow("noise", "make", "--data", dir, "--noise", "symmetric", "--noise-rate", "0.4", "--out", output);
        Assert.Equal(2, code);
        Assert.Equal($"winnow: error: {images}: declares 0 images; expected at least one", err.Trim());
        Assert.False(File.Exists(output));
    }

    [Fact]
    public void NoiseWithoutRateIsRefused()
    {
        var (code, _, err) = Winnow("train", "--dataset", "folder", "--data", "/tmp", "--noise", "symmetric");
        Assert.Equal(2, code);
        Assert.Contains("--noise symmetric needs --noise-rate", err);
        Assert.Single(err.Trim().Split('\n'));
    }

    [Fact]
    public void TrainEvalPredictAndResumeOnAnImageFolder()
    {
        string train = BarsFolder(240, 1), test = BarsFolder(48, 2);
        string run = Path.Combine(TestData.TempDir(), "run");
        var (code, stdout, err) = Winnow("train", "--dataset", "folder", "--data", train, "--test-data", test, "--channels", "1",
            "--noise", "symmetric", "--noise-rate", "0.2", "--epochs", "3", "--batch-size", "32", "--lr", "0.05", "--precision", "fp32", "--out", run);
        Assert.True(code == 0, err);
        Assert.Contains("Best ", stdout);
        Assert.Contains("Last ", stdout);
        Assert.Equal(3, stdout.Split('\n').Count(l => l.StartsWith("epoch ")));
        foreach (var f in new[] { "options.json", "metrics.csv", "noisy_labels.csv", "last.ckpt", "best.ckpt", "summary.json", "label_issues.csv", "noise_estimate.json", "report.html" })
            Assert.True(File.Exists(Path.Combine(run, f)), f);
        Assert.Contains("\"seed\": 0", File.ReadAllText(Path.Combine(run, "options.json")));
        Assert.Contains("\"precisionChoice\"", File.ReadAllText(Path.Combine(run, "options.json")));

        // The run ends with the label issues of its final model, measured against the known true labels.
        Assert.Contains("Label issues: ", stdout);
        Assert.Contains("loss-mixture", stdout);
        var issues = File.ReadAllLines(Path.Combine(run, "label_issues.csv"));
        Assert.Equal("index,path,given_label,predicted_label,label_quality,clean_probability,is_label_issue,true_label", issues[0]);
        Assert.Equal(241, issues.Length);
        var (issuesCode, issuesOut, issuesErr) = Winnow("issues", "--run", run, "--out", Path.Combine(run, "again"), "--precision", "fp32");
        Assert.True(issuesCode == 0, issuesErr);
        Assert.Equal(issues, File.ReadAllLines(Path.Combine(run, "again", "label_issues.csv")));
        // The run's report shows its per-epoch curves, and so does the one 'issues --run' writes elsewhere.
        Assert.Contains("<section id=\"training\">", File.ReadAllText(Path.Combine(run, "report.html")));
        Assert.Contains("<section id=\"training\">", File.ReadAllText(Path.Combine(run, "again", "report.html")));
        Assert.Contains("report.html", issuesOut);

        var (evalCode, evalOut, evalErr) = Winnow("eval", "--checkpoint", Path.Combine(run, "best.ckpt"));
        Assert.True(evalCode == 0, evalErr);
        var acc = double.Parse(evalOut.Split("accuracy ")[1].Split('%')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(acc > 80, evalOut);
        // --test-data alone: the run's model on another test folder, its images normalised as the training images were.
        string otherTest = BarsFolder(48, 3);
        var (otherCode, otherOut, otherErr) = Winnow("eval", "--checkpoint", Path.Combine(run, "best.ckpt"), "--test-data", otherTest);
        Assert.True(otherCode == 0, otherErr);
        Assert.StartsWith($"{Path.GetFileName(otherTest)}: accuracy ", otherOut);
        Assert.Contains("on 48 images", otherOut);
        // A folder whose classes differ in name from the model's is refused, not scored against the wrong classes.
        Directory.Move(Path.Combine(otherTest, "class3"), Path.Combine(otherTest, "class9"));
        var (renamedCode, _, renamedErr) = Winnow("eval", "--checkpoint", Path.Combine(run, "best.ckpt"), "--test-data", otherTest);
        Assert.Equal(2, renamedCode);
        Assert.Contains("class folders (class0, class1, class2, class9) differ from the training folder's (class0, class1, class2, class3)", renamedErr);
        var (builtInCode, _, builtInErr) = Winnow("eval", "--checkpoint", Path.Combine(run, "best.ckpt"), "--dataset", "mnist", "--test-data", otherTest);
        Assert.Equal(2, builtInCode);
        Assert.Equal("winnow: error: --test-data applies to image folders (--dataset folder); mnist has its own test set", builtInErr.Trim());
        string typo = Path.Combine(TestData.TempDir(), "typo");
        var (typoCode, _, typoErr) = Winnow("eval", "--checkpoint", Path.Combine(typo, "best.ckpt"));
        Assert.Equal(2, typoCode);
        Assert.Equal($"winnow: error: {Path.Combine(typo, "best.ckpt")}: checkpoint not found", typoErr.Trim());
        Assert.False(Directory.Exists(typo));

        string csv = Path.Combine(run, "pred.csv");
        var (predCode, _, predErr) = Winnow("predict", "--checkpoint", Path.Combine(run, "last.ckpt"), "--out", csv);
        Assert.True(predCode == 0, predErr);
        var lines = File.ReadAllLines(csv);
        Assert.Equal("index,path,label,predicted,p_class0,p_class1,p_class2,p_class3", lines[0]);
        Assert.Equal(49, lines.Length);
        var probs = lines[1].Split(',').Skip(4).Select(x => double.Parse(x, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(1.0, probs.Sum(), 4);

        // The trained classifier's encoder serves wherever an encoder is taken.
        var (probeCode, probeOut, probeErr) = Winnow("probe", "--encoder", Path.Combine(run, "last.ckpt"), "--dataset", "folder", "--data", train, "--test-data", test,
            "--channels", "1", "--epochs", "1", "--precision", "fp32");
        Assert.True(probeCode == 0, probeErr);
        Assert.Contains("compact-resnet encoder from", probeOut);

        var (resumeCode, resumeOut, resumeErr) = Winnow("train", "--resume", run);
        Assert.True(resumeCode == 0, resumeErr);
        Assert.DoesNotContain(resumeOut.Split('\n'), l => l.StartsWith("epoch "));
        Assert.Equal(stdout.Split('\n').First(l => l.StartsWith("Best")).Split("epochs in")[0], resumeOut.Split('\n').First(l => l.StartsWith("Best")).Split("epochs in")[0]);

        var (again, _, againErr) = Winnow("train", "--dataset", "folder", "--data", train, "--test-data", test, "--out", run);
        Assert.Equal(2, again);
        Assert.Contains("already holds a run", againErr);
    }

    [Fact]
    public void ExcludedSamplesAreLeftOutAndStayLeftOutOnResume()
    {
        string train = BarsFolder(200, 1), test = BarsFolder(40, 2);
        string[] paths = [.. Directory.GetFiles(train, "*.png", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(train, f)).Order(StringComparer.Ordinal)];
        string drop = Path.Combine(TestData.TempDir(), "drop.csv");
        File.WriteAllText(drop, "path,reason\n" + string.Join('\n', paths.Take(30).Select(p => p + ",flagged")) + "\n5\n");
        string run = Path.Combine(TestData.TempDir(), "run");
        string[] common = ["--dataset", "folder", "--data", train, "--test-data", test, "--channels", "1", "--noise", "symmetric", "--noise-rate", "0.2",
            "--batch-size", "32", "--precision", "fp32", "--no-train-eval"];
        var (code, stdout, err) = Winnow(["train", .. common, "--epochs", "1", "--exclude", drop, "--out", run]);
        Assert.True(code == 0, err);
        // Index 5 names the same image as paths[5] (the folder reader orders images as these sorted paths): counted once.
        const int expected = 30;
        Assert.Contains($"{200 - expected} training images", stdout);
        Assert.Contains($"{expected} of 200 samples left out", stdout);
        string options = File.ReadAllText(Path.Combine(run, "options.json"));
        Assert.Contains($"\"excludedCount\": {expected}", options);
        Assert.Contains($"\"sampleCount\": {200 - expected}", options);
        Assert.Equal(expected + 1, File.ReadAllLines(Path.Combine(run, "excluded_samples.csv")).Length);
        Assert.Equal(201, File.ReadAllLines(Path.Combine(run, "noisy_labels.csv")).Length);

        // A second epoch on resume leaves out the same samples, from the run's copy: the user's file is gone.
        File.Delete(drop);
        File.WriteAllText(Path.Combine(run, "options.json"), options.Replace("\"epochs\": 1,", "\"epochs\": 2,"));
        var (resumeCode, resumeOut, resumeErr) = Winnow("train", "--resume", run);
        Assert.True(resumeCode == 0, resumeErr);
        Assert.Single(resumeOut.Split('\n'), l => l.StartsWith("epoch "));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "metrics.csv")).Length);

        File.WriteAllText(drop, "index\n3\n200\n");
        var (badCode, _, badErr) = Winnow(["train", .. common, "--exclude", drop, "--out", Path.Combine(TestData.TempDir(), "bad")]);
        Assert.Equal(2, badCode);
        Assert.Equal($"winnow: error: {drop}: row 3: index 200 is outside 0..199", badErr.Trim());
    }

    [Fact]
    public void PretrainProbeAndTrainFromTheEncoder()
    {
        string train = BarsFolder(256, 1), test = BarsFolder(64, 2);
        string ssl = Path.Combine(TestData.TempDir(), "ssl");
        var (code, stdout, err) = Winnow("pretrain", "--dataset", "folder", "--data", train, "--test-data", test, "--channels", "1",
            "--epochs", "2", "--batch-size", "32", "--precision", "fp32", "--out", ssl);
        Assert.True(code == 0, err);
        Assert.Equal(2, stdout.Split('\n').Count(l => l.StartsWith("epoch ") && l.Contains("kNN")));
        Assert.Contains("Best kNN", stdout);
        Assert.False(File.Exists(Path.Combine(ssl, "noisy_labels.csv")));
        string encoder = Path.Combine(ssl, "last.ckpt");

        var (probeCode, probeOut, probeErr) = Winnow("probe", "--encoder", encoder, "--dataset", "folder", "--data", train, "--test-data", test, "--channels", "1", "--epochs", "5");
        Assert.True(probeCode == 0, probeErr);
        var probe = System.Text.RegularExpressions.Regex.Match(probeOut, @"linear probe (\d+\.\d\d)%, kNN \(k=200\) (\d+\.\d\d)%");
        Assert.True(probe.Success, probeOut);
        // Four bar classes (chance 25%): two SimCLR epochs already give features a linear head separates.
        Assert.True(Number(probe.Groups[1]) > 90 && Number(probe.Groups[2]) > 90, probe.Value);

        string run = Path.Combine(TestData.TempDir(), "fixed");
        var (trainCode, trainOut, trainErr) = Winnow("train", "--dataset", "folder", "--data", train, "--test-data", test, "--channels", "1",
            "--encoder", encoder, "--encoder-mode", "fixed", "--optimizer", "adamw", "--lr", "0.01", "--weight-decay", "0",
            "--noise", "symmetric", "--noise-rate", "0.5", "--epochs", "2", "--batch-size", "32", "--precision", "fp32", "--out", run);
        Assert.True(trainCode == 0, trainErr);
        Assert.Contains("(fixed)", trainOut);
        Assert.Contains("\"encoderMode\": \"fixed\"", File.ReadAllText(Path.Combine(run, "options.json")));

        // The analysis of the pre-trained encoder, the trained run and a random encoder: the spectra, the run's curves, the page.
        string analysis = Path.Combine(TestData.TempDir(), "analysis");
        var (analyzeCode, analyzeOut, analyzeErr) = Winnow("analyze", "--dataset", "folder", "--data", train, "--test-data", test, "--channels", "1",
            "--noise", "symmetric", "--noise-rate", "0.5", "--encoder", encoder, "--run", run, "--random", "--samples", "0", "--precision", "fp32", "--jacobian-samples", "3", "--out", analysis);
        Assert.True(analyzeCode == 0, analyzeErr);
        Assert.Equal(3, analyzeOut.Split('\n').Count(l => l.Contains("prominent singular value")));
        foreach (var name in new[] { "ssl", "fixed", "random-compact-resnet" })
        {
            Assert.True(File.Exists(Path.Combine(analysis, "spectrum", name, "spectrum.json")), name);
            Assert.True(File.Exists(Path.Combine(analysis, "spectrum", name, "jacobian.json")), name);
        }
        Assert.Equal(3, analyzeOut.Split('\n').Count(l => l.Contains("Jacobian of 3 images")));
        var curves = File.ReadAllLines(Path.Combine(analysis, "memorisation.csv"));
        Assert.Equal("run,epoch,test_acc,train_acc_true,train_acc_noisy,memorization,clean_auc", curves[0]);
        Assert.Equal(["fixed,1", "fixed,2"], curves.Skip(1).Select(l => string.Join(",", l.Split(',').Take(2))));
        // The run's separability at its end (cross-entropy keeps no warm-up checkpoint), with the probe of its encoder.
        var separability = File.ReadAllLines(Path.Combine(analysis, "separability.csv"));
        Assert.Equal(2, separability.Length);
        Assert.StartsWith("fixed,end,2,", separability[1]);
        var separable = System.Text.RegularExpressions.Regex.Match(analyzeOut, @"fixed, end \(epoch 2\): mixture ROC-AUC (\d\.\d{4}), linear probe (\d+\.\d\d)%");
        Assert.True(separable.Success, analyzeOut);
        Assert.True(Number(separable.Groups[1]) > 0.9 && Number(separable.Groups[2]) > 90, separable.Value);
        // Each encoder's PCA and t-SNE map of every one of the 256 images (fewer than --map-samples).
        var map = File.ReadAllLines(Path.Combine(analysis, "feature_map.csv"));
        Assert.Equal("encoder,index,class,wrong,pca1,pca2,tsne1,tsne2", map[0]);
        Assert.Equal(3 * 256, map.Length - 1);
        Assert.All(map.Skip(1), line => Assert.Equal(8, line.Split(',').Count(f => f.Length > 0)));
        string html = File.ReadAllText(Path.Combine(analysis, "report.html"));
        Assert.Contains("id=\"feature-map\"", html);
        Assert.Contains("id=\"separability\"", html);
        Assert.Contains("id=\"spectrum\"", html);
        Assert.Contains("id=\"memorisation\"", html);
        Assert.Contains("id=\"jacobian\"", html);
        // The spectrum's two plots, the Jacobian's two, PCA and t-SNE of each of the three encoders, five curves, one separability plot.
        TestData.AssertEmbeddedPlots(html, 2 + 2 + 6 + 5 + 1);
        var (noInputCode, _, noInputErr) = Winnow("analyze", "--out", analysis);
        Assert.Equal(2, noInputCode);
        Assert.Equal("winnow: error: give at least one --encoder, --run or --random", noInputErr.Trim());

        var (missingCode, _, missingErr) = Winnow("train", "--dataset", "folder", "--data", train, "--test-data", test, "--encoder", "/nonexistent.ckpt");
        Assert.Equal(2, missingCode);
        Assert.Equal("winnow: error: /nonexistent.ckpt: checkpoint not found", missingErr.Trim());
    }

    [Fact]
    public void DivideMixOnUserLabelsEstimatesTheNoiseAfterWarmupAndRecordsIt()
    {
        string train = BarsFolder(240, 1), test = BarsFolder(48, 2);
        // The user's labels: 40% of the 240 images moved to the next class; nothing tells Winnow the rate.
        var images = Directory.GetFiles(train, "*.png", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(train, f)).Order(StringComparer.Ordinal).ToArray();
        string csv = Path.Combine(TestData.TempDir(), "labels.csv");
        File.WriteAllLines(csv, ["path,label", .. images.Select((path, i) =>
        {
            int given = int.Parse(Path.GetDirectoryName(path)!["class".Length..], System.Globalization.CultureInfo.InvariantCulture);
            return $"{path},class{(i % 5 < 2 ? (given + 1) % 4 : given)}";
        })]);
        string run = Path.Combine(TestData.TempDir(), "run");
        var (code, stdout, err) = Winnow("train", "--method", "dividemix", "--dataset", "folder", "--data", train, "--test-data", test, "--channels", "1",
            "--label-file", csv, "--epochs", "3", "--warmup", "2", "--batch-size", "32", "--precision", "fp32", "--out", run);
        Assert.True(code == 0, err);
        var note = Assert.Single(stdout.Split('\n'), l => l.StartsWith("noise estimated: "));
        Assert.Contains("after epoch 2", note);
        Assert.Contains("dividemix λ_u", note);
        using var options = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(run, "options.json")));
        var estimate = options.RootElement.GetProperty("noiseEstimate");
        // 40% planted; two warm-up epochs on 240 images estimate it roughly (0.60 when written), but not as "clean".
        Assert.InRange(estimate.GetProperty("wrongFraction").GetDouble(), 0.2, 0.7);
        var dividemix = options.RootElement.GetProperty("methodOptions");
        foreach (var name in new[] { "lambdaU", "threshold", "lossHistory", "alpha" })
            Assert.Equal(System.Text.Json.JsonValueKind.Number, dividemix.GetProperty(name).ValueKind);
    }

    [Fact]
    public void TrainHelpShowsTheChosenMethodsOwnOptionsAndRefusesAnothersOptions()
    {
        var (code, dividemixHelp, _) = Winnow("train", "--method", "dividemix", "--help");
        Assert.Equal(0, code);
        Assert.Contains("--lambda-u", dividemixHelp);
        Assert.Contains("--mixmatch-alpha", dividemixHelp);
        Assert.DoesNotContain("--lambda-elr", dividemixHelp);
        Assert.DoesNotContain("--head-epochs", dividemixHelp);
        var (_, ceHelp, _) = Winnow("train", "--help");
        Assert.Contains("--head-epochs", ceHelp);
        Assert.DoesNotContain("--lambda-u", ceHelp);
        Assert.Contains("--lr-warmup-epochs", ceHelp);
        var (elrCode, _, elrErr) = Winnow("train", "--method", "elr", "--lambda-u", "3", "--epochs", "1");
        Assert.NotEqual(0, elrCode);
        Assert.Contains("--lambda-u", elrErr);
        var (unknownCode, _, unknownErr) = Winnow("train", "--method", "mixup");
        Assert.NotEqual(0, unknownCode);
        Assert.Contains("mixup", unknownErr);
    }

    /// <summary>The options of a tiny run on bar folders: 64 training and 16 test images, 20% symmetric noise.</summary>
    private static string[] TinyRun(string train, string test) =>
        ["--dataset", "folder", "--data", train, "--test-data", test, "--channels", "1", "--noise", "symmetric", "--noise-rate", "0.2", "--batch-size", "32", "--precision", "fp32"];

    private static void AssertRefusedAsInUse(string folder, (int Code, string Out, string Err) result)
    {
        Assert.Equal(2, result.Code);
        var line = Assert.Single(result.Err.Trim().Split('\n'));
        Assert.StartsWith($"winnow: error: {folder} is in use by another winnow process; ", line);
    }

    [Fact]
    public void ARunFolderServesOneProcessAtATimeAndAKilledHolderFreesIt()
    {
        string train = BarsFolder(64, 1), test = BarsFolder(16, 2);
        string run = Path.Combine(TestData.TempDir(), "run");
        using (global::Winnow.FolderLock.Take(run))
        {
            AssertRefusedAsInUse(run, Winnow(["train", .. TinyRun(train, test), "--epochs", "1", "--out", run]));
            AssertRefusedAsInUse(run, Winnow("analyze", "--dataset", "folder", "--data", train, "--test-data", test, "--channels", "1", "--random", "--out", run));
        }
        Assert.False(File.Exists(Path.Combine(run, "options.json")));

        // A run killed (SIGKILL) after its first epoch holds the folder no more: --resume continues it, two epochs in all.
        using (var killed = Process.Start(WinnowProcess(["train", .. TinyRun(train, test), "--epochs", "40", "--out", run]))!)
        {
            string? line;
            while ((line = killed.StandardOutput.ReadLine()) is not null && !line.StartsWith("epoch ")) { }
            killed.Kill(entireProcessTree: true);
            killed.WaitForExit();
            Assert.NotNull(line);
        }
        string options = Path.Combine(run, "options.json");
        File.WriteAllText(options, File.ReadAllText(options).Replace("\"epochs\": 40,", "\"epochs\": 2,"));
        var (resumeCode, resumeOut, resumeErr) = Winnow("train", "--resume", run);
        Assert.True(resumeCode == 0, resumeErr);
        Assert.Contains("(epoch 2)", resumeOut);

        using (global::Winnow.FolderLock.Take(run))
        {
            AssertRefusedAsInUse(run, Winnow("train", "--resume", run));
            AssertRefusedAsInUse(run, Winnow("issues", "--run", run, "--precision", "fp32"));
        }
    }

    [Fact]
    public void ResumeRemovesTheTemporaryFilesOfKilledWrites()
    {
        string train = BarsFolder(64, 1), test = BarsFolder(16, 2);
        string run = Path.Combine(TestData.TempDir(), "run");
        var (code, _, err) = Winnow(["train", .. TinyRun(train, test), "--epochs", "1", "--out", run]);
        Assert.True(code == 0, err);
        // What writes killed half-way leave (AtomicFile's "<file>.tmp<pid>"), and files of the user's that only look alike.
        string[] leftovers = ["best.ckpt.tmp4242", "metrics.csv.tmp17", "report.html.tmp123456"], kept = ["notes.tmp", "draft.tmp1.txt", "x.tmp12a"];
        foreach (var f in leftovers.Concat(kept)) File.WriteAllBytes(Path.Combine(run, f), new byte[100_000]);
        var (resumeCode, _, resumeErr) = Winnow("train", "--resume", run);
        Assert.True(resumeCode == 0, resumeErr);
        Assert.All(leftovers, f => Assert.False(File.Exists(Path.Combine(run, f)), f));
        Assert.All(kept, f => Assert.True(File.Exists(Path.Combine(run, f)), f));
    }

    [Fact]
    public void ALabelIssueFailureAfterTrainingFailsTheCommandAndResumeWritesThem()
    {
        string train = BarsFolder(64, 1), test = BarsFolder(16, 2);
        string run = Path.Combine(TestData.TempDir(), "run");
        // A folder in the report's place makes its write fail, as a full disk would (the tests run as root: permissions would not).
        string report = Path.Combine(run, "report.html");
        Directory.CreateDirectory(report);
        var (code, stdout, err) = Winnow(["train", .. TinyRun(train, test), "--epochs", "1", "--out", run]);
        Assert.Equal(2, code);
        Assert.Contains("Best ", stdout);
        var line = Assert.Single(err.Trim().Split('\n'));
        Assert.StartsWith("winnow: error: no label issues written (", line);
        Assert.EndsWith($"); the run itself is saved in {run}: write them with 'winnow train --resume {run}' or 'winnow issues --run {run}'", line);
        Assert.True(File.Exists(Path.Combine(run, "last.ckpt")) && File.Exists(Path.Combine(run, "summary.json")));

        // The finished run resumed: nothing to train, the label issues written.
        Directory.Delete(report);
        File.Delete(Path.Combine(run, "label_issues.csv"));
        var (resumeCode, resumeOut, resumeErr) = Winnow("train", "--resume", run);
        Assert.True(resumeCode == 0, resumeErr);
        Assert.DoesNotContain(resumeOut.Split('\n'), l => l.StartsWith("epoch "));
        Assert.True(File.Exists(report) && File.Exists(Path.Combine(run, "label_issues.csv")));
    }

    [Fact]
    public void AnOptionsFileWithoutWhatEveryRunRecordsIsRefusedOnResume()
    {
        string run = TestData.TempDir();
        string options = Path.Combine(run, "options.json");
        File.WriteAllText(options, "{}");
        var (code, _, err) = Winnow("train", "--resume", run);
        Assert.Equal(2, code);
        Assert.Equal($"winnow: error: {options}: lacks method, model, dataset, noise, training, classNames, inputShape; expected the options.json of a Winnow run", err.Trim());
        File.WriteAllText(options, """{ "method": "ce", "model": "compact-resnet", "classNames": null }""");
        var (partCode, _, partErr) = Winnow("train", "--resume", run);
        Assert.Equal(2, partCode);
        Assert.Equal($"winnow: error: {options}: lacks dataset, noise, training, classNames, inputShape; expected the options.json of a Winnow run", partErr.Trim());
    }

    [Fact]
    public void BadLabelFileRowIsNamed()
    {
        string train = BarsFolder(8, 1);
        string csv = Path.Combine(TestData.TempDir(), "labels.csv");
        File.WriteAllText(csv, "path,label\nclass0/0000.png,class9\n");
        var (code, _, err) = Winnow("train", "--dataset", "folder", "--data", train, "--test-data", train, "--label-file", csv);
        Assert.Equal(2, code);
        Assert.Contains("labels.csv: row 2: label 'class9'", err);
    }

    [Fact]
    public void ABatchLargerThanTheTrainingSetIsRefusedNamingBothNumbers()
    {
        string train = BarsFolder(64, 1), test = BarsFolder(16, 2);
        string run = Path.Combine(TestData.TempDir(), "run");
        var (code, _, err) = Winnow("train", "--dataset", "folder", "--data", train, "--test-data", test, "--channels", "1", "--precision", "fp32",
            "--batch-size", "100000", "--out", run);
        Assert.Equal(2, code);
        Assert.Equal("winnow: error: --batch-size 100000 is larger than the training set (64 images); give at most 64", err.TrimEnd('\n'));
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void EvalAndPredictOnOtherDataApplyTheRunsLabelFileOnlyWhenItIsGivenAgain()
    {
        // The run's label file moves every image to the next class; the other folder has the same relative paths.
        string train = BarsFolder(64, 1), other = BarsFolder(64, 7);
        string[] images = [.. Directory.GetFiles(train, "*.png", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(train, f)).Order(StringComparer.Ordinal)];
        int ClassOf(string path) => path[5] - '0';
        string csv = Path.Combine(TestData.TempDir(), "shifted.csv");
        File.WriteAllLines(csv, ["path,label", .. images.Select(p => $"{p},class{(ClassOf(p) + 1) % 4}")]);
        string run = Path.Combine(TestData.TempDir(), "run");
        var (code, _, err) = Winnow("train", "--dataset", "folder", "--data", train, "--test-data", BarsFolder(16, 2), "--channels", "1",
            "--label-file", csv, "--epochs", "1", "--batch-size", "16", "--precision", "fp32", "--no-train-eval", "--out", run);
        Assert.True(code == 0, err);

        int[] LabelsPredicted(params string[] extra)
        {
            string output = Path.Combine(TestData.TempDir(), "predicted.csv");
            var (c, _, e) = Winnow(["predict", "--checkpoint", Path.Combine(run, "last.ckpt"), "--split", "train", "--precision", "fp32", "--out", output, .. extra]);
            Assert.True(c == 0, e);
            return [.. File.ReadLines(output).Skip(1).Select(l => int.Parse(l.Split(',')[2], System.Globalization.CultureInfo.InvariantCulture))];
        }
        // The run's own data: its label file, as in training.
        Assert.Equal(images.Select(p => (ClassOf(p) + 1) % 4), LabelsPredicted());
        // Other data (the same relative paths): the folders' labels, unless --label-file is given for it.
        Assert.Equal(images.Select(ClassOf), LabelsPredicted("--data", other, "--test-data", other));
        Assert.Equal(images.Select(p => (ClassOf(p) + 1) % 4), LabelsPredicted("--data", other, "--test-data", other, "--label-file", csv));
    }
}
