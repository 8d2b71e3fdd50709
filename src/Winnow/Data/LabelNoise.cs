namespace Winnow.Data;

/// <summary>
/// A way of corrupting labels. Implementations are deterministic: the same labels and seed give the same result.
/// </summary>
public interface ILabelNoise
{
    /// <summary>A short description such as "symmetric 40% (true class included)".</summary>
    string Description { get; }

    /// <summary>Returns noisy labels for <paramref name="dataset"/>, whose own labels are taken as the true ones.</summary>
    int[] Apply(ImageDataset dataset, int seed);
}

/// <summary>
/// Symmetric noise. A fraction <see cref="Rate"/> of the samples (exactly ⌊rate·N⌋, picked by a seeded shuffle)
/// gets a uniformly drawn label. With <see cref="IncludeTrueClass"/> (the DivideMix / C2D convention) the draw is
/// over all C classes, so about rate·(C−1)/C of the labels end up wrong; without it (Cheng et al.) the draw is over
/// the C−1 other classes and exactly ⌊rate·N⌋ labels are wrong. (Cheng et al.'s code flips each sample
/// independently with probability rate; we pick an exact count instead, the intent of "a noise rate of r".)
/// </summary>
/// <param name="Rate">Fraction of samples whose label is redrawn, in [0, 1].</param>
/// <param name="IncludeTrueClass">Whether the redrawn label may be the true one.</param>
public sealed record SymmetricNoise(double Rate, bool IncludeTrueClass = true) : ILabelNoise
{
    /// <inheritdoc/>
    public string Description => $"symmetric {Rate:P0} (true class {(IncludeTrueClass ? "included" : "excluded")})";

    /// <inheritdoc/>
    public int[] Apply(ImageDataset dataset, int seed)
    {
        NoiseChecks.Rate(Rate);
        int c = dataset.ClassCount;
        var rng = new Random(seed);
        int[] noisy = (int[])dataset.Labels.Clone();
        foreach (int i in NoiseChecks.PickExactly(rng, noisy.Length, Rate))
        {
            if (IncludeTrueClass) noisy[i] = rng.Next(c);
            else
            {
                int other = rng.Next(c - 1);
                noisy[i] = other >= noisy[i] ? other + 1 : other;
            }
        }
        return noisy;
    }
}

/// <summary>
/// Asymmetric (class-conditional) noise, DivideMix's convention: exactly ⌊rate·N⌋ samples picked by a seeded
/// shuffle over the whole set get the label <c>Map[true label]</c>; classes that map to themselves stay clean.
/// </summary>
/// <param name="Rate">Fraction of all samples that are candidates for flipping.</param>
/// <param name="Map">The class each class flips to.</param>
/// <param name="MapName">Name of the map, for descriptions.</param>
public sealed record AsymmetricNoise(double Rate, int[] Map, string MapName) : ILabelNoise
{
    /// <summary>CIFAR-10: truck→automobile, bird→airplane, deer→horse, cat↔dog.</summary>
    public static int[] Cifar10Map { get; } = [0, 1, 0, 5, 7, 3, 6, 7, 8, 1];

    /// <summary>Fashion-MNIST (GCE's map): ankle boot→sneaker, sneaker→sandal, pullover→shirt, coat↔dress.</summary>
    public static int[] FashionMnistMap { get; } = [0, 1, 6, 4, 3, 5, 6, 5, 8, 7];

    /// <summary>The asymmetric noise that fits a dataset of the given name ("cifar10…" or "fashion-mnist…").</summary>
    public static AsymmetricNoise For(string datasetName, double rate) =>
        datasetName.StartsWith("cifar10", StringComparison.OrdinalIgnoreCase) ? new(rate, Cifar10Map, "CIFAR-10")
        : datasetName.StartsWith("fashion-mnist", StringComparison.OrdinalIgnoreCase) ? new(rate, FashionMnistMap, "Fashion-MNIST")
        : throw new WinnowException($"no asymmetric noise map is defined for dataset '{datasetName}' (maps exist for CIFAR-10 and Fashion-MNIST)");

    /// <summary>
    /// The asymmetric noise that fits <paramref name="dataset"/>: chosen by its class names when they are CIFAR-10's or
    /// Fashion-MNIST's in any order (an image folder sorts its class folders by name, "ankle boot" first, so the map is
    /// re-indexed through the names; case, spaces and punctuation are ignored), else by the dataset's name for a
    /// dataset without names of its own (no image paths) or whose classes are "0" … "9"; an image folder with other classes
    /// has no map.
    /// </summary>
    public static AsymmetricNoise For(ImageDataset dataset, double rate)
    {
        foreach (var (names, map, mapName) in new[] { (Cifar10Reader.Classes, Cifar10Map, "CIFAR-10"), (MnistFamily.FashionMnistClasses, FashionMnistMap, "Fashion-MNIST") })
        {
            var known = names.Select(Plain).ToList();
            var position = dataset.ClassNames.Select(n => known.IndexOf(Plain(n))).ToArray();
            if (position.Length != known.Count || position.Distinct().Count() != known.Count || position.Contains(-1)) continue;
            // Class c of the dataset is known class position[c]; it flips to the dataset's class named map[position[c]].
            var mapped = position.Select(p => Array.IndexOf(position, map[p])).ToArray();
            return new AsymmetricNoise(rate, mapped, mapName);
        }
        // A folder of the classes "0" … "9" in order (a common export of CIFAR-10 or Fashion-MNIST) keeps the map its
        // name chooses, by index.
        bool digits = dataset.ClassNames.SequenceEqual(Enumerable.Range(0, dataset.ClassCount).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (dataset.ItemPaths is not null && !digits)
            throw new WinnowException($"no asymmetric noise map fits the classes of '{dataset.Name}' ({string.Join(", ", dataset.ClassNames)}); maps exist for CIFAR-10's and Fashion-MNIST's ten classes");
        return For(dataset.Name, rate);
    }

    private static string Plain(string name) => new(name.Where(char.IsLetterOrDigit).Select(char.ToLowerInvariant).ToArray());

    /// <inheritdoc/>
    public string Description => $"asymmetric {Rate:P0} ({MapName} map)";

    /// <inheritdoc/>
    public int[] Apply(ImageDataset dataset, int seed)
    {
        NoiseChecks.Rate(Rate);
        if (Map.Length != dataset.ClassCount) throw new WinnowException($"the {MapName} noise map has {Map.Length} classes, the dataset {dataset.ClassCount}");
        var rng = new Random(seed);
        int[] noisy = (int[])dataset.Labels.Clone();
        foreach (int i in NoiseChecks.PickExactly(rng, noisy.Length, Rate)) noisy[i] = Map[dataset.Labels[i]];
        return noisy;
    }
}

/// <summary>
/// Instance-dependent ("part-dependent") noise after Xia et al. 2020: each sample gets a flip rate
/// q_i ~ N(rate, 0.1²) truncated to (0, 1); each class y has a random projection W_y ~ N(0, 1) of size D × C;
/// the flip distribution of sample i is q_i · softmax(x_i W_y) over the other classes and 1 − q_i on its own,
/// where x_i is the image scaled to [0, 1] and flattened. The mean noise rate is close to <see cref="Rate"/>.
/// </summary>
/// <param name="Rate">Mean flip rate.</param>
public sealed record InstanceDependentNoise(double Rate) : ILabelNoise
{
    /// <inheritdoc/>
    public string Description => $"instance-dependent {Rate:P0} (Xia et al. 2020)";

    /// <inheritdoc/>
    public int[] Apply(ImageDataset dataset, int seed)
    {
        NoiseChecks.Rate(Rate);
        var rng = new Random(seed);
        int n = dataset.Count, c = dataset.ClassCount, d = dataset.ImageSize;
        var w = new float[c][];
        for (int y = 0; y < c; y++)
        {
            w[y] = new float[d * c];
            for (int j = 0; j < w[y].Length; j++) w[y][j] = (float)Gaussian(rng);
        }
        int[] noisy = new int[n];
        var logits = new double[c];
        for (int i = 0; i < n; i++)
        {
            double q;
            do q = Rate + 0.1 * Gaussian(rng); while (q <= 0 || q >= 1);
            int y = dataset.Labels[i];
            var img = dataset.Image(i);
            Array.Clear(logits);
            float[] wy = w[y];
            for (int p = 0; p < d; p++)
            {
                float x = img[p] / 255f;
                if (x == 0) continue;
                int row = p * c;
                for (int k = 0; k < c; k++) logits[k] += x * wy[row + k];
            }
            double max = double.NegativeInfinity;
            for (int k = 0; k < c; k++) if (k != y) max = Math.Max(max, logits[k]);
            double z = 0;
            for (int k = 0; k < c; k++) { logits[k] = k == y ? 0 : Math.Exp(logits[k] - max); z += logits[k]; }
            double u = rng.NextDouble(), acc = 1 - q;
            int chosen = y;
            if (u >= acc)
            {
                for (int k = 0; k < c; k++)
                {
                    if (k == y) continue;
                    acc += q * logits[k] / z;
                    chosen = k;
                    if (u < acc) break;
                }
            }
            noisy[i] = chosen;
        }
        return noisy;
    }

    private static double Gaussian(Random rng)
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}

internal static class NoiseChecks
{
    public static void Rate(double rate)
    {
        if (!(rate >= 0 && rate <= 1)) throw new WinnowException($"noise rate must be in [0, 1], got {rate}");
    }

    /// <summary>The first ⌊rate·n⌋ indices of a seeded Fisher–Yates shuffle of 0..n−1.</summary>
    public static IEnumerable<int> PickExactly(Random rng, int n, double rate)
    {
        int[] order = Enumerable.Range(0, n).ToArray();
        rng.Shuffle(order);
        int count = (int)Math.Floor(rate * n + 1e-9);
        return order.Take(count);
    }
}

/// <summary>The kinds of synthetic label noise Winnow can make.</summary>
public enum NoiseKind
{
    /// <summary>No noise: the labels are the dataset's own.</summary>
    None,
    /// <summary><see cref="SymmetricNoise"/>.</summary>
    Symmetric,
    /// <summary><see cref="AsymmetricNoise"/>.</summary>
    Asymmetric,
    /// <summary><see cref="InstanceDependentNoise"/>.</summary>
    Instance,
}

/// <summary>Builds an <see cref="ILabelNoise"/> from a kind and a rate.</summary>
public static class LabelNoiseFactory
{
    /// <summary>The noise of <paramref name="kind"/> at <paramref name="rate"/> for the named dataset; null for <see cref="NoiseKind.None"/>.</summary>
    public static ILabelNoise? Create(NoiseKind kind, double rate, ImageDataset dataset, bool includeTrueClass = true) => kind switch
    {
        NoiseKind.None => null,
        NoiseKind.Symmetric => new SymmetricNoise(rate, includeTrueClass),
        NoiseKind.Asymmetric => AsymmetricNoise.For(dataset, rate),
        NoiseKind.Instance => new InstanceDependentNoise(rate),
        _ => throw new ArgumentOutOfRangeException(nameof(kind)),
    };
}
