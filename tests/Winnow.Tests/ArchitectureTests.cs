using System.Text.RegularExpressions;

namespace Winnow.Tests;

public class ArchitectureTests
{
    /// <summary>The library's folders, bottom first: each may use only those before it.</summary>
    private static readonly string[] Layers = ["Data", "Models", "Detection", "Training", "SelfSupervised", "Methods", "Analysis", "Runs"];

    [Fact]
    public void TheLibrarysFoldersDependInOneDirection()
    {
        string root = Path.Combine(RepositoryRoot(), "src", "Winnow");
        Assert.Equal(Layers.Order(), Directory.GetDirectories(root).Select(Path.GetFileName).Where(d => d is not ("bin" or "obj")).Order());
        var reference = new Regex(@"using Winnow\.(\w+);|cref=""(?:Winnow\.)?(\w+)\.|\b(?:Winnow\.)?(" + string.Join('|', Layers) + @")\.[A-Z]\w*");
        var wrong = new List<string>();
        for (int layer = 0; layer < Layers.Length; layer++)
            foreach (string file in Directory.GetFiles(Path.Combine(root, Layers[layer]), "*.cs", SearchOption.AllDirectories))
                foreach (var (line, number) in File.ReadLines(file).Select((l, i) => (l, i + 1)))
                {
                    // Prose in comments may name any folder; using directives, crefs and code may not name a later one.
                    string code = line.TrimStart().StartsWith("//", StringComparison.Ordinal) ? string.Join(' ', Regex.Matches(line, @"cref=""[^""]*""").Select(m => m.Value)) : line;
                    foreach (Match m in reference.Matches(code))
                    {
                        string target = m.Groups.Cast<Group>().Skip(1).First(g => g.Success).Value;
                        int at = Array.IndexOf(Layers, target);
                        if (at > layer) wrong.Add($"{Path.GetRelativePath(root, file)}:{number}: {Layers[layer]} uses {target}");
                    }
                }
        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    [Fact]
    public void NoCodeOutsideAMethodsFolderNamesIt()
    {
        string root = Path.Combine(RepositoryRoot(), "src");
        var names = new Dictionary<string, string> { ["Sanm"] = "\"sanm\"", ["DivideMix"] = "\"dividemix\"", ["Elr"] = "\"elr-plus\"" };
        var wrong = new List<string>();
        foreach (var (folder, name) in names)
            foreach (string file in Directory.GetFiles(root, "*.cs", SearchOption.AllDirectories).Where(f => !f.Contains($"{Path.DirectorySeparatorChar}{folder}{Path.DirectorySeparatorChar}") && !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}")))
                foreach (var (line, number) in File.ReadLines(file).Select((l, i) => (l, i + 1)))
                    if (line.Contains(name, StringComparison.Ordinal) && !line.TrimStart().StartsWith("//", StringComparison.Ordinal))
                        wrong.Add($"{Path.GetRelativePath(root, file)}:{number} names {name}");
        Assert.True(wrong.Count == 0, string.Join('\n', wrong));
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Winnow.slnx")) || Directory.Exists(Path.Combine(dir.FullName, "src", "Winnow"))) return dir.FullName;
        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    }
}
