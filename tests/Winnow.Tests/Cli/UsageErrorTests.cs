namespace Winnow.Tests.Cli;

/// <summary>Command lines that cannot run: one line on stderr with the option and what it expects, exit code 2.</summary>
public class UsageErrorTests
{
    [Theory]
    [InlineData(new[] { "train", "--frobnicate", "3" }, "unknown option '--frobnicate' for 'winnow train'; 'winnow train --help' lists its options")]
    [InlineData(new[] { "train", "--method", "nonexistent" }, "--method: 'nonexistent' is not one of ce, ce-reg, dividemix, elr, elr-plus, sanm")]
    [InlineData(new[] { "train", "--epochs", "abc" }, "--epochs: 'abc' is not an integer")]
    [InlineData(new[] { "train", "--lr", "fast" }, "--lr: 'fast' is not a number")]
    [InlineData(new[] { "train", "--epochs" }, "--epochs needs a value (an integer)")]
    [InlineData(new[] { "train", "--epochs", "3", "--epochs", "4" }, "--epochs is given 2 times (3, 4); it takes one value")]
    // System.CommandLine alone reads "1,5" as 15 (the comma as a thousands separator) and trains with it.
    [InlineData(new[] { "train", "--lr", "1,5" }, "--lr: '1,5' is not a number")]
    // A method that does not exist is named first: the other options depend on it.
    [InlineData(new[] { "train", "--method", "mixup", "--lambda-u", "3" }, "--method: 'mixup' is not one of ce, ce-reg, dividemix, elr, elr-plus, sanm")]
    [InlineData(new[] { "train", "--method", "elr", "--lambda-u", "3" }, "unknown option '--lambda-u' for 'winnow train'; it is an option of --method dividemix, sanm")]
    [InlineData(new[] { "eval" }, "'winnow eval' needs --checkpoint")]
    [InlineData(new[] { "noise" }, "'winnow noise' needs a command: make, inspect")]
    [InlineData(new[] { "frob" }, "unknown command 'frob'; the commands are train, pretrain, probe, issues, analyze, noise, eval, predict, bench")]
    public void ParseErrorsAreOneLineOnStderrWithExitCode2(string[] args, string expected)
    {
        var (code, stdout, err) = CliTests.Winnow(args);
        Assert.Equal(2, code);
        Assert.Equal("winnow: error: " + expected, err.TrimEnd('\n'));
        Assert.Equal("", stdout);
    }

    [Theory]
    [InlineData("--help")]
    [InlineData("--version")]
    public void HelpAndVersionStillExitWith0(string option)
    {
        var (code, stdout, err) = CliTests.Winnow(option);
        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.NotEmpty(stdout);
        // Help wins over an error on the same line.
        var (helpCode, helpOut, _) = CliTests.Winnow("train", "--epochs", "abc", "--help");
        Assert.Equal(0, helpCode);
        Assert.Contains("--epochs", helpOut);
    }

    [Theory]
    [InlineData("--label-file", new[] { "train", "--label-file", "" })]
    [InlineData("--out", new[] { "train", "--out", "" })]
    [InlineData("--data", new[] { "train", "--data", "   " })]
    [InlineData("--out", new[] { "predict", "--checkpoint", "run/best.ckpt", "--out", "" })]
    [InlineData("--encoder", new[] { "analyze", "--out", "analysis", "--encoder", "" })]
    public void AnEmptyPathIsRefusedNamingTheOption(string option, string[] args)
    {
        var (code, _, err) = CliTests.Winnow(args);
        Assert.Equal(2, code);
        Assert.Equal($"winnow: error: {option}: the value is empty; expected a path", err.TrimEnd('\n'));
    }
}
