using System.Net;
using System.Text;

namespace Winnow.Analysis;

/// <summary>How a thumbnail's frame marks it.</summary>
public enum ThumbnailMark
{
    /// <summary>No mark.</summary>
    None,

    /// <summary>A verdict the truth confirms (green frame).</summary>
    Confirmed,

    /// <summary>A verdict the truth contradicts (red frame).</summary>
    Contradicted,
}

/// <summary>One image of a thumbnail grid.</summary>
/// <param name="Png">The image, PNG-encoded.</param>
/// <param name="Caption">Text under the image; each line break starts a new line.</param>
/// <param name="Mark">How the frame marks the image.</param>
public sealed record ReportThumbnail(byte[] Png, string Caption, ThumbnailMark Mark = ThumbnailMark.None);

/// <summary>One figure: a PNG image and its caption.</summary>
/// <param name="Png">The image, PNG-encoded.</param>
/// <param name="Caption">Text under the image.</param>
public sealed record ReportFigure(byte[] Png, string Caption);

/// <summary>
/// One self-contained HTML page: a title, a block of facts (key-value pairs), and sections, each with an id, a heading
/// and blocks (paragraphs, tables, figures, thumbnail grids). Styles are inline and images are PNG data URIs, so the
/// single file is all a browser needs. Every text given is HTML-escaped.
/// </summary>
public sealed class HtmlReport
{
    private readonly List<KeyValuePair<string, string>> facts = [];
    private readonly List<HtmlReportSection> sections = [];

    /// <summary>Starts an empty page titled <paramref name="title"/>.</summary>
    public HtmlReport(string title) => Title = title;

    /// <summary>The page's title and top heading.</summary>
    public string Title { get; }

    /// <summary>The facts of the header block, in order.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Facts => facts;

    /// <summary>The sections, in order.</summary>
    public IReadOnlyList<HtmlReportSection> Sections => sections;

    /// <summary>Adds a fact to the header block; a null or empty value is left out.</summary>
    public HtmlReport AddFact(string key, string? value)
    {
        if (!string.IsNullOrEmpty(value)) facts.Add(new(key, value));
        return this;
    }

    /// <summary>Adds facts to the header block.</summary>
    public HtmlReport AddFacts(IEnumerable<KeyValuePair<string, string>> keyValues)
    {
        foreach (var (key, value) in keyValues) AddFact(key, value);
        return this;
    }

    /// <summary>Adds a section at the end of the page and returns it, to be filled.</summary>
    /// <param name="id">The section's HTML id (letters, digits, '-' and '_'), unique in the page.</param>
    /// <param name="heading">The section's heading.</param>
    public HtmlReportSection AddSection(string id, string heading)
    {
        if (id.Length == 0 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new ArgumentException($"section id '{id}' must be letters, digits, '-' or '_'", nameof(id));
        if (sections.Any(s => s.Id == id)) throw new ArgumentException($"the page already has a section '{id}'", nameof(id));
        var section = new HtmlReportSection(id, heading);
        sections.Add(section);
        return section;
    }

    /// <summary>The page as HTML.</summary>
    public string ToHtml()
    {
        var sb = new StringBuilder();
        sb.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        sb.Append("<title>").Append(Escape(Title)).Append("</title>\n<style>").Append(Style).Append("</style>\n</head>\n<body>\n");
        sb.Append("<h1>").Append(Escape(Title)).Append("</h1>\n");
        if (facts.Count > 0)
        {
            sb.Append("<dl class=\"facts\">\n");
            foreach (var (key, value) in facts) sb.Append("<dt>").Append(Escape(key)).Append("</dt><dd>").Append(Escape(value)).Append("</dd>\n");
            sb.Append("</dl>\n");
        }
        if (sections.Count > 1)
        {
            sb.Append("<nav>");
            foreach (var s in sections) sb.Append("<a href=\"#").Append(s.Id).Append("\">").Append(Escape(s.Heading)).Append("</a>");
            sb.Append("</nav>\n");
        }
        foreach (var s in sections) s.AppendHtml(sb);
        sb.Append("</body>\n</html>\n");
        return sb.ToString();
    }

    /// <summary>Writes the page to <paramref name="path"/> atomically (a temporary file, then a rename).</summary>
    public void Write(string path) => AtomicFile.WriteAllText(path, ToHtml());

    /// <summary>Escapes text for HTML content and attribute values.</summary>
    public static string Escape(string text) => WebUtility.HtmlEncode(text);

    /// <summary>A PNG as a data URI.</summary>
    public static string PngDataUri(byte[] png) => "data:image/png;base64," + Convert.ToBase64String(png);

    private const string Style = """
        body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 24px auto; max-width: 1320px; padding: 0 16px; color: #1d1d1f; background: #fff; }
        h1 { font-size: 26px; margin: 0 0 12px; }
        h2 { font-size: 20px; margin: 32px 0 10px; padding-bottom: 4px; border-bottom: 2px solid #d0d7de; }
        p { line-height: 1.45; max-width: 1000px; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; background: #f6f8fa; border: 1px solid #d0d7de; border-radius: 6px; padding: 10px 14px; font-size: 14px; }
        dl.facts dt { font-weight: bold; color: #444; }
        dl.facts dd { margin: 0; overflow-wrap: anywhere; }
        nav { margin: 14px 0; font-size: 14px; }
        nav a { margin-right: 14px; color: #0969da; text-decoration: none; }
        table { border-collapse: collapse; font-size: 14px; margin: 8px 0 16px; }
        caption { caption-side: top; text-align: left; font-weight: bold; padding-bottom: 4px; white-space: nowrap; }
        th, td { border: 1px solid #d0d7de; padding: 4px 10px; }
        th { background: #f6f8fa; text-align: left; }
        td.num { text-align: right; font-variant-numeric: tabular-nums; }
        .figures { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
        figure { margin: 0; }
        figure img { max-width: 100%; border: 1px solid #e1e4e8; }
        figcaption { font-size: 13px; color: #555; margin-top: 4px; max-width: 640px; }
        .thumbs { display: grid; grid-template-columns: repeat(auto-fill, minmax(118px, 1fr)); gap: 8px; }
        .thumb { border: 3px solid #d0d7de; border-radius: 4px; padding: 4px; text-align: center; font-size: 11px; line-height: 1.3; overflow-wrap: anywhere; }
        .thumb img { image-rendering: pixelated; display: block; margin: 0 auto 3px; }
        .thumb.confirmed { border-color: #2da44e; }
        .thumb.contradicted { border-color: #cf222e; }
        """;
}

/// <summary>A section of an <see cref="HtmlReport"/>: an id, a heading and blocks in order.</summary>
public sealed class HtmlReportSection
{
    private readonly List<string> blocks = [];

    internal HtmlReportSection(string id, string heading)
    {
        Id = id;
        Heading = heading;
    }

    /// <summary>The section's HTML id.</summary>
    public string Id { get; }

    /// <summary>The section's heading.</summary>
    public string Heading { get; }

    /// <summary>Adds a paragraph of text.</summary>
    public HtmlReportSection Paragraph(string text)
    {
        blocks.Add("<p>" + HtmlReport.Escape(text) + "</p>");
        return this;
    }

    /// <summary>Adds a table. Cells that read as numbers are right-aligned.</summary>
    /// <param name="header">The column headings.</param>
    /// <param name="rows">The rows, each with one cell per column.</param>
    /// <param name="caption">A caption above the table; null for none.</param>
    public HtmlReportSection Table(IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string>> rows, string? caption = null)
    {
        var sb = new StringBuilder("<table>");
        if (caption is not null) sb.Append("<caption>").Append(HtmlReport.Escape(caption)).Append("</caption>");
        sb.Append("<thead><tr>");
        foreach (string h in header) sb.Append("<th>").Append(HtmlReport.Escape(h)).Append("</th>");
        sb.Append("</tr></thead>\n<tbody>\n");
        foreach (var row in rows)
        {
            if (row.Count != header.Count) throw new ArgumentException($"a row of {row.Count} cells in a table of {header.Count} columns", nameof(rows));
            sb.Append("<tr>");
            foreach (string cell in row)
                sb.Append(LooksNumeric(cell) ? "<td class=\"num\">" : "<td>").Append(HtmlReport.Escape(cell)).Append("</td>");
            sb.Append("</tr>\n");
        }
        sb.Append("</tbody></table>");
        blocks.Add(sb.ToString());
        return this;
    }

    /// <summary>Adds one figure.</summary>
    public HtmlReportSection Figure(byte[] png, string caption) => Figures([new ReportFigure(png, caption)]);

    /// <summary>Adds figures side by side (wrapping when the page is narrow).</summary>
    public HtmlReportSection Figures(IEnumerable<ReportFigure> figures)
    {
        var sb = new StringBuilder("<div class=\"figures\">");
        foreach (var f in figures)
            sb.Append("<figure><img src=\"").Append(HtmlReport.PngDataUri(f.Png)).Append("\" alt=\"").Append(HtmlReport.Escape(f.Caption))
              .Append("\"><figcaption>").Append(HtmlReport.Escape(f.Caption)).Append("</figcaption></figure>");
        sb.Append("</div>");
        blocks.Add(sb.ToString());
        return this;
    }

    /// <summary>Adds a grid of thumbnails, each with its caption and frame mark.</summary>
    public HtmlReportSection Thumbnails(IEnumerable<ReportThumbnail> thumbnails)
    {
        var sb = new StringBuilder("<div class=\"thumbs\">\n");
        foreach (var t in thumbnails)
        {
            string mark = t.Mark switch { ThumbnailMark.Confirmed => " confirmed", ThumbnailMark.Contradicted => " contradicted", _ => "" };
            sb.Append("<div class=\"thumb").Append(mark).Append("\"><img src=\"").Append(HtmlReport.PngDataUri(t.Png)).Append("\" alt=\"\">")
              .Append(string.Join("<br>", t.Caption.Split('\n').Select(HtmlReport.Escape))).Append("</div>\n");
        }
        sb.Append("</div>");
        blocks.Add(sb.ToString());
        return this;
    }

    internal void AppendHtml(StringBuilder sb)
    {
        sb.Append("<section id=\"").Append(Id).Append("\">\n<h2>").Append(HtmlReport.Escape(Heading)).Append("</h2>\n");
        foreach (string b in blocks) sb.Append(b).Append('\n');
        sb.Append("</section>\n");
    }

    private static bool LooksNumeric(string cell) =>
        cell.Length > 0 && double.TryParse(cell.TrimEnd('%'), System.Globalization.NumberStyles.Float | System.Globalization.NumberStyles.AllowThousands, System.Globalization.CultureInfo.InvariantCulture, out _);
}
