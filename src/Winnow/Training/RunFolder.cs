using System.Text.Json;
using System.Text.Json.Serialization;

namespace Winnow.Training;

/// <summary>
/// The output folder of a run: options.json (everything needed to repeat it, seed included), metrics.csv (a row per
/// epoch), noisy_labels.csv, last.ckpt and best.ckpt, summary.json. Every file is written atomically. A run holds the
/// folder's <see cref="FolderLock"/> while it writes there.
/// </summary>
public sealed class RunFolder
{
    /// <summary>JSON settings of every file Winnow writes: indented, camel-case, enums as strings.</summary>
    public static JsonSerializerOptions Json { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Uses (and creates) the folder at <paramref name="path"/>.</summary>
    public RunFolder(string path) : this(path, create: true) { }

    private RunFolder(string path, bool create)
    {
        Path = System.IO.Path.GetFullPath(path);
        if (create) Directory.CreateDirectory(Path);
    }

    /// <summary>The run folder at <paramref name="path"/>, to read: an error naming it when it does not exist (never created).</summary>
    public static RunFolder Existing(string path) =>
        Directory.Exists(path) ? new RunFolder(path, create: false) : throw new DataFormatException(path, "folder not found; expected the folder of a 'winnow train' run");

    /// <summary>Refuses <paramref name="path"/> for a new run when it already holds one: a one-line error saying how to continue that one instead.</summary>
    public static void RequireNoRun(string path)
    {
        if (File.Exists(System.IO.Path.Combine(path, "options.json")))
            throw new WinnowException($"{path} already holds a run; continue it with --resume {path} or choose another --out");
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>options.json.</summary>
    public string OptionsFile => System.IO.Path.Combine(Path, "options.json");

    /// <summary>metrics.csv.</summary>
    public string MetricsFile => System.IO.Path.Combine(Path, "metrics.csv");

    /// <summary>A checkpoint the method asked the loop to keep (<see cref="ITrainingMethod.CheckpointToKeep"/>): NAME.ckpt.</summary>
    public string KeptCheckpoint(string name) => System.IO.Path.Combine(Path, name + ".ckpt");

    /// <summary>The name under which a method keeps its networks at the end of its warm-up (<see cref="WarmupCheckpoint"/>).</summary>
    public const string WarmupCheckpointName = "warmup";

    /// <summary>warmup.ckpt: the networks at the end of a method's warm-up, where the method keeps them.</summary>
    public string WarmupCheckpoint => KeptCheckpoint(WarmupCheckpointName);

    /// <summary>noisy_labels.csv.</summary>
    public string NoisyLabelsFile => System.IO.Path.Combine(Path, "noisy_labels.csv");

    /// <summary>excluded_samples.csv: the training samples left out (<c>--exclude</c>), copied so that a resumed run leaves out the same.</summary>
    public string ExcludedSamplesFile => System.IO.Path.Combine(Path, "excluded_samples.csv");

    /// <summary>last.ckpt: the state after the last finished epoch, for --resume.</summary>
    public string LastCheckpoint => System.IO.Path.Combine(Path, "last.ckpt");

    /// <summary>best.ckpt: the state after the epoch of highest test accuracy.</summary>
    public string BestCheckpoint => System.IO.Path.Combine(Path, "best.ckpt");

    /// <summary>summary.json: Best, Last and timings.</summary>
    public string SummaryFile => System.IO.Path.Combine(Path, "summary.json");

    /// <summary>Writes <paramref name="value"/> as JSON to a file of the folder, atomically.</summary>
    public void WriteJson<T>(string file, T value) => AtomicFile.WriteAllText(file, JsonSerializer.Serialize(value, Json) + "\n");

    /// <summary>Reads a JSON file of the folder.</summary>
    public T ReadJson<T>(string file)
    {
        if (!File.Exists(file)) throw new DataFormatException(file, "file not found");
        try { return JsonSerializer.Deserialize<T>(File.ReadAllText(file), Json) ?? throw new DataFormatException(file, "empty JSON document"); }
        catch (JsonException e) { throw new DataFormatException(file, $"invalid JSON at line {e.LineNumber + 1}: expected a Winnow {typeof(T).Name}", e); }
    }
}
