using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using Winnow.Models;

namespace Winnow.Training;

/// <summary>
/// A first-order optimiser whose state can be written to and read from a checkpoint, so that a resumed run
/// continues exactly where it stopped. The learning rate is set by the training loop before each step.
/// </summary>
public interface IOptimizer
{
    /// <summary>The learning rate used by the next <see cref="Step"/>.</summary>
    double LearningRate { get; set; }

    /// <summary>Clears the parameters' gradients.</summary>
    void ZeroGrad();

    /// <summary>Updates the parameters from their gradients.</summary>
    void Step();

    /// <summary>
    /// Largest L2 norm of all gradients together: <see cref="Step"/> first scales larger gradients down to it (0: off).
    /// Settable between steps, so that a method can clip one phase more tightly than another.
    /// </summary>
    double MaxGradientNorm { get; set; }

    /// <summary>The optimiser's state tensors by name (momentum buffers, moments, step counts).</summary>
    IEnumerable<(string Name, Tensor Value)> State();

    /// <summary>Restores the state written by <see cref="State"/>.</summary>
    void LoadState(IReadOnlyDictionary<string, Tensor> state);
}

/// <summary>Which optimiser to use.</summary>
public enum OptimizerKind
{
    /// <summary>SGD with (heavy-ball) momentum and L2 weight decay, as PyTorch's SGD.</summary>
    Sgd,
    /// <summary>Adam with decoupled weight decay (Loshchilov and Hutter).</summary>
    AdamW,
}

/// <summary>What every optimiser here shares: the trainable parameters, the learning rate, clearing gradients.</summary>
public abstract class ParameterOptimizer : IOptimizer
{
    /// <summary>The parameters that require gradients, in a fixed order (state is saved by position).</summary>
    protected Parameter[] Parameters { get; }

    /// <summary>
    /// The distinct (learning-rate multiple, weight-decay multiple) pairs, (1, 1) first; each parameter's is
    /// <c>scales[ScaleIndex[i]]</c>. The decay multiple applies to the decay coefficient, so a pair (s, 1/s) keeps the
    /// decay per step (rate × coefficient) of the full rate.
    /// </summary>
    private readonly List<(double Rate, double Decay)> scales = [(1.0, 1.0)];

    /// <summary>Each parameter's position in the list of distinct multiples (0: the full rate).</summary>
    protected int[] ScaleIndex { get; }

    /// <summary>Keeps the parameters of <paramref name="parameters"/> that require gradients.</summary>
    protected ParameterOptimizer(IEnumerable<Parameter> parameters, double learningRate)
    {
        Parameters = parameters.Where(p => p.requires_grad).ToArray();
        ScaleIndex = new int[Parameters.Length];
        LearningRate = learningRate;
    }

    /// <summary>
    /// Updates the parameters of <paramref name="group"/> (the same objects the optimiser was given) with
    /// <paramref name="scale"/> times the learning rate, weight decay included: discriminative fine-tuning, where a
    /// pre-trained encoder moves more slowly than a new head. With <paramref name="keepDecayPerStep"/> the decay each
    /// step applies stays the full rate's (the coefficient is divided by <paramref name="scale"/>): airbench's fast
    /// batch-norm shifts.
    /// </summary>
    public void ScaleRate(IEnumerable<Parameter> group, double scale, bool keepDecayPerStep = false)
    {
        var members = group.ToHashSet(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < Parameters.Length; i++)
        {
            if (!members.Contains(Parameters[i])) continue;
            var current = scales[ScaleIndex[i]];
            // Scales compose: an encoder's batch-norm shift under both gets their product.
            var pair = (current.Rate * scale, current.Decay * (keepDecayPerStep ? 1 / scale : 1));
            int index = scales.IndexOf(pair);
            if (index < 0)
            {
                scales.Add(pair);
                index = scales.Count - 1;
            }
            ScaleIndex[i] = index;
        }
    }

    /// <summary>
    /// One Scalar per distinct pair of multiples, made by <paramref name="make"/> from (rate multiple, decay multiple)
    /// and indexed as <see cref="ScaleIndex"/>; held for a step and disposed by the caller.
    /// </summary>
    protected Scalar[] ScalarsPerScale(Func<double, double, double> make)
    {
        var made = new Scalar[scales.Count];
        for (int i = 0; i < made.Length; i++) made[i] = make(scales[i].Rate, scales[i].Decay).ToScalar();
        return made;
    }

    /// <summary>
    /// Whether parameter <paramref name="i"/> takes part in this step: it has a gradient and still requires one (a
    /// layer frozen during the run, such as a whitening bias after its epochs, keeps its last gradient buffer).
    /// </summary>
    protected bool Updates(int i) => Parameters[i].grad is not null && Parameters[i].requires_grad;

    /// <inheritdoc/>
    public double LearningRate { get; set; }

    /// <inheritdoc/>
    public double MaxGradientNorm { get; set; }

    /// <summary>Scales the gradients down so that their joint L2 norm is at most <see cref="MaxGradientNorm"/>, when it is set.</summary>
    protected void ClipGradients()
    {
        if (MaxGradientNorm > 0) nn.utils.clip_grad_norm_(Parameters.Where(p => p.grad is not null), MaxGradientNorm);
    }

    /// <inheritdoc/>
    public void ZeroGrad()
    {
        foreach (var p in Parameters) p.grad?.zero_();
    }

    /// <inheritdoc/>
    public abstract void Step();

    /// <inheritdoc/>
    public abstract IEnumerable<(string Name, Tensor Value)> State();

    /// <inheritdoc/>
    public abstract void LoadState(IReadOnlyDictionary<string, Tensor> state);

    /// <summary>A copy of a state tensor that outlives the current dispose scope.</summary>
    protected static Tensor? Keep(IReadOnlyDictionary<string, Tensor> state, string key) =>
        state.TryGetValue(key, out var t) ? t.detach().clone().DetachFromDisposeScope() : null;
}

/// <summary>
/// SGD with momentum and weight decay, PyTorch's update: g += wd·p; b = μ·b + g (b = g at the first step); p -= lr·b,
/// or with Nesterov momentum p -= lr·(g + μ·b).
/// </summary>
public sealed class SgdOptimizer : ParameterOptimizer
{
    private readonly Tensor?[] buffers;
    private readonly double momentum, weightDecay;
    private readonly bool nesterov;

    /// <summary>Creates the optimiser over the parameters that require gradients.</summary>
    public SgdOptimizer(IEnumerable<Parameter> parameters, double learningRate, double momentum, double weightDecay, bool nesterov = false)
        : base(parameters, learningRate)
    {
        buffers = new Tensor?[Parameters.Length];
        this.momentum = momentum;
        this.weightDecay = weightDecay;
        this.nesterov = nesterov;
    }

    /// <inheritdoc/>
    public override void Step()
    {
        using var _ = no_grad();
        ClipGradients();
        // Scalars held for the whole step (see KeepAliveBatchNorm2d: TorchSharp's temporary Scalars can be
        // finalised while libtorch reads them); one set per step instead of three per parameter.
        using Scalar mu = momentum.ToScalar();
        var decays = ScalarsPerScale((_, d) => weightDecay * d);
        var steps = ScalarsPerScale((s, _) => -LearningRate * s);
        try
        {
            for (int i = 0; i < Parameters.Length; i++)
            {
                if (!Updates(i)) continue;
                var p = Parameters[i];
                var g = p.grad!;
                if (weightDecay != 0) g.add_(p, decays[ScaleIndex[i]]);
                if (momentum != 0)
                {
                    if (buffers[i] is null) buffers[i] = g.detach().clone().DetachFromDisposeScope();
                    else buffers[i]!.mul_(mu).add_(g, LongLivedScalars.One);
                    if (nesterov) g.add_(buffers[i]!, mu);
                    else g = buffers[i]!;
                }
                p.add_(g, steps[ScaleIndex[i]]);
            }
        }
        finally
        {
            foreach (var s in decays.Concat(steps)) s.Dispose();
        }
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> State()
    {
        for (int i = 0; i < buffers.Length; i++)
            if (buffers[i] is not null) yield return ($"momentum.{i}", buffers[i]!);
    }

    /// <inheritdoc/>
    public override void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i]?.Dispose();
            buffers[i] = Keep(state, $"momentum.{i}");
        }
    }
}

/// <summary>AdamW: m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; p -= lr·(wd·p + m̂ / (√v̂ + ε)), with bias correction.</summary>
public sealed class AdamWOptimizer : ParameterOptimizer
{
    private readonly Tensor?[] m, v;
    private readonly double beta1, beta2, eps, weightDecay;
    private long steps;

    /// <summary>Creates the optimiser over the parameters that require gradients.</summary>
    public AdamWOptimizer(IEnumerable<Parameter> parameters, double learningRate, double weightDecay, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
        : base(parameters, learningRate)
    {
        m = new Tensor?[Parameters.Length];
        v = new Tensor?[Parameters.Length];
        this.weightDecay = weightDecay;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    /// <inheritdoc/>
    public override void Step()
    {
        using var _ = no_grad();
        ClipGradients();
        steps++;
        double c1 = 1 - Math.Pow(beta1, steps), c2 = 1 - Math.Pow(beta2, steps);
        // Scalars held for the whole step (see SgdOptimizer.Step).
        using Scalar b1 = beta1.ToScalar(), b1Complement = (1 - beta1).ToScalar(), b2 = beta2.ToScalar(), b2Complement = (1 - beta2).ToScalar(),
            secondMomentCorrection = c2.ToScalar(), epsilon = eps.ToScalar();
        var decays = ScalarsPerScale((s, d) => 1 - LearningRate * s * weightDecay * d);
        var stepSizes = ScalarsPerScale((s, _) => -LearningRate * s / c1);
        try
        {
            for (int i = 0; i < Parameters.Length; i++)
            {
                if (!Updates(i)) continue;
                var p = Parameters[i];
                var g = p.grad!;
                m[i] ??= zeros_like(p).DetachFromDisposeScope();
                v[i] ??= zeros_like(p).DetachFromDisposeScope();
                m[i]!.mul_(b1).add_(g, b1Complement);
                v[i]!.mul_(b2).addcmul_(g, g, b2Complement);
                if (weightDecay != 0) p.mul_(decays[ScaleIndex[i]]);
                using var denom = v[i]!.div(secondMomentCorrection).sqrt_().add_(epsilon, LongLivedScalars.One);
                p.addcdiv_(m[i]!, denom, stepSizes[ScaleIndex[i]]);
            }
        }
        finally
        {
            foreach (var s in decays.Concat(stepSizes)) s.Dispose();
        }
    }

    /// <inheritdoc/>
    public override IEnumerable<(string Name, Tensor Value)> State()
    {
        yield return ("steps", tensor(steps));
        for (int i = 0; i < m.Length; i++)
        {
            if (m[i] is not null) yield return ($"m.{i}", m[i]!);
            if (v[i] is not null) yield return ($"v.{i}", v[i]!);
        }
    }

    /// <inheritdoc/>
    public override void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        steps = state.TryGetValue("steps", out var s) ? s.item<long>() : 0;
        for (int i = 0; i < m.Length; i++)
        {
            m[i] = Keep(state, $"m.{i}");
            v[i] = Keep(state, $"v.{i}");
        }
    }
}

/// <summary>Creates the optimiser that <see cref="TrainingOptions"/> describe.</summary>
public static class OptimizerFactory
{
    /// <summary>
    /// SGD or AdamW over <paramref name="parameters"/> with the options' rate, momentum, weight decay and gradient
    /// clipping; the batch-norm shifts of the <paramref name="owners"/> get <see cref="TrainingOptions.NormBiasRateScale"/>.
    /// </summary>
    public static IOptimizer Create(IEnumerable<Parameter> parameters, TrainingOptions options, IEnumerable<nn.Module>? owners = null)
    {
        var optimizer = CreateScalable(parameters, options);
        if (options.NormBiasRateScale != 1 && owners is not null)
            optimizer.ScaleRate(owners.SelectMany(NormShifts), options.NormBiasRateScale, keepDecayPerStep: true);
        return optimizer;
    }

    /// <summary>The shifts (biases) of every batch norm in <paramref name="network"/>.</summary>
    public static IEnumerable<Parameter> NormShifts(nn.Module network) =>
        network.modules().OfType<KeepAliveBatchNorm2d>().Select(n => n.Bias);

    /// <summary>
    /// The optimiser for a classifier (and any <paramref name="extra"/> parameters trained with it, at the full rate):
    /// as <see cref="Create(IEnumerable{Parameter}, TrainingOptions, IEnumerable{nn.Module})"/>, with the encoder's learning rate scaled by
    /// <see cref="TrainingOptions.EncoderRateScale"/> (the head keeps the full rate).
    /// </summary>
    public static IOptimizer Create(Classifier network, TrainingOptions options, IEnumerable<Parameter>? extra = null)
    {
        var optimizer = CreateScalable(network.parameters().Concat(extra ?? []), options);
        if (options.EncoderRateScale != 1) optimizer.ScaleRate(network.Encoder.parameters(), options.EncoderRateScale);
        if (options.NormBiasRateScale != 1) optimizer.ScaleRate(NormShifts(network), options.NormBiasRateScale, keepDecayPerStep: true);
        return optimizer;
    }

    private static ParameterOptimizer CreateScalable(IEnumerable<Parameter> parameters, TrainingOptions options) => options.Optimizer switch
    {
        OptimizerKind.Sgd => new SgdOptimizer(parameters, options.LearningRate, options.Momentum, options.WeightDecay, options.Nesterov) { MaxGradientNorm = options.GradientClip },
        OptimizerKind.AdamW => new AdamWOptimizer(parameters, options.LearningRate, options.WeightDecay) { MaxGradientNorm = options.GradientClip },
        _ => throw new ArgumentOutOfRangeException(nameof(options)),
    };
}
