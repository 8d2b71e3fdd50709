using TorchSharp;
using static TorchSharp.torch;

namespace Winnow.Training;

/// <summary>
/// airbench's lookahead: an average of a network's floating-point state (weights and batch-norm statistics) that,
/// every <see cref="Period"/> steps, moves towards the network, a ← a + (1 − d)(w − a), after which the network takes
/// the average (w ← a). The decay d = 0.95^Period · progress³ grows from 0 (the average follows the network) to about
/// 0.77 at the end, so late, noisy steps are smoothed; <see cref="Finish"/> at the last step leaves the network at the
/// average. The average is part of the run's state: checkpoints hold it (<see cref="State"/>), so a resumed run
/// continues exactly.
/// </summary>
public sealed class LookaheadAveraging : IDisposable
{
    private readonly List<(string Name, Tensor Live, Tensor Average)> entries = [];

    /// <summary>Averages the floating-point state of each named network.</summary>
    public LookaheadAveraging(IEnumerable<(string Name, nn.Module Network)> networks, int period)
    {
        if (period < 1) throw new ArgumentOutOfRangeException(nameof(period), period, "a lookahead period is at least one step");
        Period = period;
        using var _ = no_grad();
        foreach (var (name, net) in networks)
            foreach (var (key, value) in net.state_dict())
                if (value.is_floating_point()) entries.Add(($"{name}.{key}", value, value.detach().clone().DetachFromDisposeScope()));
    }

    /// <summary>Steps between updates.</summary>
    public int Period { get; }

    /// <summary>The decay at the fraction <paramref name="progress"/> of the run: 0.95^Period · progress³.</summary>
    public double DecayAt(double progress) => Math.Pow(0.95, Period) * Math.Pow(Math.Clamp(progress, 0, 1), 3);

    /// <summary>After the run's <paramref name="step"/>-th step (1-based): on every <see cref="Period"/>-th, updates the average and sets the network to it.</summary>
    public void AfterStep(long step, double progress)
    {
        if (step % Period == 0) Update(DecayAt(progress));
    }

    /// <summary>The last step of the run: the average takes the network's state with decay 1 (unchanged) and the network takes the average.</summary>
    public void Finish() => Update(1.0);

    private void Update(double decay)
    {
        using var _ = no_grad();
        using Scalar keep = decay.ToScalar(), weight = (1 - decay).ToScalar();
        foreach (var (_, live, average) in entries)
        {
            average.mul_(keep).add_(live, weight);
            live.copy_(average);
        }
    }

    /// <summary>The average, by "network.key", for a checkpoint.</summary>
    public IEnumerable<(string Name, Tensor Value)> State() => entries.Select(e => (e.Name, e.Average));

    /// <summary>Restores the average written by <see cref="State"/>; entries the checkpoint lacks start from the network's state.</summary>
    public void LoadState(IReadOnlyDictionary<string, Tensor> state)
    {
        using var _ = no_grad();
        foreach (var (name, live, average) in entries)
            average.copy_(state.TryGetValue(name, out var saved) ? saved : live);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var e in entries) e.Average.Dispose();
        entries.Clear();
    }
}
