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
        Schedule = new("--schedule") { Description = "Learning-rate schedule: cosine, step, multistep or constant", DefaultValueFactory = _ => "cosine" };
        Milestones = new("--milestones") { Description = "multistep: epochs (0-based) at which the rate is multiplied by --gamma", AllowMultipleArgumentsPerToken = true };
        Gamma = new("--gamma") { Description = "step, multistep: decay factor", DefaultValueFactory = _ => 0.1 };
        StepSize = new("--step-size") { Description = "step: epochs between decays", DefaultValueFactory = _ => 30 };
        WarmupEpochs = new("--lr-warmup-epochs") { Description = "Epochs of linear learning-rate warm-up", DefaultValueFactory = _ => D.Schedule.WarmupEpochs };
        Precision = PrecisionOption("the run's training step");
        Seed = new("--seed") { Description = "Seed of initialisation, shuffling and augmentation", DefaultValueFactory = _ => D.Seed };
        CropPadding = new("--crop-padding") { Description = "Random-crop padding in pixels (0: no crop)", DefaultValueFactory = _ => D.CropPadding };
        NoFlip = new("--no-flip") { Description = "No random horizontal flips" };
        Threads = new("--threads") { Description = "Torch threads (0: all cores)" };
        LastEpochs = new("--last-epochs") { Description = "How many final epochs the reported Last accuracy averages", DefaultValueFactory = _ => D.LastEpochs };
        NoTrainEval = new("--no-train-eval") { Description = "Skip the per-epoch pass over the training set (train accuracy, memorisation)" };
        TrainEvalSamples = new("--train-eval-samples") { Description = "Training images the per-epoch pass evaluates: a seeded subset, the same every epoch (0: all; DivideMix and SANM always pass all)", DefaultValueFactory = _ => D.TrainingSetEvaluationSamples };

        Optimizer.AcceptOnlyFromAmong("sgd", "adamw");
        Schedule.AcceptOnlyFromAmong("cosine", "step", "multistep", "constant");
        foreach (var o in new Option[] { Epochs, BatchSize, Optimizer, LearningRate, Momentum, WeightDecay, GradientClip, EncoderRateScale, Schedule, Milestones, Gamma, StepSize, WarmupEpochs, Precision, Seed, CropPadding, NoFlip, Threads, NoTrainEval, TrainEvalSamples, LastEpochs })
            command.Options.Add(o);
    }

    public TrainingOptions Read(ParseResult r)
    {
        var options = new TrainingOptions
        {
            Epochs = r.GetValue(Epochs),
            BatchSize = r.GetValue(BatchSize),
            Optimizer = r.GetValue(Optimizer) == "adamw" ? OptimizerKind.AdamW : OptimizerKind.Sgd,
            LearningRate = r.GetValue(LearningRate),
            Momentum = r.GetValue(Momentum),
            WeightDecay = r.GetValue(WeightDecay),
            GradientClip = r.GetValue(GradientClip),
            EncoderRateScale = r.GetValue(EncoderRateScale),
            Schedule = new LearningRateSchedule
            {
                Kind = r.GetValue(Schedule) switch { "step" => ScheduleKind.Step, "multistep" => ScheduleKind.MultiStep, "constant" => ScheduleKind.Constant, _ => ScheduleKind.Cosine },
                Milestones = r.GetValue(Milestones) ?? [],
                Gamma = r.GetValue(Gamma),
                StepSize = r.GetValue(StepSize),
                WarmupEpochs = r.GetValue(WarmupEpochs),
            },
            Precision = ParsePrecision(r.GetValue(Precision)),
            Seed = r.GetValue(Seed),
            CropPadding = r.GetValue(CropPadding),
            HorizontalFlip = !r.GetValue(NoFlip),
            Threads = r.GetValue(Threads),
            EvaluateTrainingSet = !r.GetValue(NoTrainEval),
            TrainingSetEvaluationSamples = r.GetValue(TrainEvalSamples),
            LastEpochs = r.GetValue(LastEpochs),
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
