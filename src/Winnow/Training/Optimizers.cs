using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

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

/// <summary>SGD with momentum and weight decay, PyTorch's update: g += wd·p; b = μ·b + g (b = g at the first step); p -= lr·b.</summary>
public sealed class SgdOptimizer : IOptimizer
{
    private readonly Parameter[] parameters;
    private readonly Tensor?[] buffers;
    private readonly double momentum, weightDecay;

    /// <summary>Creates the optimiser over the parameters that require gradients.</summary>
    public SgdOptimizer(IEnumerable<Parameter> parameters, double learningRate, double momentum, double weightDecay)
    {
        this.parameters = parameters.Where(p => p.requires_grad).ToArray();
        buffers = new Tensor?[this.parameters.Length];
        LearningRate = learningRate;
        this.momentum = momentum;
        this.weightDecay = weightDecay;
    }

    /// <inheritdoc/>
    public double LearningRate { get; set; }

    /// <inheritdoc/>
    public void ZeroGrad()
    {
        foreach (var p in parameters) p.grad?.zero_();
    }

    /// <inheritdoc/>
    public void Step()
    {
        using var _ = no_grad();
        for (int i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            var g = p.grad;
            if (g is null) continue;
            if (weightDecay != 0) g.add_(p, alpha: weightDecay);
            if (momentum != 0)
            {
                if (buffers[i] is null) buffers[i] = g.detach().clone().DetachFromDisposeScope();
                else buffers[i]!.mul_(momentum).add_(g);
                g = buffers[i]!;
            }
            p.add_(g, alpha: -LearningRate);
        }
    }

    /// <inheritdoc/>
    public IEnumerable<(string Name, Tensor Value)> State()
    {
        for (int i = 0; i < buffers.Length; i++)
            if (buffers[i] is not null) yield return ($"momentum.{i}", buffers[i]!);
    }

    /// <inheritdoc/>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i]?.Dispose();
            buffers[i] = state.TryGetValue($"momentum.{i}", out var t) ? t.detach().clone().DetachFromDisposeScope() : null;
        }
    }
}

/// <summary>AdamW: m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²; p -= lr·(wd·p + m̂ / (√v̂ + ε)), with bias correction.</summary>
public sealed class AdamWOptimizer : IOptimizer
{
    private readonly Parameter[] parameters;
    private readonly Tensor?[] m, v;
    private readonly double beta1, beta2, eps, weightDecay;
    private long steps;

    /// <summary>Creates the optimiser over the parameters that require gradients.</summary>
    public AdamWOptimizer(IEnumerable<Parameter> parameters, double learningRate, double weightDecay, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8)
    {
        this.parameters = parameters.Where(p => p.requires_grad).ToArray();
        m = new Tensor?[this.parameters.Length];
        v = new Tensor?[this.parameters.Length];
        LearningRate = learningRate;
        this.weightDecay = weightDecay;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
    }

    /// <inheritdoc/>
    public double LearningRate { get; set; }

    /// <inheritdoc/>
    public void ZeroGrad()
    {
        foreach (var p in parameters) p.grad?.zero_();
    }

    /// <inheritdoc/>
    public void Step()
    {
        using var _ = no_grad();
        steps++;
        double c1 = 1 - Math.Pow(beta1, steps), c2 = 1 - Math.Pow(beta2, steps);
        for (int i = 0; i < parameters.Length; i++)
        {
            var p = parameters[i];
            var g = p.grad;
            if (g is null) continue;
            m[i] ??= zeros_like(p).DetachFromDisposeScope();
            v[i] ??= zeros_like(p).DetachFromDisposeScope();
            m[i]!.mul_(beta1).add_(g, alpha: 1 - beta1);
            v[i]!.mul_(beta2).addcmul_(g, g, value: 1 - beta2);
            if (weightDecay != 0) p.mul_(1 - LearningRate * weightDecay);
            using var denom = (v[i]! / c2).sqrt_().add_(eps);
            p.addcdiv_(m[i]!, denom, value: -LearningRate / c1);
        }
    }

    /// <inheritdoc/>
    public IEnumerable<(string Name, Tensor Value)> State()
    {
        yield return ("steps", tensor(steps));
        for (int i = 0; i < m.Length; i++)
        {
            if (m[i] is not null) yield return ($"m.{i}", m[i]!);
            if (v[i] is not null) yield return ($"v.{i}", v[i]!);
        }
    }

    /// <inheritdoc/>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        steps = state.TryGetValue("steps", out var s) ? s.item<long>() : 0;
        for (int i = 0; i < m.Length; i++)
        {
            m[i] = state.TryGetValue($"m.{i}", out var a) ? a.detach().clone().DetachFromDisposeScope() : null;
            v[i] = state.TryGetValue($"v.{i}", out var b) ? b.detach().clone().DetachFromDisposeScope() : null;
        }
    }
}

/// <summary>Creates the optimiser that <see cref="TrainingOptions"/> describe.</summary>
public static class OptimizerFactory
{
    /// <summary>SGD or AdamW over <paramref name="parameters"/> with the options' rate, momentum and weight decay.</summary>
    public static IOptimizer Create(IEnumerable<Parameter> parameters, TrainingOptions options) => options.Optimizer switch
    {
        OptimizerKind.Sgd => new SgdOptimizer(parameters, options.LearningRate, options.Momentum, options.WeightDecay),
        OptimizerKind.AdamW => new AdamWOptimizer(parameters, options.LearningRate, options.WeightDecay),
        _ => throw new ArgumentOutOfRangeException(nameof(options)),
    };
}
