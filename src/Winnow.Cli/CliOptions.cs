using System.CommandLine;
using Winnow.Data;
using Winnow.Models;
using Winnow.Training;

namespace Winnow.Cli;

/// <summary>Options that name a dataset, shared by train, noise, eval and predict.</summary>
internal sealed class DatasetOptions
{
    /// <summary>--dataset's values and the formats they name; the first is the default.</summary>
    private static readonly (string Name, DatasetKind Kind)[] Kinds =
        [("fashion-mnist", DatasetKind.FashionMnist), ("mnist", DatasetKind.Mnist), ("cifar10", DatasetKind.Cifar10), ("folder", DatasetKind.Folder)];

    public Option<string> Dataset { get; } = new("--dataset")
    {
        Description = "Dataset format: fashion-mnist (default), mnist, cifar10 (binary version) or folder (root/<class>/<image>.png|jpg)",
        DefaultValueFactory = _ => Kinds[0].Name,
    };
    public Option<string?> Data { get; } = new("--data") { Description = $"Folder of the dataset's files, or the training image folder (default for fashion-mnist: {MnistFamily.DefaultFashionMnistFolder})" };
    public Option<string?> TestData { get; } = new("--test-data") { Description = "Image folders only: the test image folder" };
    public Option<int?> ImageSize { get; } = new("--image-size") { Description = "Image folders only: resize every image to N x N pixels" };
    public Option<int> Channels { get; } = new("--channels") { Description = "Image folders only: 1 (grey) or 3 (RGB)", DefaultValueFactory = _ => 3 };
    public Option<string?> LabelFile { get; } = new("--label-file") { Description = "CSV (path or index, label) whose labels replace the training set's: your own noisy labels. eval, predict: a run's own label file is applied to the run's data only; with --data or --test-data, give --label-file again to apply one" };

    public DatasetOptions(Command command)
    {
        Dataset.AcceptOnlyFromAmong([.. Kinds.Select(k => k.Name)]);
        foreach (var o in new Option[] { Dataset, Data, TestData, ImageSize, Channels, LabelFile }) command.Options.Add(o);
    }

    /// <summary>
    /// The dataset a command reads instead of <paramref name="recorded"/> (a run's): a dataset of another format when
    /// --dataset names one; otherwise the recorded one with each dataset option given on the command line replacing its
    /// recorded value (--test-data alone evaluates the run's model on another test folder; --data and --test-data
    /// another image folder, read with the run's channels and size). The run's label file names the run's images, so
    /// it is applied only to the run's own data: with --data or --test-data, only a --label-file given again is.
    /// </summary>
    public DatasetSpec Override(ParseResult r, DatasetSpec recorded)
    {
        bool Given(Option o) => r.GetResult(o) is { Implicit: false };
        var given = Read(r, Given(Dataset) ? null : recorded.Kind);
        if (given.Kind != recorded.Kind) return given;
        return recorded with
        {
            Path = Given(Data) ? given.Path : recorded.Path,
            TestPath = Given(TestData) ? given.TestPath : recorded.TestPath,
            ImageSize = Given(ImageSize) ? given.ImageSize : recorded.ImageSize,
            Channels = Given(Channels) ? r.GetValue(Channels) : recorded.Channels,
            LabelFile = Given(LabelFile) ? given.LabelFile : Given(Data) || Given(TestData) ? null : recorded.LabelFile,
        };
    }

    /// <summary>The dataset the options name; <paramref name="kind"/>, when given, stands for --dataset.</summary>
    public DatasetSpec Read(ParseResult r, DatasetKind? kind = null)
    {
        kind ??= Kinds.First(k => k.Name == r.GetValue(Dataset)).Kind;
        if (kind != DatasetKind.Folder && r.GetResult(TestData) is { Implicit: false })
            throw new WinnowException($"--test-data applies to image folders (--dataset folder); {Kinds.First(k => k.Kind == kind).Name} has its own test set");
        return new()
        {
            Kind = kind.Value,
            // Absolute, so that a run resumed or evaluated from another directory reads the same files.
            Path = FullPath(r.GetValue(Data)),
            TestPath = FullPath(r.GetValue(TestData)),
            ImageSize = r.GetValue(ImageSize),
            // Recorded only where it applies, so options.json does not claim 3 channels for Fashion-MNIST.
            Channels = kind == DatasetKind.Folder ? r.GetValue(Channels) : null,
            LabelFile = FullPath(r.GetValue(LabelFile)),
        };
    }

    /// <summary>The absolute form of a path given on the command line (null stays null).</summary>
    public static string? FullPath(string? path) => path is null ? null : System.IO.Path.GetFullPath(path);
}

/// <summary>Options that make synthetic noisy labels, shared by train and noise.</summary>
internal sealed class NoiseOptions
{
    public Option<string> Kind { get; } = new("--noise") { Description = "Synthetic label noise: none, symmetric, asymmetric or instance", DefaultValueFactory = _ => "none" };
    public Option<double> Rate { get; } = new("--noise-rate") { Description = "Noise rate in [0, 1] (symmetric: fraction of labels redrawn; asymmetric: fraction flipped by the class map)" };
    public Option<bool> ExcludeTrueClass { get; } = new("--exclude-true-class") { Description = "Symmetric noise draws from the other classes only (Cheng et al.); default includes the true class (DivideMix, C2D)" };
    public Option<int> Seed { get; } = new("--noise-seed") { Description = "Seed of the noise", DefaultValueFactory = _ => 123 };

    public NoiseOptions(Command command)
    {
        Kind.AcceptOnlyFromAmong("none", "symmetric", "asymmetric", "instance");
        foreach (var o in new Option[] { Kind, Rate, ExcludeTrueClass, Seed }) command.Options.Add(o);
    }

    public NoiseSpec Read(ParseResult r, string? file = null)
    {
        var kind = r.GetValue(Kind) switch
        {
            "symmetric" => NoiseKind.Symmetric,
            "asymmetric" => NoiseKind.Asymmetric,
            "instance" => NoiseKind.Instance,
            _ => NoiseKind.None,
        };
        double rate = r.GetValue(Rate);
        if (!(rate >= 0 && rate <= 1)) throw new WinnowException($"--noise-rate must be in [0, 1], got {rate}");
        if (kind != NoiseKind.None && r.GetResult(Rate) is not { Implicit: false }) throw new WinnowException($"--noise {r.GetValue(Kind)} needs --noise-rate");
        return new NoiseSpec { Kind = kind, Rate = rate, IncludeTrueClass = !r.GetValue(ExcludeTrueClass), Seed = r.GetValue(Seed), File = DatasetOptions.FullPath(file) };
    }
}

/// <summary>Options of the shared training loop.</summary>
internal sealed class TrainingLoopOptions
{
    private readonly TrainingOptions D;
    public Option<int> Epochs { get; }
    public Option<int> BatchSize { get; }
    public Option<string> Optimizer { get; }
    public Option<double> LearningRate { get; }
    public Option<double> Momentum { get; }
    public Option<double> WeightDecay { get; }
    public Option<double> GradientClip { get; }
    public Option<double> EncoderRateScale { get; }
    public Option<string> Schedule { get; }
    public Option<int[]> Milestones { get; }
    public Option<double> Gamma { get; }
    public Option<int> StepSize { get; }
    public Option<int> WarmupEpochs { get; }
    public Option<string> Precision { get; }
    public Option<int> Seed { get; }
    public Option<int> CropPadding { get; }
    public Option<bool> NoFlip { get; }
    public Option<int> Threads { get; }
    public Option<bool> NoTrainEval { get; }
    public Option<int> TrainEvalSamples { get; }
    public Option<int> LastEpochs { get; }
    public Option<bool> Nesterov { get; }
    public Option<double> LabelSmoothing { get; }
    public Option<double> NormBiasRateScale { get; }
    public Option<int> Lookahead { get; }
    public Option<string> TestTimeViews { get; }
    public Option<double> WarmupFraction { get; }
    public Option<string?> Recipe { get; }
    public Option<bool> ReflectPadding { get; }
    public Option<bool> AlternatingFlips { get; }

    public TrainingLoopOptions(Command command, TrainingOptions? defaults = null)
    {
        D = defaults ?? new TrainingOptions();
        Epochs = new("--epochs") { Description = "Training epochs", DefaultValueFactory = _ => D.Epochs };
        BatchSize = new("--batch-size") { Description = "Images per step", DefaultValueFactory = _ => D.BatchSize };
        Optimizer = new("--optimizer") { Description = "sgd (momentum, L2 weight decay) or adamw", DefaultValueFactory = _ => D.Optimizer == OptimizerKind.AdamW ? "adamw" : "sgd" };
        LearningRate = new("--lr") { Description = "Base learning rate", DefaultValueFactory = _ => D.LearningRate };
        Momentum = new("--momentum") { Description = "SGD momentum", DefaultValueFactory = _ => D.Momentum };
        WeightDecay = new("--weight-decay") { Description = "Weight decay", DefaultValueFactory = _ => D.WeightDecay };
        EncoderRateScale = new("--encoder-lr-scale") { Description = "The encoder's learning rate as a fraction of --lr; the new head keeps --lr (discriminative fine-tuning of a pre-trained encoder)", DefaultValueFactory = _ => D.EncoderRateScale };
        GradientClip = new("--grad-clip") { Description = "Largest L2 norm of all gradients before each update (0: off; C2D uses 1 from a SimCLR encoder)", DefaultValueFactory = _ => D.GradientClip };
        Schedule = new("--schedule") { Description = "Learning-rate schedule: cosine, step, multistep, constant (set each epoch) or linear (set each step: 0.2 x --lr rising to --lr over --lr-warmup-fraction of the steps, then down to 0.07 x --lr)", DefaultValueFactory = _ => ScheduleName(D.Schedule.Kind) };
        Milestones = new("--milestones") { Description = "multistep: epochs (0-based) at which the rate is multiplied by --gamma", AllowMultipleArgumentsPerToken = true };
        Gamma = new("--gamma") { Description = "step, multistep: decay factor", DefaultValueFactory = _ => 0.1 };
        StepSize = new("--step-size") { Description = "step: epochs between decays", DefaultValueFactory = _ => 30 };
        WarmupEpochs = new("--lr-warmup-epochs") { Description = "Epochs of linear learning-rate warm-up", DefaultValueFactory = _ => D.Schedule.WarmupEpochs };
        Precision = PrecisionOption("the run's training step");
        Seed = new("--seed") { Description = "Seed of initialisation, shuffling and augmentation", DefaultValueFactory = _ => D.Seed };
        CropPadding = new("--crop-padding") { Description = "Random-crop padding in pixels (0: no crop)", DefaultValueFactory = _ => D.CropPadding };
        NoFlip = new("--no-flip") { Description = "No random horizontal flips" };
        ReflectPadding = new("--reflect-padding") { Description = "Pad the random crop with the image's mirror at the border instead of zeros (true/false)", DefaultValueFactory = _ => D.ReflectPadding };
        AlternatingFlips = new("--alternating-flips") { Description = "Flip each image one way in even epochs and the other in odd ones, instead of at random (true/false)", DefaultValueFactory = _ => D.AlternatingFlips };
        Threads = new("--threads") { Description = "Torch threads (0: all cores)" };
        LastEpochs = new("--last-epochs") { Description = "How many final epochs the reported Last accuracy averages", DefaultValueFactory = _ => D.LastEpochs };
        NoTrainEval = new("--no-train-eval") { Description = "Skip the per-epoch pass over the training set (train accuracy, memorisation)" };
        Nesterov = new("--nesterov") { Description = "Nesterov momentum (SGD)" };
        LabelSmoothing = new("--label-smoothing") { Description = "ce, ce-reg: label smoothing of the cross-entropy (0: off)", DefaultValueFactory = _ => D.LabelSmoothing };
        NormBiasRateScale = new("--norm-bias-lr-scale") { Description = "Batch-norm shifts learn at this multiple of --lr, with the same weight decay per step", DefaultValueFactory = _ => D.NormBiasRateScale };
        Lookahead = new("--lookahead") { Description = "Lookahead weight averaging every N steps (0: off)", DefaultValueFactory = _ => D.LookaheadSteps };
        TestTimeViews = new("--tta") { Description = "Test-time augmentation of the final evaluation and of the label-issue predictions: none, mirror (2 views) or mirror-translate (6 views)", DefaultValueFactory = _ => TtaName(D.TestTimeAugmentation) };
        WarmupFraction = new("--lr-warmup-fraction") { Description = "linear schedule: fraction of the steps spent rising to --lr", DefaultValueFactory = _ => D.Schedule.WarmupFraction };
        Recipe = new("--recipe") { Description = "Training defaults and model for a purpose; options given explicitly override them. " + string.Join("; ", TrainingRecipes.All.Select(x => $"{x.Name} = {x.Summary}")) };
        TrainEvalSamples = new("--train-eval-samples") { Description = "Training images the per-epoch pass evaluates: a seeded subset, the same every epoch (0: all; DivideMix and SANM always pass all)", DefaultValueFactory = _ => D.TrainingSetEvaluationSamples };

        Optimizer.AcceptOnlyFromAmong("sgd", "adamw");
        Schedule.AcceptOnlyFromAmong("cosine", "step", "multistep", "constant", "linear");
        TestTimeViews.AcceptOnlyFromAmong("none", "mirror", "mirror-translate");
        Recipe.AcceptOnlyFromAmong([.. TrainingRecipes.All.Select(x => x.Name)]);
        foreach (var o in new Option[] { Recipe, Epochs, BatchSize, Optimizer, LearningRate, Momentum, Nesterov, WeightDecay, GradientClip, EncoderRateScale, NormBiasRateScale, Schedule, Milestones, Gamma, StepSize, WarmupEpochs, WarmupFraction, LabelSmoothing, Lookahead, TestTimeViews, Precision, Seed, CropPadding, ReflectPadding, NoFlip, AlternatingFlips, Threads, NoTrainEval, TrainEvalSamples, LastEpochs })
            command.Options.Add(o);
    }

    /// <summary>The recipe --recipe names, or null.</summary>
    public TrainingRecipe? RecipeOf(ParseResult r) => r.GetValue(Recipe) is { } name ? TrainingRecipes.Named(name) : null;

    private static string ScheduleName(ScheduleKind kind) => kind.ToString().ToLowerInvariant();

    private static string TtaName(TestTimeAugmentation t) => t switch
    {
        TestTimeAugmentation.Mirror => "mirror",
        TestTimeAugmentation.MirrorTranslate => "mirror-translate",
        _ => "none",
    };

    public TrainingOptions Read(ParseResult r)
    {
        // A recipe replaces the defaults; an option given on the command line wins over both.
        var recipe = RecipeOf(r)?.Options;
        T Pick<T>(Option<T> o, Func<TrainingOptions, T> field) =>
            recipe is null || r.GetResult(o) is { Implicit: false } ? r.GetValue(o)! : field(recipe);
        var kind = Pick(Schedule, o => ScheduleName(o.Schedule.Kind)) switch
        {
            "step" => ScheduleKind.Step, "multistep" => ScheduleKind.MultiStep, "constant" => ScheduleKind.Constant, "linear" => ScheduleKind.Linear, _ => ScheduleKind.Cosine,
        };
        var options = new TrainingOptions
        {
            Epochs = Pick(Epochs, o => o.Epochs),
            BatchSize = Pick(BatchSize, o => o.BatchSize),
            Optimizer = Pick(Optimizer, o => o.Optimizer == OptimizerKind.AdamW ? "adamw" : "sgd") == "adamw" ? OptimizerKind.AdamW : OptimizerKind.Sgd,
            // A recipe's rate is per example: another --batch-size scales it (airbench's decoupled form).
            LearningRate = Pick(LearningRate, o => o.LearningRate * Pick(BatchSize, b => b.BatchSize) / o.BatchSize),
            Momentum = Pick(Momentum, o => o.Momentum),
            Nesterov = Pick(Nesterov, o => o.Nesterov),
            WeightDecay = Pick(WeightDecay, o => o.WeightDecay),
            GradientClip = Pick(GradientClip, o => o.GradientClip),
            EncoderRateScale = Pick(EncoderRateScale, o => o.EncoderRateScale),
            NormBiasRateScale = Pick(NormBiasRateScale, o => o.NormBiasRateScale),
            LabelSmoothing = Pick(LabelSmoothing, o => o.LabelSmoothing),
            LookaheadSteps = Pick(Lookahead, o => o.LookaheadSteps),
            TestTimeAugmentation = Pick(TestTimeViews, o => TtaName(o.TestTimeAugmentation)) switch
            {
                "mirror" => TestTimeAugmentation.Mirror, "mirror-translate" => TestTimeAugmentation.MirrorTranslate, _ => TestTimeAugmentation.None,
            },
            Schedule = (recipe?.Schedule ?? new LearningRateSchedule()) with
            {
                Kind = kind,
                Milestones = r.GetValue(Milestones) ?? [],
                Gamma = r.GetValue(Gamma),
                StepSize = r.GetValue(StepSize),
                WarmupEpochs = Pick(WarmupEpochs, o => o.Schedule.WarmupEpochs),
                WarmupFraction = Pick(WarmupFraction, o => o.Schedule.WarmupFraction),
            },
            Precision = ParsePrecision(r.GetValue(Precision)),
            Seed = r.GetValue(Seed),
            CropPadding = Pick(CropPadding, o => o.CropPadding),
            HorizontalFlip = !Pick(NoFlip, o => !o.HorizontalFlip),
            ReflectPadding = Pick(ReflectPadding, o => o.ReflectPadding),
            AlternatingFlips = Pick(AlternatingFlips, o => o.AlternatingFlips),
            Threads = r.GetValue(Threads),
            EvaluateTrainingSet = !Pick(NoTrainEval, o => !o.EvaluateTrainingSet),
            TrainingSetEvaluationSamples = Pick(TrainEvalSamples, o => o.TrainingSetEvaluationSamples),
            LastEpochs = Pick(LastEpochs, o => o.LastEpochs),
        };
        options.Validate();
        return options;
    }

    public static Precision ParsePrecision(string? text) => text switch
    {
        "fp32" => Models.Precision.Float32,
        "bf16" => Models.Precision.BFloat16,
        _ => Models.Precision.Auto,
    };

    /// <summary>--precision auto|fp32|bf16, auto by default; <paramref name="timed"/> says which step auto times.</summary>
    public static Option<string> PrecisionOption(string timed)
    {
        var o = new Option<string>("--precision")
        {
            Description = $"auto (time {timed} in fp32 and bf16 on this CPU, keep the faster; bf16 is not tried on a CPU without native bf16), fp32, or bf16 (bfloat16 compute, float32 weights)",
            DefaultValueFactory = _ => "auto",
        };
        o.AcceptOnlyFromAmong("auto", "fp32", "bf16");
        return o;
    }
}
