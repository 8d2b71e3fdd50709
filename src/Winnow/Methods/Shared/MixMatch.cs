using Winnow.Models;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Winnow.Methods;

/// <summary>
/// MixMatch's parts as DivideMix uses them, for any method: co-refined targets of labeled samples, co-guessed targets
/// of unlabeled ones, sharpening, mixing with one coefficient per batch, and the loss L_x + λ_u·L_u + the uniform-prior
/// penalty. Each is a plain function of tensors.
/// </summary>
public static class MixMatch
{
    /// <summary>p^(1/T), renormalised over classes.</summary>
    public static Tensor Sharpen(Tensor p, double temperature)
    {
        var powered = p.Power(1 / temperature);
        return powered / powered.sum(1, keepdim: true);
    }

    /// <summary>
    /// Mixing with one coefficient for the batch: λ′ = max(λ, 1 − λ); row i becomes λ′·row_i + (1 − λ′)·row_perm(i),
    /// for inputs and targets alike. The permutation runs over all rows, so labeled rows mix with unlabeled ones.
    /// </summary>
    public static (Tensor Inputs, Tensor Targets) Mix(Tensor inputs, Tensor targets, double lambda, Tensor permutation)
    {
        return (MixRows(inputs, lambda, permutation), MixRows(targets, lambda, permutation));
    }

    /// <summary>The rows of <paramref name="rows"/> mixed as <see cref="Mix"/> mixes them: λ′·row_i + (1 − λ′)·row_perm(i), λ′ = max(λ, 1 − λ).</summary>
    public static Tensor MixRows(Tensor rows, double lambda, Tensor permutation) =>
        rows.Blend(rows.index_select(0, permutation), Math.Max(lambda, 1 - lambda));

    /// <summary>
    /// Co-refinement of labeled samples: w·onehot(y) + (1 − w)·mean of the network's softmax over two views, sharpened.
    /// Run without gradients, the network in train mode as the official code does.
    /// </summary>
    /// <param name="net">The network being trained.</param>
    /// <param name="view1">First view (B, C, H, W).</param>
    /// <param name="view2">Second view.</param>
    /// <param name="cleanProbability">Each sample's clean probability w (B, 1).</param>
    /// <param name="oneHot">The given labels, one-hot (B, K).</param>
    /// <param name="temperature">Sharpening temperature.</param>
    public static Tensor CoRefine(Classifier net, Tensor view1, Tensor view2, Tensor cleanProbability, Tensor oneHot, double temperature) =>
        Sharpen(Refine(net.forward(view1), net.forward(view2), cleanProbability, oneHot), temperature);

    /// <summary>Co-refinement before sharpening, from the network's logits on two views: w·onehot(y) + (1 − w)·mean softmax.</summary>
    public static Tensor Refine(Tensor logits1, Tensor logits2, Tensor cleanProbability, Tensor oneHot)
    {
        var p = F.softmax(logits1, 1).Plus(F.softmax(logits2, 1)).DividedBy(2);
        return (cleanProbability * oneHot).Plus(cleanProbability.OneMinus() * p);
    }

    /// <summary>Co-guessing before sharpening, from both networks' logits on two views: their mean softmax.</summary>
    public static Tensor Guess(Tensor net1, Tensor net2, Tensor peer1, Tensor peer2) =>
        F.softmax(net1, 1).Plus(F.softmax(net2, 1)).Plus(F.softmax(peer1, 1)).Plus(F.softmax(peer2, 1)).DividedBy(4);

    /// <summary>
    /// Co-guessing of unlabeled samples: the mean softmax of both networks over two views, sharpened. Run without
    /// gradients, the trained network in train mode and its peer in eval mode, as the official code does.
    /// </summary>
    public static Tensor CoGuess(Classifier net, Classifier peer, Tensor view1, Tensor view2, double temperature)
    {
        var n1 = net.forward(view1);
        var n2 = net.forward(view2);
        return Sharpen(Guess(n1, n2, peer.forward(view1), peer.forward(view2)), temperature);
    }

    /// <summary>
    /// λ_u's linear ramp after warm-up: clip((epoch + step/steps − warm-up) / ramp, 0, 1), epochs 0-based.
    /// </summary>
    public static double RampUp(int epoch, int step, int steps, int warmupEpochs, int rampEpochs) =>
        Math.Clamp((epoch + (double)step / Math.Max(1, steps) - warmupEpochs) / rampEpochs, 0, 1);

    /// <summary>
    /// DivideMix's loss on mixed rows whose first <paramref name="labeledRows"/> rows are labeled and the rest
    /// unlabeled: L_x = −mean Σ log_softmax·target over the labeled rows, + <paramref name="unlabeledWeight"/>·L_u
    /// (mean squared error of the softmax over the unlabeled rows; left out when there are none), + KL(uniform ‖ mean
    /// prediction over all rows).
    /// </summary>
    public static Tensor Loss(Tensor logits, Tensor mixedTargets, long labeledRows, double unlabeledWeight)
    {
        long rows = logits.shape[0];
        int classCount = (int)logits.shape[1];
        var loss = -(F.log_softmax(logits.narrow(0, 0, labeledRows), 1) * mixedTargets.narrow(0, 0, labeledRows)).sum(1).mean();
        if (rows > labeledRows)
        {
            var residual = F.softmax(logits.narrow(0, labeledRows, rows - labeledRows), 1) - mixedTargets.narrow(0, labeledRows, rows - labeledRows);
            loss = loss.Plus((residual * residual).mean().Times(unlabeledWeight));
        }
        var meanPrediction = F.softmax(logits, 1).mean([0]);
        double prior = 1.0 / classCount;
        var penalty = meanPrediction.AtLeast(1e-12).log().neg().Plus(Math.Log(prior)).Times(prior).sum();
        return loss.Plus(penalty);
    }

    /// <summary>Cross-entropy on the given labels, plus, when asked, DivideMix's confidence penalty (mean Σ p log p) for asymmetric noise.</summary>
    public static Tensor WarmupLoss(Tensor logits, Tensor labels, bool confidencePenalty)
    {
        var loss = F.cross_entropy(logits, labels);
        if (!confidencePenalty) return loss;
        var p = F.softmax(logits, 1);
        return loss.Plus((p * F.log_softmax(logits, 1)).sum(1).mean());
    }
}
