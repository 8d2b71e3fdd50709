using System.Reflection;
using System.Text.Json;
using Winnow.Data;
using Winnow.Models;

namespace Winnow.Training;

/// <summary>Whether a pre-trained encoder keeps learning.</summary>
public enum EncoderMode
{
    /// <summary>Every layer trains (Cheng et al.'s "unfixed encoder"; C2D).</summary>
    Finetune,
    /// <summary>The encoder is frozen in eval mode and only the linear head trains (Cheng et al.'s "fixed encoder").</summary>
    Fixed,
}

/// <summary>What a method trains: a classifier on the labels ('winnow train'), or an encoder without them ('winnow pretrain').</summary>
public enum MethodKind
{
    /// <summary>Trains a classifier on the (noisy) labels.</summary>
    Classifier,
    /// <summary>Pre-trains an encoder on the images alone.</summary>
    Pretraining,
}

/// <summary>What a method is built from: the run's model, encoder start, labels' noise, loop options and data shape.</summary>
public sealed record MethodContext
{
    /// <summary>The encoder architecture.</summary>
    public required string Model { get; init; }

    /// <summary>A checkpoint whose encoder starts the networks; null starts from random weights.</summary>
    public string? Encoder { get; init; }

    /// <summary>With <see cref="Encoder"/>: train every layer, or keep the encoder fixed.</summary>
    public EncoderMode EncoderMode { get; init; }

    /// <summary>The noise as given (kind and rate; none for labels from the user).</summary>
    public NoiseSpec Noise { get; init; } = new();

    /// <summary>The noise that per-setting defaults resolve from; null when the labels are the user's and their noise unknown.</summary>
    public NoiseSpec? KnownNoise { get; init; }

    /// <summary>The loop's options (precision settled).</summary>
    public required TrainingOptions Training { get; init; }

    /// <summary>Image channels.</summary>
    public int InputChannels { get; init; } = 1;

    /// <summary>Image height and width (0 when unknown; methods that decode images need them).</summary>
    public (int Height, int Width) ImageSize { get; init; }

    /// <summary>Classes.</summary>
    public int ClassCount { get; init; }

    /// <summary>Training samples (methods with per-sample state need it); 0 when unknown.</summary>
    public int SampleCount { get; init; }

    /// <summary>Whether new networks load <see cref="Encoder"/> (false when a checkpoint will be restored into them).</summary>
    public bool InitialiseEncoder { get; init; } = true;

    /// <summary>Whether the networks start from a pre-trained encoder.</summary>
    public bool FromEncoder => Encoder is not null;

    /// <summary>A new encoder of <see cref="Model"/>, loaded from <see cref="Encoder"/> when asked.</summary>
    public Encoder NewEncoder()
    {
        var encoder = ModelFactory.CreateEncoder(Model, InputChannels);
        if (InitialiseEncoder && Encoder is not null) EncoderCheckpoint.LoadInto(encoder, Encoder);
        return encoder;
    }

    /// <summary>A new classifier: <see cref="NewEncoder"/> and a linear head.</summary>
    public Classifier NewClassifier(bool standardizeFeatures = false) => new(NewEncoder(), ClassCount, standardizeFeatures);
}

/// <summary>One command-line option of a method: its name, help, value and how it sets the method's options record.</summary>
/// <param name="Name">The option, e.g. "--lambda-u".</param>
/// <param name="Description">Help text, with the default.</param>
/// <param name="Kind">Flag, integer, number or choice.</param>
/// <param name="Choices">The accepted values of a choice.</param>
/// <param name="Aliases">Other spellings accepted (earlier names).</param>
/// <param name="Apply">Returns the options record with the value set (the value is bool, int, double or string by kind).</param>
public sealed record MethodOption(string Name, string Description, MethodOptionKind Kind, IReadOnlyList<string> Choices, IReadOnlyList<string> Aliases,
    Func<object, object, object> Apply);

/// <summary>The value type of a <see cref="MethodOption"/>.</summary>
public enum MethodOptionKind
{
    /// <summary>A switch: present or not.</summary>
    Flag,
    /// <summary>An integer.</summary>
    Integer,
    /// <summary>A real number.</summary>
    Number,
    /// <summary>One of a list of words.</summary>
    Choice,
}

/// <summary>
/// A training method as the registry knows it: its name, its options record (documented defaults, resolved from the
/// run's context), its command-line options and how to build it. Implement <see cref="MethodDefinition{TOptions}"/>
/// in the method's folder; <see cref="MethodRegistry"/> finds it.
/// </summary>
public interface IMethodDefinition
{
    /// <summary>The name given to --method.</summary>
    string Name { get; }

    /// <summary>One line for --help.</summary>
    string Summary { get; }

    /// <summary>Classifier or pre-training.</summary>
    MethodKind Kind { get; }

    /// <summary>Where the method appears in lists (lower first).</summary>
    int ListOrder { get; }

    /// <summary>The method's own command-line options.</summary>
    IReadOnlyList<MethodOption> Options { get; }

    /// <summary>The options field of options.json in runs made before the registry, for this method; null if none.</summary>
    string? LegacyOptionsField { get; }

    /// <summary>The options record with its documented defaults.</summary>
    object DefaultOptions();

    /// <summary>Reads the options record from its JSON in options.json (null: the defaults).</summary>
    object ReadOptions(JsonElement? json);

    /// <summary>Writes the options record as options.json holds it.</summary>
    JsonElement WriteOptions(object options);

    /// <summary>Fills the per-setting values left open from the context (noise, encoder start) and checks every value; throws a <see cref="WinnowException"/> naming a bad one.</summary>
    object Resolve(object options, MethodContext context);

    /// <summary>Builds the method on new networks (seed torch first) from resolved options.</summary>
    ITrainingMethod Create(object options, MethodContext context);
}

/// <summary>The typed base of a method's definition: implement the typed members, the registry calls the untyped ones.</summary>
/// <typeparam name="TOptions">The method's options record.</typeparam>
public abstract class MethodDefinition<TOptions> : IMethodDefinition where TOptions : class, new()
{
    /// <inheritdoc/>
    public abstract string Name { get; }

    /// <inheritdoc/>
    public abstract string Summary { get; }

    /// <inheritdoc/>
    public virtual MethodKind Kind => MethodKind.Classifier;

    /// <inheritdoc/>
    public virtual int ListOrder => 100;

    /// <inheritdoc/>
    public virtual string? LegacyOptionsField => null;

    /// <inheritdoc/>
    public virtual IReadOnlyList<MethodOption> Options => [];

    /// <summary>Fills per-setting values from the context and validates.</summary>
    protected virtual TOptions Resolve(TOptions options, MethodContext context) => options;

    /// <summary>Builds the method.</summary>
    protected abstract ITrainingMethod Create(TOptions options, MethodContext context);

    /// <inheritdoc/>
    public object DefaultOptions() => new TOptions();

    /// <inheritdoc/>
    public object ReadOptions(JsonElement? json) =>
        json is { ValueKind: JsonValueKind.Object } element ? element.Deserialize<TOptions>(RunFolder.Json) ?? new TOptions() : new TOptions();

    /// <inheritdoc/>
    public JsonElement WriteOptions(object options) => JsonSerializer.SerializeToElement(Typed(options), RunFolder.Json);

    /// <inheritdoc/>
    public object Resolve(object options, MethodContext context) => Resolve(Typed(options), context);

    /// <inheritdoc/>
    public ITrainingMethod Create(object options, MethodContext context) => Create(Typed(options), context);

    private TOptions Typed(object options) => options as TOptions
        ?? throw new ArgumentException($"method '{Name}' takes {typeof(TOptions).Name}, got {options.GetType().Name}", nameof(options));

    /// <summary>A switch that sets the options when given.</summary>
    protected static MethodOption Flag(string name, string description, Func<TOptions, TOptions> set, params string[] aliases) =>
        new(name, description, MethodOptionKind.Flag, [], aliases, (o, _) => set((TOptions)o));

    /// <summary>An integer option.</summary>
    protected static MethodOption Integer(string name, string description, Func<TOptions, int, TOptions> set, params string[] aliases) =>
        new(name, description, MethodOptionKind.Integer, [], aliases, (o, v) => set((TOptions)o, (int)v));

    /// <summary>A real-number option.</summary>
    protected static MethodOption Number(string name, string description, Func<TOptions, double, TOptions> set, params string[] aliases) =>
        new(name, description, MethodOptionKind.Number, [], aliases, (o, v) => set((TOptions)o, (double)v));

    /// <summary>An option whose value is one of <paramref name="choices"/>.</summary>
    protected static MethodOption Choice(string name, string description, string[] choices, Func<TOptions, string, TOptions> set, params string[] aliases) =>
        new(name, description, MethodOptionKind.Choice, choices, aliases, (o, v) => set((TOptions)o, (string)v));

    /// <summary>Refuses a fixed encoder: only a linear head on a frozen encoder (ce) trains with one.</summary>
    protected void RequireTrainableEncoder(MethodContext context)
    {
        if (context.EncoderMode == EncoderMode.Fixed)
            throw new WinnowException($"--encoder-mode fixed trains a linear head with cross-entropy (--method ce); {Name} trains the encoder");
    }
}

/// <summary>
/// The training methods Winnow has: every non-abstract <see cref="IMethodDefinition"/> of this library, found by
/// reflection, so that adding a method touches its own folder only.
/// </summary>
public static class MethodRegistry
{
    /// <summary>Every method, in list order.</summary>
    public static IReadOnlyList<IMethodDefinition> All { get; } = typeof(MethodRegistry).Assembly.GetTypes()
        .Where(t => typeof(IMethodDefinition).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false } && t.GetConstructor(Type.EmptyTypes) is not null)
        .Select(t => (IMethodDefinition)Activator.CreateInstance(t)!)
        .OrderBy(d => d.ListOrder).ThenBy(d => d.Name, StringComparer.Ordinal).ToArray();

    /// <summary>The methods of one kind, in list order.</summary>
    public static IReadOnlyList<IMethodDefinition> OfKind(MethodKind kind) => All.Where(d => d.Kind == kind).ToArray();

    /// <summary>The method named <paramref name="name"/>; an unknown name is an error listing the known ones.</summary>
    public static IMethodDefinition Get(string name) =>
        All.FirstOrDefault(d => d.Name == name) ?? throw new WinnowException($"unknown method '{name}'; expected one of {string.Join(", ", All.Select(d => d.Name))}");
}
