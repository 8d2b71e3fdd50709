using System.Text;
using static TorchSharp.torch;

namespace Winnow.Models;

/// <summary>
/// Winnow's checkpoint file: a JSON metadata block and named tensors (any dtype, any shape), in one binary file
/// written atomically. Layout: "WINNOWCK", int32 version, int32 JSON length, JSON (UTF-8), int32 tensor count, then
/// per tensor: name, int32 dtype, int32 rank, int64 dims…, int64 byte count, raw little-endian bytes.
/// </summary>
public sealed class Checkpoint : IDisposable
{
    private static readonly byte[] Magic = "WINNOWCK"u8.ToArray();
    private const int Version = 1;

    /// <summary>Creates a checkpoint in memory.</summary>
    public Checkpoint(string metadataJson, Dictionary<string, Tensor> tensors)
    {
        MetadataJson = metadataJson;
        Tensors = tensors;
    }

    /// <summary>The metadata, as JSON.</summary>
    public string MetadataJson { get; }

    /// <summary>The file it was read from (null for one made in memory), for errors that name it.</summary>
    public string? SourcePath { get; private init; }

    /// <summary>The tensors by name (on the CPU, detached from any dispose scope).</summary>
    public Dictionary<string, Tensor> Tensors { get; }

    /// <summary>The tensors whose names start with <paramref name="prefix"/>, with the prefix removed.</summary>
    public Dictionary<string, Tensor> WithPrefix(string prefix) =>
        Tensors.Where(kv => kv.Key.StartsWith(prefix, StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key[prefix.Length..], kv => kv.Value);

    /// <summary>Writes metadata and tensors to <paramref name="path"/> atomically.</summary>
    public static void Save(string path, string metadataJson, IEnumerable<(string Name, Tensor Value)> tensors)
    {
        AtomicFile.Write(path, tmp =>
        {
            using var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
            using var w = new BinaryWriter(stream, Encoding.UTF8);
            w.Write(Magic);
            w.Write(Version);
            byte[] json = Encoding.UTF8.GetBytes(metadataJson);
            w.Write(json.Length);
            w.Write(json);
            var list = tensors.ToList();
            w.Write(list.Count);
            foreach (var (name, value) in list)
            {
                using var t = value.detach().cpu().contiguous();
                w.Write(name);
                w.Write((int)t.dtype);
                w.Write((int)t.dim());
                foreach (long d in t.shape) w.Write(d);
                var bytes = t.bytes;
                w.Write((long)bytes.Length);
                w.Write(bytes);
            }
            w.Flush();
            stream.Flush(flushToDisk: true);
        });
    }

    /// <summary>Reads a checkpoint; a missing, foreign or damaged file gives a one-line error naming it.</summary>
    public static Checkpoint Load(string path) => Read(path, withTensors: true);

    /// <summary>Reads the metadata of a checkpoint only, with the errors of <see cref="Load"/>.</summary>
    public static string ReadMetadata(string path) => Read(path, withTensors: false).MetadataJson;

    private static Checkpoint Read(string path, bool withTensors)
    {
        if (!File.Exists(path)) throw new DataFormatException(path, "checkpoint not found");
        var tensors = new Dictionary<string, Tensor>();
        try
        {
            using var stream = File.OpenRead(path);
            using var r = new BinaryReader(stream, Encoding.UTF8);
            if (!r.ReadBytes(Magic.Length).AsSpan().SequenceEqual(Magic)) throw new DataFormatException(path, "not a Winnow checkpoint (bad magic)");
            int version = r.ReadInt32();
            if (version != Version) throw new DataFormatException(path, $"checkpoint format version {version}, expected {Version}");
            int jsonLength = r.ReadInt32();
            if (jsonLength < 0 || jsonLength > stream.Length) throw new DataFormatException(path, "damaged checkpoint (metadata length)");
            string json = Encoding.UTF8.GetString(r.ReadBytes(jsonLength));
            int count = withTensors ? r.ReadInt32() : 0;
            for (int i = 0; i < count; i++)
            {
                string name = r.ReadString();
                int code = r.ReadInt32();
                long elementSize = ElementSize((ScalarType)code);
                if (elementSize == 0) throw new DataFormatException(path, $"damaged checkpoint (tensor '{name}' has unknown element type {code})");
                int rank = r.ReadInt32();
                if (rank < 0 || rank > 8) throw new DataFormatException(path, $"damaged checkpoint (tensor '{name}' has rank {rank})");
                var shape = new long[rank];
                long expected = elementSize;
                for (int d = 0; d < rank; d++)
                {
                    shape[d] = r.ReadInt64();
                    if (shape[d] < 0 || shape[d] > stream.Length) throw new DataFormatException(path, $"damaged checkpoint (tensor '{name}' has dimension {shape[d]})");
                    expected = checked(expected * shape[d]);
                }
                long byteCount = r.ReadInt64();
                if (byteCount != expected) throw new DataFormatException(path, $"damaged checkpoint (tensor '{name}' holds {byteCount} bytes, its shape needs {expected})");
                if (byteCount > stream.Length - stream.Position)
                    throw new DataFormatException(path, $"truncated checkpoint (tensor '{name}' needs {byteCount} bytes)");
                var t = empty(shape, (ScalarType)code).DetachFromDisposeScope();
                tensors[name] = t;
                t.bytes = r.ReadBytes((int)byteCount);
            }
            return new Checkpoint(json, tensors) { SourcePath = path };
        }
        catch (Exception e)
        {
            foreach (var t in tensors.Values) t.Dispose();
            // Errors of the file's content name it; failures to read it (access, I/O, memory) keep their own message.
            if (e is EndOfStreamException || e is not (DataFormatException or OutOfMemoryException or UnauthorizedAccessException or IOException))
                throw new DataFormatException(path, e is EndOfStreamException ? "truncated checkpoint" : $"damaged checkpoint ({e.Message.Split('\n', 2)[0].Trim()})", e);
            throw;
        }
    }

    /// <summary>Bytes per element of the element types a checkpoint may hold; 0 for any other code.</summary>
    private static long ElementSize(ScalarType type) => type switch
    {
        ScalarType.Float64 or ScalarType.Int64 => 8,
        ScalarType.Float32 or ScalarType.Int32 => 4,
        ScalarType.BFloat16 or ScalarType.Float16 or ScalarType.Int16 => 2,
        ScalarType.Int8 or ScalarType.Byte or ScalarType.Bool => 1,
        _ => 0,
    };

    /// <summary>Copies the tensors into the network's parameters and buffers; every key must match in name and shape.</summary>
    public static void LoadNetwork(TorchSharp.torch.nn.Module net, IReadOnlyDictionary<string, Tensor> tensors, string what)
    {
        var own = net.state_dict();
        foreach (var (key, target) in own)
        {
            if (!tensors.TryGetValue(key, out var source)) throw new WinnowException($"the checkpoint lacks '{key}' of network '{what}'");
            if (!source.shape.SequenceEqual(target.shape))
                throw new WinnowException($"'{key}' of network '{what}' has shape [{string.Join(",", source.shape)}] in the checkpoint, expected [{string.Join(",", target.shape)}]");
            target.copy_(source);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (var t in Tensors.Values) t.Dispose();
    }
}

/// <summary>What a checkpoint says about itself.</summary>
/// <param name="Method">The method that wrote it.</param>
/// <param name="CompletedEpochs">Epochs finished when it was written.</param>
/// <param name="Networks">Names of the networks it holds.</param>
/// <param name="TestAccuracies">
/// The exact test accuracy of each completed epoch, first to last (metrics.csv rounds them to 6 digits): what the
/// run's best epoch and summary are decided on when it resumes. Null in checkpoints written before they were recorded.
/// </param>
public sealed record CheckpointState(string Method, int CompletedEpochs, string[] Networks, double[]? TestAccuracies = null);
