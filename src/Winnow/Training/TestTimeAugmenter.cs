using TorchSharp;
using Winnow.Models;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace Winnow.Training;

/// <summary>Averages a model's logits over several views of each image (<see cref="TestTimeAugmentation"/>).</summary>
public static class TestTimeAugmenter
{
    private static readonly Scalar Half = 0.5.ToScalar();

    /// <summary>
    /// The logits function <paramref name="logits"/> evaluated on the views of <paramref name="level"/> and averaged:
    /// itself for <see cref="TestTimeAugmentation.None"/>; ½(f(x) + f(mirror x)) for Mirror; for MirrorTranslate,
    /// ½·mirror-mean(x) + ¼·mirror-mean(x shifted one pixel up-left) + ¼·mirror-mean(x shifted one pixel down-right),
    /// the shifts reading a reflected border (airbench's level 2).
    /// </summary>
    public static Func<Tensor, Tensor> Wrap(Func<Tensor, Tensor> logits, TestTimeAugmentation level) => level switch
    {
        TestTimeAugmentation.None => logits,
        TestTimeAugmentation.Mirror => x => MirrorMean(logits, x),
        TestTimeAugmentation.MirrorTranslate => x => MirrorTranslateMean(logits, x),
        _ => throw new ArgumentOutOfRangeException(nameof(level)),
    };

    /// <summary>
    /// The method's predictions on the un-augmented training set with the views of <paramref name="level"/>: the method's
    /// own pass (<see cref="ITrainingMethod.PredictTrainingSet"/>) without test-time augmentation, otherwise its logits
    /// averaged over the views. The label issues read these.
    /// </summary>
    public static DatasetPredictions PredictTrainingSet(ITrainingMethod method, Data.ImageDataset train, TestTimeAugmentation level, CancellationToken cancellation = default) =>
        level == TestTimeAugmentation.None ? method.PredictTrainingSet(train, cancellation)
            : Evaluation.Predict(Wrap(method.PredictLogits, level), train, cancellation: cancellation);

    private static Tensor MirrorMean(Func<Tensor, Tensor> logits, Tensor x)
    {
        using var scope = NewDisposeScope();
        return logits(x).add(logits(x.flip(3)), LongLivedScalars.One).mul_(Half).MoveToOuterDisposeScope();
    }

    private static Tensor MirrorTranslateMean(Func<Tensor, Tensor> logits, Tensor x)
    {
        using var scope = NewDisposeScope();
        long h = x.shape[2], w = x.shape[3];
        var padded = F.pad(x, [1, 1, 1, 1], PaddingModes.Reflect);
        var upLeft = padded.narrow(2, 0, h).narrow(3, 0, w).contiguous();
        var downRight = padded.narrow(2, 2, h).narrow(3, 2, w).contiguous();
        var shifted = MirrorMean(logits, upLeft).add_(MirrorMean(logits, downRight), LongLivedScalars.One).mul_(Half);
        return MirrorMean(logits, x).add_(shifted, LongLivedScalars.One).mul_(Half).MoveToOuterDisposeScope();
    }
}
