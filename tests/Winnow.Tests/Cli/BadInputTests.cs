using SkiaSharp;

namespace Winnow.Tests.Cli;

/// <summary>
/// Bad input to every command: one line on stderr that names the option, file or row, exit code 2, no stack trace and
/// nothing written. The data, good and hostile, is made once per class in a temporary folder (<see cref="Corpus"/>).
/// </summary>
public class BadInputTests(BadInputTests.Corpus corpus) : IClassFixture<BadInputTests.Corpus>
{
    /// <summary>
    /// Image folders (16×16 grey bars, four classes) and files for the table below: good ones, one trained run, and one
    /// of each kind of damage.
    /// </summary>
    public sealed class Corpus
    {
        public string Root { get; } = TestData.TempDir();

        public Corpus()
        {
            Directory.Move(CliTests.BarsFolder(64, 1), Path.Combine(Root, "train"));
            Directory.Move(CliTests.BarsFolder(32, 2), Path.Combine(Root, "test"));
            var (code, _, err) = CliTests.Winnow("train", "--dataset", "folder", "--data", Path.Combine(Root, "train"), "--test-data", Path.Combine(Root, "test"), "--channels", "1",
                "--epochs", "1", "--batch-size", "16", "--precision", "fp32", "--no-train-eval", "--out", Path.Combine(Root, "run"));
            Assert.True(code == 0, err);

            Damaged("corrupt", dir => File.WriteAllText(Path.Combine(dir, "class0", "bad.png"), "not a png"));
            Damaged("truncated", dir =>
            {
                using var bmp = new SKBitmap(new SKImageInfo(16, 16, SKColorType.Gray8, SKAlphaType.Opaque));
                new Random(5).NextBytes(bmp.GetPixelSpan());
                var png = bmp.Encode(SKEncodedImageFormat.Png, 100).ToArray();
                File.WriteAllBytes(Path.Combine(dir, "class0", "half.png"), png[..(png.Length / 2)]);
            });
            Damaged("zero-byte", dir => File.WriteAllBytes(Path.Combine(dir, "class0", "empty.png"), []));
            Damaged("not-an-image", dir => File.WriteAllText(Path.Combine(dir, "class0", "notes.jpg"), "%PDF-1.4\n%âãÏÓ\n1 0 obj\n"));
            Damaged("no-images", dir =>
            {
                Directory.CreateDirectory(Path.Combine(dir, "notes"));
                File.WriteAllText(Path.Combine(dir, "notes", "readme.txt"), "not an image");
            });
            Damaged("loop", dir => Directory.CreateSymbolicLink(Path.Combine(dir, "class0", "loop"), "."));
            Damaged("mixed-sizes", dir => Data.ImageFolderReaderTests.WriteImage(Path.Combine(dir, "class0", "0000.png"), 32, 32, SKColors.White));

            File.WriteAllText(Path.Combine(Root, "bad-row.csv"), "path,label\nclass0/0000.png,class0,extra\n");
            File.WriteAllText(Path.Combine(Root, "unknown-class.csv"), "path,label\nclass0/0000.png,class9\n");
            File.WriteAllText(Path.Combine(Root, "noisy-bad.csv"), "index,noisy_label,true_label\n0,1\n");
            File.WriteAllBytes(Path.Combine(Root, "garbage.ckpt"), [1, 2, 3, 4, 5, 6, 7, 8]);
            Directory.CreateDirectory(Path.Combine(Root, "not-a-run"));
            // A run folder whose checkpoint is not one, and one whose options.json is not JSON.
            string fake = Path.Combine(Root, "fake-checkpoint");
            Directory.CreateDirectory(fake);
            File.Copy(Path.Combine(Root, "run", "options.json"), Path.Combine(fake, "options.json"));
            File.WriteAllText(Path.Combine(fake, "best.ckpt"), "these bytes are no checkpoint");
            string broken = Path.Combine(Root, "broken-options");
            Directory.CreateDirectory(broken);
            File.Copy(Path.Combine(Root, "run", "best.ckpt"), Path.Combine(broken, "best.ckpt"));
            File.Copy(Path.Combine(Root, "run", "last.ckpt"), Path.Combine(broken, "last.ckpt"));
            File.WriteAllText(Path.Combine(broken, "options.json"), "{ \"method\": \"ce\", ");
        }

        /// <summary>A copy of the test folder's first 8 images (2 per class) as <paramref name="name"/>, then damaged.</summary>
        private void Damaged(string name, Action<string> damage)
        {
            string dir = Path.Combine(Root, name);
            Directory.CreateDirectory(dir);
            foreach (string file in Directory.GetFiles(Path.Combine(Root, "test"), "*.png", SearchOption.AllDirectories).Where(f => string.CompareOrdinal(Path.GetFileName(f), "0008.png") < 0))
            {
                string copy = Path.Combine(dir, Path.GetRelativePath(Path.Combine(Root, "test"), file));
                Directory.CreateDirectory(Path.GetDirectoryName(copy)!);
                File.Copy(file, copy);
            }
            damage(dir);
        }
    }

    /// <summary>The good data set's options: {c} stands for the corpus folder.</summary>
    private static readonly string[] DataOptions = ["--dataset", "folder", "--data", "{c}/train", "--test-data", "{c}/test", "--channels", "1"];

    /// <summary>The good data set's options and fp32, for the commands that run a model.</summary>
    private static readonly string[] Folder = [.. DataOptions, "--precision", "fp32"];

    private static string[] With(string data, params string[] rest) => ["--dataset", "folder", "--data", $"{{c}}/{data}", "--test-data", "{c}/test", "--channels", "1", "--precision", "fp32", .. rest];

    /// <summary>
    /// Bad invocations of every command and what the error line must name. {c} is the corpus folder, {o} a path in a
    /// new empty folder that must stay empty.
    /// </summary>
    public static TheoryData<string, string[], string> Invocations => new()
    {
        { "unknown command", ["frobnicate"], "'frobnicate'" },
        { "no command", [], "command" },
        { "train: unknown option", ["train", "--frobnicate", "3"], "--frobnicate" },
        { "train: unknown method", ["train", "--method", "nonexistent"], "'nonexistent'" },
        { "train: another method's option", ["train", "--method", "elr", "--lambda-u", "3"], "--lambda-u" },
        { "train: bad number", ["train", "--epochs", "abc"], "--epochs" },
        { "train: option without its value", ["train", .. Folder, "--epochs"], "--epochs" },
        { "train: empty --out", ["train", .. Folder, "--out", ""], "--out" },
        { "train: empty --label-file", ["train", .. Folder, "--label-file", "", "--out", "{o}"], "--label-file" },
        { "train: blank --data", ["train", "--dataset", "folder", "--data", "  ", "--out", "{o}"], "--data" },
        { "train: missing data folder", ["train", .. With("nowhere", "--out", "{o}")], "nowhere" },
        { "train: corrupt image", ["train", .. With("corrupt", "--out", "{o}")], "bad.png" },
        { "train: truncated image", ["train", .. With("truncated", "--out", "{o}")], "half.png" },
        { "train: zero-byte image", ["train", .. With("zero-byte", "--out", "{o}")], "empty.png" },
        { "train: non-image file in a class folder", ["train", .. With("not-an-image", "--out", "{o}")], "notes.jpg" },
        { "train: class folder without images", ["train", .. With("no-images", "--out", "{o}")], "no-images/notes" },
        { "train: symbolic link loop", ["train", .. With("loop", "--out", "{o}")], "class0/loop" },
        { "train: images of two sizes", ["train", .. With("mixed-sizes", "--out", "{o}")], "class0/0000.png" },
        { "train: label file with a bad row", ["train", .. Folder, "--label-file", "{c}/bad-row.csv", "--out", "{o}"], "bad-row.csv: row 2" },
        { "train: label file with an unknown class", ["train", .. Folder, "--label-file", "{c}/unknown-class.csv", "--out", "{o}"], "'class9'" },
        { "train: noisy-label file with a bad row", ["train", .. Folder, "--noisy-labels", "{c}/noisy-bad.csv", "--out", "{o}"], "noisy-bad.csv" },
        { "train: missing exclusion file", ["train", .. Folder, "--exclude", "{c}/missing.csv", "--out", "{o}"], "missing.csv" },
        { "train: encoder that is not a checkpoint", ["train", .. Folder, "--encoder", "{c}/garbage.ckpt", "--batch-size", "16", "--out", "{o}"], "garbage.ckpt" },
        { "train: resume from options.json that is not JSON", ["train", "--resume", "{c}/broken-options"], "options.json" },
        { "train: negative threads", ["train", .. Folder, "--threads", "-3", "--out", "{o}"], "--threads" },
        { "train: batch larger than the training set", ["train", .. Folder, "--batch-size", "100000", "--out", "{o}"], "--batch-size 100000" },
        { "train: negative learning rate", ["train", .. Folder, "--lr", "-1", "--out", "{o}"], "--lr" },
        { "train: noise rate above 1", ["train", .. Folder, "--noise", "symmetric", "--noise-rate", "1.5", "--out", "{o}"], "--noise-rate" },
        { "train: zero gamma", ["train", .. Folder, "--schedule", "step", "--gamma", "0", "--out", "{o}"], "--gamma" },
        { "train: sanm mask ratio below 0", ["train", "--method", "sanm", .. Folder, "--mask-ratio-min", "-0.5", "--batch-size", "16", "--out", "{o}"], "--mask-ratio-min" },
        { "pretrain: zero epochs", ["pretrain", .. Folder, "--epochs", "0", "--out", "{o}"], "--epochs" },
        { "pretrain: blur probability above 1", ["pretrain", .. Folder, "--blur", "2", "--batch-size", "32", "--out", "{o}"], "--blur" },
        { "pretrain: resume a folder that is not a run", ["pretrain", "--resume", "{c}/not-a-run"], "not-a-run" },
        { "probe: encoder that is not a checkpoint", ["probe", "--encoder", "{c}/garbage.ckpt", .. Folder], "garbage.ckpt" },
        { "probe: negative epochs", ["probe", "--encoder", "{c}/run/last.ckpt", .. Folder, "--epochs", "-1"], "--epochs" },
        { "issues: run folder that is not a run", ["issues", "--run", "{c}/not-a-run", "--out", "{o}"], "not-a-run" },
        { "issues: zero neighbours", ["issues", "--encoder", "{c}/run/last.ckpt", .. Folder, "--neighbours", "0", "--out", "{o}"], "--neighbours" },
        { "analyze: too many map samples", ["analyze", "--random", "--map-samples", "9000", "--out", "{o}"], "--map-samples" },
        { "analyze: empty --out", ["analyze", "--random", "--out", ""], "--out" },
        { "analyze: negative probe epochs", ["analyze", "--random", .. Folder, "--probe-epochs", "-1", "--out", "{o}"], "--probe-epochs" },
        { "analyze: run folder that is not a run", ["analyze", "--run", "{c}/not-a-run", .. Folder, "--out", "{o}"], "not-a-run" },
        { "noise make: unknown noise", ["noise", "make", .. DataOptions, "--noise", "bogus", "--out", "{o}"], "'bogus'" },
        { "noise make: bad rate", ["noise", "make", .. DataOptions, "--noise", "symmetric", "--noise-rate", "abc", "--out", "{o}"], "--noise-rate" },
        { "noise make: empty --out", ["noise", "make", .. DataOptions, "--noise", "symmetric", "--noise-rate", "0.2", "--out", ""], "--out" },
        { "noise inspect: file with a bad row", ["noise", "inspect", .. DataOptions, "--labels", "{c}/noisy-bad.csv"], "noisy-bad.csv" },
        { "noise inspect: missing file", ["noise", "inspect", .. DataOptions, "--labels", "{c}/missing.csv"], "missing.csv" },
        { "noise: no subcommand", ["noise"], "make" },
        { "eval: no checkpoint", ["eval"], "--checkpoint" },
        { "eval: checkpoint that is not a checkpoint", ["eval", "--checkpoint", "{c}/fake-checkpoint/best.ckpt", "--precision", "fp32"], "best.ckpt" },
        { "eval: options.json that is not JSON", ["eval", "--checkpoint", "{c}/broken-options/best.ckpt", "--precision", "fp32"], "options.json" },
        { "eval: unknown split", ["eval", "--checkpoint", "{c}/run/best.ckpt", "--split", "bogus"], "'bogus'" },
        { "eval: corrupt test image", ["eval", "--checkpoint", "{c}/run/best.ckpt", "--test-data", "{c}/corrupt", "--precision", "fp32"], "bad.png" },
        { "predict: empty --out", ["predict", "--checkpoint", "{c}/run/best.ckpt", "--out", ""], "--out" },
        { "predict: zero-byte test image", ["predict", "--checkpoint", "{c}/run/best.ckpt", "--test-data", "{c}/zero-byte", "--precision", "fp32", "--out", "{o}"], "empty.png" },
        { "predict: unknown precision", ["predict", "--checkpoint", "{c}/run/best.ckpt", "--precision", "fp64", "--out", "{o}"], "'fp64'" },
        { "predict: missing checkpoint", ["predict", "--checkpoint", "{c}/nowhere/best.ckpt", "--out", "{o}"], "nowhere/best.ckpt" },
        { "bench: zero batch", ["bench", "--batch", "0"], "--batch" },
        { "bench: unknown model", ["bench", "--model", "bogus"], "'bogus'" },
        { "bench: negative threads", ["bench", "--threads", "-1"], "--threads" },
    };

    [Theory]
    [MemberData(nameof(Invocations))]
    public void BadInvocationGivesOneLineNamingTheFaultAndLeavesNothingBehind(string what, string[] args, string named)
    {
        string output = TestData.TempDir();
        string Expand(string a) => a.Replace("{c}", corpus.Root).Replace("{o}", Path.Combine(output, "out"));
        var before = Snapshot(corpus.Root);
        var (code, _, err) = CliTests.Winnow([.. args.Select(Expand)]);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(code == 2 && lines.Length == 1, $"{what}: exit code {code}, stderr:\n{err}");
        Assert.StartsWith("winnow: error: ", lines[0]);
        Assert.Contains(Expand(named), lines[0]);
        Assert.DoesNotContain("unexpected ", lines[0]);
        Assert.Empty(Directory.EnumerateFileSystemEntries(output));
        Assert.Equal(before, Snapshot(corpus.Root));
    }

    /// <summary>Every file under <paramref name="root"/> with its size and time of last write.</summary>
    private static string[] Snapshot(string root) =>
        [.. new DirectoryInfo(root).EnumerateFileSystemInfos("*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 })
            .Select(f => $"{Path.GetRelativePath(root, f.FullName)} {(f as FileInfo)?.Length} {f.LastWriteTimeUtc.Ticks}").Order(StringComparer.Ordinal)];
}
