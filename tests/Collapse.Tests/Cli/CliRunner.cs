using System.Diagnostics;

namespace Collapse.Tests.Cli;

/// <summary>Runs the real <c>collapse</c> program as a child process, as a user would.</summary>
public static class CliRunner
{
    public sealed record Result(int ExitCode, string Out, string Error);

    public static Result Run(params string[] args)
    {
        using var process = Start(args);
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"collapse {string.Join(' ', args)} did not finish in 5 minutes");
        }
        return new Result(process.ExitCode, output.Result, error.Result);
    }

    /// <summary>Starts the program without waiting (output redirected; read or discard it).</summary>
    public static Process Start(string[] args, params (string Name, string Value)[] environment)
    {
        var dll = typeof(Collapse.Cli.Program).Assembly.Location;
        var start = new ProcessStartInfo(Environment.ProcessPath!.EndsWith("dotnet", StringComparison.Ordinal) ? Environment.ProcessPath : "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var (name, value) in environment) start.Environment[name] = value;
        return Process.Start(start)!;
    }

    /// <summary>
    /// Runs <c>collapse run EXPERIMENT</c> with one bad option and small values for the options
    /// <paramref name="small"/> names (unless the bad one is among them, so an accepted bad value
    /// still finishes quickly), and asserts the refusal every command owes: exit 2, one
    /// <c>error:</c> line naming <paramref name="named"/>, nothing in --out.
    /// </summary>
    public static void AssertRefused(string experiment, string[] bad, string named, params (string Name, string Value)[] small)
    {
        var directory = TemporaryDirectory();
        List<string> args = ["run", experiment, .. bad, "--out", directory];
        foreach (var (name, value) in small)
            if (!bad.Contains(name)) args.AddRange([name, value]);
        AssertRefused([.. args], named, directory);
    }

    /// <summary>Runs <paramref name="args"/> and asserts the refusal: exit 2, one <c>error:</c> line naming <paramref name="named"/>, nothing in <paramref name="directory"/>.</summary>
    public static void AssertRefused(string[] args, string named, string directory)
    {
        var result = Run(args);
        Assert.Equal(2, result.ExitCode);
        var lines = result.Error.Trim().Split('\n');
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(named, lines[0]);
        Assert.False(Directory.Exists(directory) && Directory.EnumerateFileSystemEntries(directory).Any(), "bad input must leave nothing in --out");
    }

    public static string TemporaryDirectory()
    {
        var path = Path.Combine(Path.GetTempPath(), "collapse-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        return path;
    }
}
