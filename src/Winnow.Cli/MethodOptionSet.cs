using System.CommandLine;
using Winnow.Training;

namespace Winnow.Cli;

/// <summary>A method's own command-line options (<see cref="IMethodDefinition.Options"/>) on a command, and reading them into its options record.</summary>
internal sealed class MethodOptionSet
{
    private readonly IMethodDefinition definition;
    private readonly List<(MethodOption Spec, Option Option)> options = [];

    public MethodOptionSet(Command command, IMethodDefinition definition)
    {
        this.definition = definition;
        foreach (var spec in definition.Options)
        {
            Option option;
            if (spec.Kind == MethodOptionKind.Choice)
            {
                var choice = new Option<string?>(spec.Name, [.. spec.Aliases]);
                choice.AcceptOnlyFromAmong([.. spec.Choices]);
                option = choice;
            }
            else
                option = spec.Kind switch
                {
                    MethodOptionKind.Flag => new Option<bool>(spec.Name, [.. spec.Aliases]),
                    MethodOptionKind.Integer => new Option<int?>(spec.Name, [.. spec.Aliases]),
                    _ => new Option<double?>(spec.Name, [.. spec.Aliases]),
                };
            option.Description = $"{definition.Name}: {spec.Description}";
            command.Options.Add(option);
            options.Add((spec, option));
        }
    }

    /// <summary>The method's options record: its defaults with every option the user gave applied.</summary>
    public object Read(ParseResult r)
    {
        object record = definition.DefaultOptions();
        foreach (var (spec, option) in options)
        {
            object? value = option switch
            {
                Option<bool> flag => r.GetValue(flag) ? true : null,
                Option<int?> integer => r.GetValue(integer),
                Option<double?> number => r.GetValue(number),
                Option<string?> choice => r.GetValue(choice),
                _ => null,
            };
            if (value is not null) record = spec.Apply(record, value);
        }
        return record;
    }

    /// <summary>
    /// The value of --method in <paramref name="args"/> after <paramref name="command"/> ("--method NAME" or
    /// "--method=NAME"); null when none is given. Read before the command line is parsed, since a method's options
    /// decide which options the command has.
    /// </summary>
    public static string? MethodIn(IReadOnlyList<string> args, string command)
    {
        int start = args.ToList().IndexOf(command);
        if (start < 0) return null;
        for (int i = start + 1; i < args.Count; i++)
        {
            if (args[i] == "--method" && i + 1 < args.Count) return args[i + 1];
            if (args[i].StartsWith("--method=", StringComparison.Ordinal)) return args[i]["--method=".Length..];
        }
        return null;
    }
}
