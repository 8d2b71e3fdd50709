namespace Winnow.Methods;

/// <summary>Draws from Beta(α, α), the mixing coefficient of mixup and MixMatch.</summary>
public static class BetaDistribution
{
    /// <summary>A Beta(α, α) draw from two Gamma(α) draws (Marsaglia and Tsang).</summary>
    public static double Sample(double alpha, Random rng)
    {
        double a = GammaSample(alpha, rng), b = GammaSample(alpha, rng);
        return a / (a + b);
    }

    private static double GammaSample(double shape, Random rng)
    {
        if (shape < 1) return GammaSample(shape + 1, rng) * Math.Pow(rng.NextDouble(), 1 / shape);
        double d = shape - 1.0 / 3, c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                double u1 = 1 - rng.NextDouble(), u2 = rng.NextDouble();
                x = Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = rng.NextDouble();
            if (u < 1 - 0.0331 * x * x * x * x || Math.Log(u) < 0.5 * x * x + d * (1 - v + Math.Log(v))) return d * v;
        }
    }
}
