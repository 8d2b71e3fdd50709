using TorchSharp;
using Winnow.Models;
using static TorchSharp.torch;

namespace Winnow.SelfSupervised;

/// <summary>SimCLR's projection head g: Linear(d, d) → ReLU → Linear(d, out), as SupContrast and C2D build it.</summary>
public sealed class ProjectionHead : nn.Module<Tensor, Tensor>
{
    private readonly MixedLinear hidden, output;

    /// <summary>Creates the head for <paramref name="inputDimension"/>-d features.</summary>
    public ProjectionHead(int inputDimension, int outputDimension = 128) : base(nameof(ProjectionHead))
    {
        hidden = new MixedLinear(inputDimension, inputDimension);
        output = new MixedLinear(inputDimension, outputDimension);
        OutputDimension = outputDimension;
        RegisterComponents();
    }

    /// <summary>Length of the projection.</summary>
    public int OutputDimension { get; }

    /// <inheritdoc/>
    public override Tensor forward(Tensor features)
    {
        using var scope = NewDisposeScope();
        return output.forward(nn.functional.relu(hidden.forward(features))).MoveToOuterDisposeScope();
    }
}
