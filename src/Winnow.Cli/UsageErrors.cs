using System.CommandLine;
using System.CommandLine.Completions;
using System.CommandLine.Invocation;
using System.CommandLine.Parsing;
using System.Globalization;
using Winnow.Training;

namespace Winnow.Cli;

/// <summary>
/// The one-line message for a command line that cannot run: System.CommandLine's parse errors (an unknown option or
/// command, a value of the wrong type or outside an option's choices, a missing value, option or command) said with
/// the option and what it expects, and an empty value given to a path option.
/// </summary>
internal static class UsageErrors
{
    /// <summary>What is wrong with <paramref name="parsed"/>; null when its command can run (or --help or --version answers instead).</summary>
    public static string? Find(ParseResult parsed)
    {
        var command = parsed.CommandResult.Command;
        if (parsed.Action is ParseErrorAction) return Describe(parsed, command);
        if (parsed.Action != command.Action) return null;
        foreach (var result in parsed.CommandResult.Children.OfType<OptionResult>())
            foreach (var token in result.Tokens)
            {
                // Every option that takes free text takes a path (the others have fixed choices, which refuse "" themselves).
                if (string.IsNullOrWhiteSpace(token.Value) && ElementType(result.Option) == typeof(string)) return $"{result.Option.Name}: the value is empty; expected a path";
                // System.CommandLine reads "1,5" as 15: a number is in the invariant culture's digits and point only.
                if (!Accepts(result.Option, token.Value)) return $"{result.Option.Name}: '{token.Value}' is not {Expected(result.Option)}";
            }
        return null;
    }

    private static string Describe(ParseResult parsed, Command command)
    {
        string path = PathOf(parsed.CommandResult);
        // A bad value comes first: a --method the registry does not know changes which options the command has.
        foreach (var error in parsed.Errors)
            if ((error.SymbolResult as OptionResult ?? error.SymbolResult?.Parent as OptionResult)?.Option is { } option
                && parsed.GetResult(option) is { IdentifierTokenCount: > 0, Tokens: var tokens })
            {
                if (tokens.Count == 0) return $"{option.Name} needs a value ({Expected(option)})";
                if (tokens.FirstOrDefault(t => !Accepts(option, t.Value)) is { } bad) return $"{option.Name}: '{bad.Value}' is not {Expected(option)}";
                if (tokens.Count > option.Arity.MaximumNumberOfValues) return $"{option.Name} is given {tokens.Count} times ({string.Join(", ", tokens.Select(t => t.Value))}); it takes one value";
                return $"{option.Name}: {error.Message.ReplaceLineEndings(" ")}";
            }
        if (parsed.UnmatchedTokens is [var token, ..])
        {
            if (token.StartsWith('-'))
            {
                var owners = command.Options.Any(o => o.Name == "--method")
                    ? MethodRegistry.All.Where(d => d.Options.Any(o => o.Name == token || o.Aliases.Contains(token))).Select(d => d.Name).ToArray() : [];
                return $"unknown option '{token}' for '{path}'; " + (owners.Length > 0 ? $"it is an option of --method {string.Join(", ", owners)}" : $"'{path} --help' lists its options");
            }
            if (command.Subcommands.Count > 0)
                return $"unknown command '{token}'{(command is RootCommand ? "" : $" for '{path}'")}; the commands are {string.Join(", ", command.Subcommands.Select(c => c.Name))}";
            return $"unexpected argument '{token}' for '{path}'; '{path} --help' lists its options";
        }
        if (command.Subcommands.Count > 0 && command.Action is null)
            return $"'{path}' needs a command: {string.Join(", ", command.Subcommands.Select(c => c.Name))}";
        if (command.Options.FirstOrDefault(o => o.Required && parsed.GetResult(o) is not { IdentifierTokenCount: > 0 }) is { } missing)
            return $"'{path}' needs {missing.Name}";
        return parsed.Errors[0].Message.ReplaceLineEndings(" ");
    }

    /// <summary>"winnow noise make" for the result of 'noise make'.</summary>
    private static string PathOf(CommandResult result)
    {
        var names = new Stack<string>();
        for (SymbolResult? r = result; r is CommandResult c; r = r.Parent)
            names.Push(c.Command is RootCommand ? "winnow" : c.Command.Name);
        return string.Join(' ', names);
    }

    private static string[] Choices(Option option) => [.. option.GetCompletions(CompletionContext.Empty).Select(c => c.Label)];

    private static Type ElementType(Option option) =>
        option.ValueType.IsArray ? option.ValueType.GetElementType()! : Nullable.GetUnderlyingType(option.ValueType) ?? option.ValueType;

    private static string Expected(Option option) => ElementType(option) switch
    {
        var t when t == typeof(bool) => "true or false",
        var t when t == typeof(int) => "an integer",
        var t when t == typeof(double) => "a number",
        _ => Choices(option) is { Length: > 0 } choices ? "one of " + string.Join(", ", choices) : "a path",
    };

    private static bool Accepts(Option option, string value) => ElementType(option) switch
    {
        var t when t == typeof(bool) => bool.TryParse(value, out _),
        var t when t == typeof(int) => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out _),
        var t when t == typeof(double) => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out _),
        _ => Choices(option) is not { Length: > 0 } choices || choices.Contains(value, StringComparer.Ordinal),
    };
}
