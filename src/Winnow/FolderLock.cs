namespace Winnow;

/// <summary>
/// One process at a time writes a folder (a run folder, or the output of 'issues' or 'analyze'): the holder keeps its
/// .lock file open with <see cref="FileShare.None"/>, which .NET implements on Linux with an exclusive flock. The kernel
/// drops the lock when the file is closed or the process ends, killed or not, so a crashed holder never blocks the next
/// process and no stale lock needs removing.
/// </summary>
public sealed class FolderLock : IDisposable
{
    /// <summary>The name of the lock file in the folder.</summary>
    public const string FileName = ".lock";

    /// <summary>The errno flock sets on Linux when another open file holds the lock (EWOULDBLOCK), as .NET reports it.</summary>
    private const int LockedByAnother = 11;

    private readonly FileStream held;
    private readonly string folder;
    private readonly bool created;

    private FolderLock(FileStream held, string folder, bool created) => (this.held, this.folder, this.created) = (held, folder, created);

    /// <summary>
    /// Takes the lock of <paramref name="folder"/> (creating the folder); a one-line error naming the folder when another
    /// process holds it. A folder it created and that holds nothing but the lock file when the lock is released (the
    /// command failed before writing anything) is removed again, so a refused command leaves nothing behind.
    /// </summary>
    public static FolderLock Take(string folder)
    {
        bool created = !Directory.Exists(folder);
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, FileName);
        try { return new FolderLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None), folder, created); }
        catch (IOException e) when (e.HResult == LockedByAnother)
        {
            throw new WinnowException($"{folder} is in use by another winnow process; wait for it to end ('fuser {path}' names it)", e);
        }
    }

    /// <summary>Releases the lock (and removes the folder if it created it and nothing else was written there).</summary>
    public void Dispose()
    {
        held.Dispose();
        if (!created) return;
        try
        {
            if (Directory.EnumerateFileSystemEntries(folder).All(e => Path.GetFileName(e) == FileName)) Directory.Delete(folder, recursive: true);
        }
        catch (IOException) { } // another process took the folder meanwhile: it is its folder now
        catch (UnauthorizedAccessException) { }
    }
}
