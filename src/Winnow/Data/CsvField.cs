namespace Winnow.Data;

/// <summary>Writing CSV fields (RFC 4180): what Winnow's CSV outputs share.</summary>
public static class CsvField
{
    /// <summary><paramref name="s"/> as one field: quoted, with doubled quotes, when it holds a comma, a quote or a line break.</summary>
    public static string Escape(string s) => s.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + s.Replace("\"", "\"\"") + "\"" : s;
}
