using Winnow.Models;
using static TorchSharp.torch;

namespace Winnow.Methods;

/// <summary>Options of Cheng et al.'s regularised training (method ce-reg).</summary>
public sealed record RepresentationRegularizerOptions
{
    /// <summary>Weight λ of the representation regularizer (1 in the official code).</summary>
    public double Lambda { get; init; } = 1.0;

    /// <summary>Temperature of the InfoNCE term on the two strong views (0.5).</summary>
    public double Temperature { get; init; } = 0.5;

    /// <summary>Length of the SSL projection (128, as SimCLR's head, so a pre-trained head can be reused).</summary>
    public int ProjectionDimension { get; init; } = 128;

    /// <summary>How the two strong views are made (SimCLR's augmentation).</summary>
    public Data.SimClrAugmentation StrongAugmentation { get; init; } = new();
}

/// <summary>
/// Cheng et al.'s regularizer between representations: the pairwise distances between the classifier's outputs
/// (softmax probabilities) in a batch should have the same structure as the pairwise distances between the
/// self-supervised projections. Both distance matrices are divided by the mean of their off-diagonal entries and
/// compared with smooth-L1 (Huber, β = 1), averaged over all B × B entries. The official code compares plain
/// distances of the outputs with squared distances of the projections; we follow the paper (and the original RKD
/// distance loss) and use plain distances on both sides. Gradients flow into both representations, as in the code.
/// </summary>
public static class RepresentationRegularizer
{
    /// <summary>The regularizer for classifier probabilities (B, C) and projections (B, d).</summary>
    public static Tensor Compute(Tensor probabilities, Tensor projections)
    {
        using var scope = NewDisposeScope();
        var ds = NormalizedDistances(probabilities.to(ScalarType.Float32));
        var dt = NormalizedDistances(projections.to(ScalarType.Float32));
        return nn.functional.smooth_l1_loss(ds, dt, beta: 1.0).MoveToOuterDisposeScope();
    }

    /// <summary>Euclidean distances between the rows of <paramref name="x"/>, zero diagonal, divided by their off-diagonal mean.</summary>
    public static Tensor NormalizedDistances(Tensor x)
    {
        long n = x.shape[0];
        if (n < 2) throw new ArgumentException("pairwise distances need at least two rows");
        using var scope = NewDisposeScope();
        var sq = (x * x).sum(1);
        var d2 = sq.unsqueeze(1).Plus(sq.unsqueeze(0)) - x.matmul(x.t()).Times(2);
        var offDiagonal = ones(n, n, dtype: ScalarType.Float32) - eye(n, dtype: ScalarType.Float32);
        var d = d2.AtLeast(1e-12).sqrt() * offDiagonal;
        var mean = d.sum().DividedBy(n * (n - 1));
        return (d / mean.AtLeast(1e-12)).MoveToOuterDisposeScope();
    }
}
