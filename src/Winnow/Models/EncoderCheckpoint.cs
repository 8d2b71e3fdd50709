using Winnow.Training;

namespace Winnow.Models;

/// <summary>
/// Starts an encoder from the encoder of another run's checkpoint: a SimCLR pre-training run (C2D's recipe) or a
/// classifier trained by Winnow. The checkpoint's own projection head or classifier head is not used, except that
/// <see cref="LoadProjection"/> reads a SimCLR projection head for methods that keep one.
/// </summary>
public static class EncoderCheckpoint
{
    private const string Prefix = "net.encoder.";

    /// <summary>Copies the encoder weights of <paramref name="checkpointPath"/> into <paramref name="encoder"/>.</summary>
    public static void LoadInto(Encoder encoder, string checkpointPath)
    {
        using var checkpoint = Checkpoint.Load(checkpointPath);
        var weights = checkpoint.WithPrefix(Prefix);
        if (weights.Count == 0)
            throw new DataFormatException(checkpointPath, "holds no encoder ('net.encoder.*' tensors); expected a checkpoint of 'winnow pretrain' or 'winnow train'");
        try { using (TorchSharp.torch.no_grad()) TrainingLoop.LoadNetwork(encoder, weights, "encoder"); }
        catch (WinnowException e) { throw new DataFormatException(checkpointPath, $"does not fit a {encoder.Architecture} encoder with this input: {e.Message}", e); }
    }

    /// <summary>Copies a SimCLR projection head ('net.projection.*'), if the checkpoint has one; returns whether it did.</summary>
    public static bool LoadProjection(TorchSharp.torch.nn.Module projection, string checkpointPath)
    {
        using var checkpoint = Checkpoint.Load(checkpointPath);
        var weights = checkpoint.WithPrefix("net.projection.");
        if (weights.Count == 0) return false;
        using (TorchSharp.torch.no_grad()) TrainingLoop.LoadNetwork(projection, weights, "projection");
        return true;
    }

    /// <summary>The architecture recorded in the options.json beside the checkpoint, if there is one.</summary>
    public static string? ArchitectureOf(string checkpointPath)
    {
        string options = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!, "options.json");
        if (!File.Exists(options)) return null;
        return new RunFolder(Path.GetDirectoryName(options)!).ReadJson<RunManifest>(options).Model;
    }
}
