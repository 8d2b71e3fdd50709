using System.Text.Json;

namespace Winnow.Models;

/// <summary>
/// Starts an encoder from the encoder of another run's checkpoint, whichever Winnow method wrote it: a SimCLR
/// pre-training run (C2D's recipe) or a classifier trained by 'winnow train'. The checkpoint's own projection head or
/// classifier head is not used, except that <see cref="LoadProjection"/> reads a projection head for methods that keep one.
/// </summary>
/// <remarks>
/// Which encoder: the checkpoint's metadata (<see cref="CheckpointState.Networks"/>) lists its networks in the order
/// the method declares them, and the encoder comes from the first network that holds one. A network named "encoder"
/// is an encoder itself (SimCLR's); any other network holds one when it is a <see cref="Classifier"/>, whose
/// encoder is its "encoder" sub-module. For Winnow's methods that is: simclr → "encoder"; ce, ce-reg and elr → "net";
/// dividemix and elr-plus → "net1". In every case it is the network whose features the method reports
/// (a training method's Features). ELR+'s weight-averaged copies "ema1" and "ema2" only make training
/// targets (its predictions average "net1" and "net2"), so they are never taken.
/// </remarks>
public static class EncoderCheckpoint
{
    /// <summary>The network name under which SimCLR saves its encoder.</summary>
    private const string EncoderNetwork = "encoder";

    /// <summary>The name of a <see cref="Classifier"/>'s encoder sub-module in its state dictionary.</summary>
    private const string ClassifierEncoderModule = "encoder";

    /// <summary>Copies the encoder weights of <paramref name="checkpointPath"/> into <paramref name="encoder"/>.</summary>
    public static void LoadInto(Encoder encoder, string checkpointPath)
    {
        using var checkpoint = Checkpoint.Load(checkpointPath);
        var (network, prefix) = LocateEncoder(checkpoint, checkpointPath);
        try { using (TorchSharp.torch.no_grad()) Checkpoint.LoadNetwork(encoder, checkpoint.WithPrefix(prefix), network); }
        catch (WinnowException e) { throw new DataFormatException(checkpointPath, $"the encoder of network '{network}' does not fit a {encoder.Architecture} encoder with this input: {e.Message}", e); }
    }

    /// <summary>
    /// The network whose encoder <see cref="LoadInto"/> takes (see the remarks of <see cref="EncoderCheckpoint"/>) and
    /// the prefix of that encoder's tensor names; a checkpoint without an encoder is an error naming its networks.
    /// </summary>
    private static (string Network, string Prefix) LocateEncoder(Checkpoint checkpoint, string checkpointPath)
    {
        string[] networks = NetworksOf(checkpoint, checkpointPath);
        foreach (string network in networks)
        {
            string prefix = network == EncoderNetwork ? $"net.{network}." : $"net.{network}.{ClassifierEncoderModule}.";
            if (checkpoint.Tensors.Keys.Any(k => k.StartsWith(prefix, StringComparison.Ordinal))) return (network, prefix);
        }
        string held = networks.Length == 0 ? "no networks" : $"networks {string.Join(", ", networks.Select(n => $"'{n}'"))}, none an encoder or a classifier with one";
        throw new DataFormatException(checkpointPath, $"holds no encoder (it holds {held}); {ExpectedCheckpoint}");
    }

    private const string ExpectedCheckpoint = "expected a checkpoint of 'winnow pretrain' or 'winnow train'";

    /// <summary>The names of the networks the checkpoint's metadata lists.</summary>
    private static string[] NetworksOf(Checkpoint checkpoint, string checkpointPath)
    {
        CheckpointState? state;
        try { state = JsonSerializer.Deserialize<CheckpointState>(checkpoint.MetadataJson, new JsonSerializerOptions(JsonSerializerDefaults.Web)); }
        catch (JsonException e) { throw new DataFormatException(checkpointPath, $"its metadata is not valid JSON (line {e.LineNumber + 1}); {ExpectedCheckpoint}", e); }
        return state?.Networks ?? throw new DataFormatException(checkpointPath, $"its metadata does not list its networks; {ExpectedCheckpoint}");
    }

    /// <summary>Copies a SimCLR projection head ('net.projection.*'), if the checkpoint has one; returns whether it did.</summary>
    public static bool LoadProjection(TorchSharp.torch.nn.Module projection, string checkpointPath)
    {
        using var checkpoint = Checkpoint.Load(checkpointPath);
        var weights = checkpoint.WithPrefix("net.projection.");
        if (weights.Count == 0) return false;
        using (TorchSharp.torch.no_grad()) Checkpoint.LoadNetwork(projection, weights, "projection");
        return true;
    }

    /// <summary>
    /// A new encoder of the architecture that the checkpoint's run recorded (<see cref="ArchitectureOf"/>), for images
    /// of <paramref name="inputChannels"/> channels, with the checkpoint's encoder weights (<see cref="LoadInto"/>), in
    /// eval mode: an encoder to compute features with (probe, kNN label agreement).
    /// </summary>
    public static Encoder Load(string checkpointPath, int inputChannels)
    {
        string model = ArchitectureOf(checkpointPath)
            ?? throw new DataFormatException(checkpointPath, "no options.json beside the checkpoint says which architecture it is");
        var encoder = ModelFactory.CreateEncoder(model, inputChannels);
        try
        {
            LoadInto(encoder, checkpointPath);
        }
        catch
        {
            encoder.Dispose();
            throw;
        }
        encoder.eval();
        return encoder;
    }

    /// <summary>The architecture recorded in the options.json of the run folder that holds the checkpoint, if there is one.</summary>
    public static string? ArchitectureOf(string checkpointPath)
    {
        string options = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(checkpointPath))!, "options.json");
        if (!File.Exists(options)) return null;
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(options));
            return json.RootElement.TryGetProperty("model", out var model) && model.ValueKind == System.Text.Json.JsonValueKind.String ? model.GetString() : null;
        }
        catch (System.Text.Json.JsonException e)
        {
            throw new DataFormatException(options, $"not valid JSON ({e.Message})");
        }
    }
}
