using SkiaSharp;
using Winnow.Analysis;

namespace Winnow.Tests.Analysis;

public class HtmlReportTests
{
    private static byte[] SolidPng(SKColor color)
    {
        using var bmp = new SKBitmap(4, 4);
        bmp.Erase(color);
        using var data = bmp.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    [Fact]
    public void ThePageHoldsFactsSectionsTablesFiguresAndThumbnailsWithEveryTextEscaped()
    {
        var report = new HtmlReport("Run <1> & co").AddFact("dataset", "a<b").AddFact("left out", null);
        report.AddSection("first", "First & only").Paragraph("x < y")
            .Table(["name", "value"], [["<script>", "0.5"], ["\"quoted\"", "12.5%"]], "a & b")
            .Figure(SolidPng(SKColors.Red), "red <square>");
        report.AddSection("second", "Second").Thumbnails([new ReportThumbnail(SolidPng(SKColors.Blue), "1: a → b\ntrue: a", ThumbnailMark.Contradicted)]);
        string html = report.ToHtml();

        Assert.StartsWith("<!DOCTYPE html>", html);
        Assert.Contains("<title>Run &lt;1&gt; &amp; co</title>", html);
        Assert.Contains("<dd>a&lt;b</dd>", html);
        Assert.DoesNotContain("left out", html);
        Assert.Contains("<section id=\"first\">", html);
        Assert.Contains("<section id=\"second\">", html);
        Assert.Contains("<a href=\"#second\">Second</a>", html);
        Assert.Contains("&lt;script&gt;", html);
        Assert.DoesNotContain("<script>", html);
        Assert.Contains("<td class=\"num\">12.5%</td>", html);
        Assert.Contains("&quot;quoted&quot;", html);
        Assert.Contains("red &lt;square&gt;", html);
        Assert.Contains("class=\"thumb contradicted\"", html);
        Assert.Contains("1: a → b<br>true: a", html);
        Assert.Equal(2, html.Split("data:image/png;base64,").Length - 1);
        Assert.DoesNotContain("http", html);
    }

    [Fact]
    public void SectionIdsMustBeUniqueAndPlain()
    {
        var report = new HtmlReport("r");
        report.AddSection("a", "A");
        Assert.Throws<ArgumentException>(() => report.AddSection("a", "again"));
        Assert.Throws<ArgumentException>(() => report.AddSection("b c", "space"));
        var ragged = Assert.Throws<ArgumentException>(() => report.AddSection("c", "C").Table(["one", "two"], [["only one"]]));
        Assert.Contains("a row of 1 cells in a table of 2 columns", ragged.Message);
    }

    [Fact]
    public void WritingReplacesTheFileAtomically()
    {
        string dir = TestData.TempDir();
        string path = Path.Combine(dir, "report.html");
        File.WriteAllText(path, "old");
        new HtmlReport("new page").Write(path);
        Assert.Contains("<h1>new page</h1>", File.ReadAllText(path));
        Assert.Equal([path], Directory.GetFiles(dir));
    }
}
