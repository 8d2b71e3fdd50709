using Winnow.Models;
using static TorchSharp.torch;

namespace Winnow.Methods;

/// <summary>
/// Early-learning regularization (Liu et al., NeurIPS 2020). Each training sample keeps a target t_i, a temporal
/// ensemble of the model's predictions: t_i ← β·t_i + (1 − β)·p̂_i, with p̂ the detached, clamped prediction
/// renormalised to sum to one. The regularizer λ·mean_i log(1 − ⟨p_i, t_i⟩) rewards agreeing with the target, which
/// keeps the gradients of clean samples alive and cancels the pull of wrong labels. The loss can go negative.
/// </summary>
public static class ElrLoss
{
    /// <summary>p = softmax(logits) clamped to [1e-4, 1 − 1e-4], as the official code does before both uses.</summary>
    public static Tensor ClampedProbabilities(Tensor logits) => nn.functional.softmax(logits, 1).Within(1e-4, 1 - 1e-4);

    /// <summary>Updates <paramref name="targets"/> (N, C) in place at <paramref name="indices"/> from the detached probabilities.</summary>
    public static void UpdateTargets(Tensor targets, Tensor indices, Tensor probabilities, double beta)
    {
        using var _ = no_grad();
        using var scope = NewDisposeScope();
        var p = probabilities.detach().to(ScalarType.Float32);
        var normalised = p / p.sum(1, keepdim: true);
        var updated = targets.index_select(0, indices).Blend(normalised, beta);
        targets.index_copy_(0, indices, updated);
    }

    /// <summary>mean_i log(1 − ⟨q_i, p_i⟩); the gradient flows through <paramref name="probabilities"/> only.</summary>
    public static Tensor Regularizer(Tensor probabilities, Tensor targets) =>
        (targets.detach() * probabilities).sum(1).OneMinus().log().mean();
}
