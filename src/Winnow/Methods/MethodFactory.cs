using Winnow.Models;
using Winnow.Training;

namespace Winnow.Methods;

/// <summary>Creates training methods by name.</summary>
public static class MethodFactory
{
    /// <summary>The registered method names with a one-line description.</summary>
    public static IReadOnlyDictionary<string, string> Methods { get; } = new Dictionary<string, string>
    {
        ["ce"] = "cross-entropy on the noisy labels (the baseline)",
    };

    /// <summary>Builds the named method on a new network of architecture <paramref name="model"/>.</summary>
    public static ITrainingMethod Create(string method, string model, int inputChannels, int classCount, TrainingOptions options) => method switch
    {
        "ce" => new CrossEntropyMethod(ModelFactory.CreateClassifier(model, inputChannels, classCount), options),
        _ => throw new WinnowException($"unknown method '{method}'; expected one of {string.Join(", ", Methods.Keys)}"),
    };
}
