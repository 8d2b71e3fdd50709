using Winnow.Data;

namespace Winnow.Detection;

/// <summary>
/// Confident learning (Northcutt, Jiang and Chuang, JAIR 2021) as plain functions: given labels and predicted class
/// probabilities (row-major N × K, ideally out-of-sample or from a network that did not memorise the noise), it
/// estimates how the given labels relate to the true ones and flags the samples whose label is probably wrong.
/// The steps: per-class thresholds (<see cref="Thresholds"/>), the confident joint (<see cref="ConfidentJoint"/>),
/// its calibration to the label counts (<see cref="Calibrate"/>), the noise estimate it implies
/// (<see cref="EstimateNoise"/>), and pruning by noise rate (<see cref="FindIssues"/>), with scores that rank the
/// flagged samples (<see cref="SelfConfidence"/>, <see cref="NormalizedMargin"/>).
/// </summary>
public static class ConfidentLearning
{
    /// <summary>
    /// Each class's threshold t_k: the mean predicted probability of class k over the samples labeled k (the expected
    /// self-confidence of the class). A class no sample carries gets 2, above any probability.
    /// </summary>
    public static double[] Thresholds(int[] labels, float[] probabilities, int classCount)
    {
        Check(labels, probabilities, classCount);
        var sum = new double[classCount];
        var count = new int[classCount];
        for (int i = 0; i < labels.Length; i++)
        {
            sum[labels[i]] += probabilities[(long)i * classCount + labels[i]];
            count[labels[i]]++;
        }
        var t = new double[classCount];
        for (int k = 0; k < classCount; k++) t[k] = count[k] == 0 ? 2 : sum[k] / count[k];
        return t;
    }

    /// <summary>
    /// The class each sample is confidently counted into: among the classes whose probability reaches their
    /// threshold, the most probable; −1 when none does.
    /// </summary>
    // The paper's rule (eq. 1: argmax over the classes above threshold). cleanlab 2.9 takes the argmax over all
    // classes when two or more are above threshold, which can pick a class below its own threshold; we follow the paper.
    public static int[] ConfidentClass(float[] probabilities, int classCount, double[] thresholds)
    {
        int n = probabilities.Length / classCount;
        var result = new int[n];
        for (int i = 0; i < n; i++)
        {
            int best = -1;
            double bestP = double.NegativeInfinity;
            for (int k = 0; k < classCount; k++)
            {
                double p = probabilities[(long)i * classCount + k];
                // The same small tolerance as cleanlab, so that a sample exactly at its class's mean counts.
                if (p >= thresholds[k] - 1e-6 && p > bestP)
                {
                    best = k;
                    bestP = p;
                }
            }
            result[i] = best;
        }
        return result;
    }

    /// <summary>
    /// The confident joint C[given, true]: how many samples labeled <c>given</c> are confidently counted into class
    /// <c>true</c> (<see cref="ConfidentClass"/>). Each diagonal entry is at least 1, so that calibration never divides
    /// by an empty row.
    /// </summary>
    public static long[,] ConfidentJoint(int[] labels, float[] probabilities, int classCount, double[]? thresholds = null)
    {
        thresholds ??= Thresholds(labels, probabilities, classCount);
        var confident = ConfidentClass(probabilities, classCount, thresholds);
        var joint = new long[classCount, classCount];
        for (int i = 0; i < labels.Length; i++)
            if (confident[i] >= 0) joint[labels[i], confident[i]]++;
        for (int k = 0; k < classCount; k++) joint[k, k] = Math.Max(joint[k, k], 1);
        return joint;
    }

    /// <summary>
    /// The confident joint rescaled so that each row sums to the number of samples with that given label (and so the
    /// whole to N), rounded to counts that keep each row's total: an estimate of the joint counts of given and true
    /// labels.
    /// </summary>
    public static long[,] Calibrate(long[,] confidentJoint, int[] labels)
    {
        int k = confidentJoint.GetLength(0);
        var counts = new long[k];
        foreach (int l in labels) counts[l]++;
        var result = new long[k, k];
        var row = new double[k];
        for (int i = 0; i < k; i++)
        {
            double total = 0;
            for (int j = 0; j < k; j++) total += confidentJoint[i, j];
            for (int j = 0; j < k; j++) row[j] = total == 0 ? 0 : confidentJoint[i, j] / total * counts[i];
            var rounded = RoundPreservingSum(row);
            for (int j = 0; j < k; j++) result[i, j] = rounded[j];
        }
        return result;
    }

    /// <summary>
    /// What a calibrated joint (rows given labels, columns true labels) says about the noise, as a
    /// <see cref="NoiseSummary"/> over true classes: the estimated share of wrong labels, the rate per true class and
    /// the transition matrix P(given | true).
    /// </summary>
    public static NoiseSummary EstimateNoise(long[,] calibratedJoint)
    {
        int k = calibratedJoint.GetLength(0);
        var byTrue = new long[k, k];
        for (int given = 0; given < k; given++)
            for (int t = 0; t < k; t++) byTrue[t, given] = calibratedJoint[given, t];
        return new NoiseSummary(byTrue);
    }

    /// <summary>
    /// Pruning by noise rate: for each given class i and each other class j, the calibrated joint's count for
    /// (given i, true j) of the samples labeled i whose margin p_j − p_i is largest are flagged. At least
    /// <paramref name="minExamplesPerClass"/> samples of each given class stay unflagged, and a sample whose given
    /// label is also its most probable class is never flagged.
    /// </summary>
    public static bool[] FindIssues(int[] labels, float[] probabilities, int classCount, long[,] calibratedJoint, int minExamplesPerClass = 1)
    {
        Check(labels, probabilities, classCount);
        var prune = KeepAtLeast(calibratedJoint, minExamplesPerClass);
        var flagged = new bool[labels.Length];
        var members = Enumerable.Range(0, classCount).Select(_ => new List<int>()).ToArray();
        for (int i = 0; i < labels.Length; i++) members[labels[i]].Add(i);
        for (int given = 0; given < classCount; given++)
        {
            var samples = members[given];
            if (samples.Count <= minExamplesPerClass) continue;
            for (int t = 0; t < classCount; t++)
            {
                long take = prune[given, t];
                if (t == given || take <= 0) continue;
                var byMargin = samples.OrderByDescending(i => probabilities[(long)i * classCount + t] - probabilities[(long)i * classCount + given])
                    .ThenBy(i => i).Take((int)Math.Min(take, samples.Count));
                foreach (int i in byMargin) flagged[i] = true;
            }
        }
        for (int i = 0; i < labels.Length; i++)
            if (flagged[i] && ArgMax(probabilities, i, classCount, favour: labels[i]) == labels[i]) flagged[i] = false;
        return flagged;
    }

    /// <summary>Self-confidence: the predicted probability of the given label (low: probably wrong).</summary>
    public static double[] SelfConfidence(int[] labels, float[] probabilities, int classCount)
    {
        Check(labels, probabilities, classCount);
        return labels.Select((l, i) => (double)probabilities[(long)i * classCount + l]).ToArray();
    }

    /// <summary>
    /// Normalised margin: (p_given − max over other classes p_k + 1) / 2, in [0, 1] (low: another class is more
    /// probable than the given one by a wide margin).
    /// </summary>
    public static double[] NormalizedMargin(int[] labels, float[] probabilities, int classCount)
    {
        Check(labels, probabilities, classCount);
        var score = new double[labels.Length];
        for (int i = 0; i < labels.Length; i++)
        {
            double other = double.NegativeInfinity;
            for (int k = 0; k < classCount; k++)
                if (k != labels[i]) other = Math.Max(other, probabilities[(long)i * classCount + k]);
            score[i] = (probabilities[(long)i * classCount + labels[i]] - other + 1) / 2;
        }
        return score;
    }

    /// <summary>
    /// The counts to prune per (given, true) pair: the calibrated joint with each diagonal raised to at least
    /// <paramref name="n"/>, the increase taken evenly from the nonzero off-diagonal entries of the same given label.
    /// </summary>
    private static long[,] KeepAtLeast(long[,] joint, int n)
    {
        int k = joint.GetLength(0);
        var result = new long[k, k];
        for (int g = 0; g < k; g++)
        {
            long raise = Math.Max(0, n - joint[g, g]);
            int nonzero = 0;
            for (int t = 0; t < k; t++) if (t != g && joint[g, t] != 0) nonzero++;
            for (int t = 0; t < k; t++)
                result[g, t] = t == g ? Math.Max(joint[g, g], n) : (long)Math.Max(0, joint[g, t] - (double)raise / Math.Max(nonzero, 1));
        }
        return result;
    }

    private static int ArgMax(float[] probabilities, int i, int classCount, int favour)
    {
        int best = 0;
        double bestP = double.NegativeInfinity;
        for (int k = 0; k < classCount; k++)
        {
            // The given label wins ties.
            double p = probabilities[(long)i * classCount + k] + (k == favour ? 1e-6 : 0);
            if (p > bestP)
            {
                best = k;
                bestP = p;
            }
        }
        return best;
    }

    /// <summary>Rounds to integers whose sum is the rounded sum of <paramref name="values"/>, moving the entries closest to the next integer.</summary>
    public static long[] RoundPreservingSum(IReadOnlyList<double> values)
    {
        var rounded = values.Select(v => (long)Math.Round(v, MidpointRounding.ToEven)).ToArray();
        long target = (long)Math.Round(values.Sum(), MidpointRounding.ToEven);
        long diff = target - rounded.Sum();
        if (diff == 0) return rounded;
        int step = diff > 0 ? 1 : -1;
        // Raise the entries rounded down the most (or lower those rounded up the most) first.
        var order = Enumerable.Range(0, values.Count).OrderBy(i => step * (rounded[i] - values[i])).ThenBy(i => i).ToArray();
        for (int m = 0; m < Math.Abs(diff); m++) rounded[order[m % order.Length]] += step;
        return rounded;
    }

    private static void Check(int[] labels, float[] probabilities, int classCount)
    {
        if (classCount < 2) throw new ArgumentOutOfRangeException(nameof(classCount), classCount, "at least two classes are needed");
        if (probabilities.LongLength != (long)labels.Length * classCount)
            throw new ArgumentException($"{probabilities.LongLength} probabilities for {labels.Length} samples of {classCount} classes", nameof(probabilities));
        for (int i = 0; i < labels.Length; i++)
            if ((uint)labels[i] >= (uint)classCount)
                throw new ArgumentException($"label {labels[i]} of sample {i} is outside 0..{classCount - 1}", nameof(labels));
    }
}
