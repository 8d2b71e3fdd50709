using System.Globalization;
using Spectre.Console;
using Winnow.Training;

namespace Winnow.Cli;

/// <summary>An <see cref="IProgress{T}"/> that calls its handler on the reporting thread, at once.</summary>
internal sealed class ImmediateProgress<T>(Action<T> handler) : IProgress<T>
{
    public void Report(T value) => handler(value);
}

/// <summary>Shows a run: a progress bar with ETA on a terminal, and one line per epoch everywhere.</summary>
internal static class TrainingConsole
{
    public static T Run<T>(string title, Func<IProgress<TrainingProgress>, T> work)
    {
        if (!AnsiConsole.Profile.Capabilities.Interactive || Console.IsOutputRedirected)
            return work(new ImmediateProgress<TrainingProgress>(p =>
            {
                if (p.Finished is { } m) Console.WriteLine(EpochLine(m, p.TotalEpochs, title));
                if (p.Note is { } note) Console.WriteLine(note);
            }));
        T result = default!;
        AnsiConsole.Progress()
            .AutoClear(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                ProgressTask? task = null;
                result = work(new ImmediateProgress<TrainingProgress>(p =>
                {
                    task ??= ctx.AddTask(title, maxValue: (double)p.TotalEpochs * p.TotalSteps);
                    if (p.Finished is { } m)
                    {
                        AnsiConsole.WriteLine(EpochLine(m, p.TotalEpochs, title));
                        if (p.Note is { } note) AnsiConsole.WriteLine(note);
                        task.Value = (double)p.Epoch * p.TotalSteps;
                    }
                    else
                    {
                        task.Value = (double)(p.Epoch - 1) * p.TotalSteps + p.Step;
                        task.Description = $"{title} epoch {p.Epoch}/{p.TotalEpochs} loss {p.Loss:F3}";
                    }
                }));
            });
        return result;
    }

    /// <summary>One line per epoch; pre-training runs show their kNN monitor instead of classifier accuracies.</summary>
    public static string EpochLine(EpochMetrics m, int totalEpochs, string title = "train")
    {
        var ci = CultureInfo.InvariantCulture;
        // Seven characters either way, so that columns line up when a figure is missing (no true labels, no noisy ones).
        string Pct(double v) => double.IsNaN(v) ? "     - " : (100 * v).ToString("F2", ci).PadLeft(6) + "%";
        string head = string.Create(ci, $"epoch {m.Epoch.ToString(ci).PadLeft(3)}/{totalEpochs}  lr {m.LearningRate:F4}  loss {m.TrainLoss:F3}  ");
        if (title == "pretrain") return head + string.Create(ci, $"kNN {Pct(m.TestAccuracy)}  {m.Seconds:F1} s");
        return head + string.Create(ci, $"test {Pct(m.TestAccuracy)}  train/noisy {Pct(m.TrainAccuracyNoisy)}  train/true {Pct(m.TrainAccuracyTrue)}  memorised {Pct(m.Memorization)}  ")
            + (double.IsNaN(m.CleanAuc) ? "" : string.Create(ci, $"clean AUC {m.CleanAuc:F3}  ")) + string.Create(ci, $"{m.Seconds:F1} s");
    }

    public static void PrintSummary(RunSummary s, string folder, string measure = "test", double? finalViews = null)
    {
        var ci = CultureInfo.InvariantCulture;
        string what = measure == "test" ? "" : $" {measure}";
        string views = finalViews is { } v && double.IsFinite(v) ? string.Create(ci, $"   Final with test-time views {100 * v:F2}%") : "";
        Console.WriteLine(string.Create(ci, $"Best{what} {100 * s.Best:F2}% (epoch {s.BestEpoch})   Last{what} {100 * s.Last:F2}% (mean of the last {s.LastEpochs} epochs)   Final{what} {100 * s.Final:F2}% (epoch {s.Epochs}){views}   {s.Epochs} epochs in {s.Seconds / 60:F1} min"));
        Console.WriteLine($"Output: {folder}");
    }
}
