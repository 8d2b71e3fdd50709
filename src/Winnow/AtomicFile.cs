namespace Winnow;

/// <summary>Writes files so that a reader never sees half of one: a temporary file in the same folder, then a rename.</summary>
public static class AtomicFile
{
    /// <summary>What the temporary file's name adds to the file's, before the writer's process id.</summary>
    private const string TemporarySuffix = ".tmp";

    /// <summary>Writes text atomically.</summary>
    public static void WriteAllText(string path, string text) => Write(path, tmp => File.WriteAllText(tmp, text));

    /// <summary>Runs <paramref name="writeTo"/> on a temporary path beside <paramref name="path"/> (<c>PATH.tmpPID</c>), then renames it over <paramref name="path"/>.</summary>
    public static void Write(string path, Action<string> writeTo)
    {
        string full = Path.GetFullPath(path);
        string? dir = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        string tmp = full + TemporarySuffix + Environment.ProcessId;
        try
        {
            writeTo(tmp);
            File.Move(tmp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(tmp)) File.Delete(tmp);
        }
    }

    /// <summary>
    /// Deletes the temporary files that writes killed half-way left in <paramref name="folder"/> (not its subfolders).
    /// Only while holding the folder's <see cref="FolderLock"/>: then no write into it is under way, and every such file is stale.
    /// </summary>
    public static void RemoveLeftovers(string folder)
    {
        foreach (string file in Directory.EnumerateFiles(folder, "*" + TemporarySuffix + "*"))
        {
            string name = Path.GetFileName(file);
            string pid = name[(name.LastIndexOf(TemporarySuffix, StringComparison.Ordinal) + TemporarySuffix.Length)..];
            if (pid.Length > 0 && pid.All(char.IsAsciiDigit)) File.Delete(file);
        }
    }
}
