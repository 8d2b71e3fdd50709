namespace Winnow;

/// <summary>
/// An error in what the user gave Winnow (a file, a folder, an option): its message is one line that names
/// the file, row or index and says what was expected. The CLI prints the message alone, without a stack trace.
/// </summary>
public class WinnowException : Exception
{
    /// <summary>Creates the error with its one-line message.</summary>
    public WinnowException(string message) : base(message) { }

    /// <summary>Creates the error with its one-line message and the exception that caused it.</summary>
    public WinnowException(string message, Exception inner) : base(message, inner) { }
}

/// <summary>A data file or folder that is missing, corrupt or inconsistent.</summary>
public sealed class DataFormatException : WinnowException
{
    /// <summary>Creates the error; <paramref name="path"/> is put in front of the message.</summary>
    public DataFormatException(string path, string message) : base($"{path}: {message}") => Path = path;

    /// <summary>Creates the error with the exception that caused it.</summary>
    public DataFormatException(string path, string message, Exception inner) : base($"{path}: {message}", inner) => Path = path;

    /// <summary>The file or folder at fault.</summary>
    public string Path { get; }
}

/// <summary>
/// A NaN or infinite value where the computation needs finite ones (a model's outputs, per-sample losses): the
/// message says which value; the training loop adds the epoch and step it met it in.
/// </summary>
public sealed class NonFiniteValueException : WinnowException
{
    /// <summary>Creates the error with its one-line message.</summary>
    public NonFiniteValueException(string message) : base(message) { }
}
