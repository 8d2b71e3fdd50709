using System.CommandLine;
using Winnow.Cli;

// A WINNOW_KERNEL_ISA that cannot be understood is refused before anything runs (the cap itself is applied when the
// Winnow assembly loads: Models/KernelIsa.cs).
if (Winnow.Models.KernelIsa.Current.Error is { } kernelError) return CliErrors.Refuse(new Winnow.WinnowException(kernelError));
Winnow.Models.NativeAllocator.KeepFreedMemory();
var root = new RootCommand("winnow: train image classifiers from datasets whose labels are partly wrong");
root.Subcommands.Add(Commands.Train(MethodOptionSet.MethodIn(args, "train")));
root.Subcommands.Add(Commands.Pretrain());
root.Subcommands.Add(Commands.Probe());
root.Subcommands.Add(Commands.Issues());
root.Subcommands.Add(AnalyzeCommand.Create());
root.Subcommands.Add(Commands.Noise());
root.Subcommands.Add(Commands.Eval());
root.Subcommands.Add(Commands.Predict());
root.Subcommands.Add(Commands.Bench());
var parsed = root.Parse(args);
return UsageErrors.Find(parsed) is { } usage ? CliErrors.Refuse(new Winnow.WinnowException(usage)) : await parsed.InvokeAsync();
