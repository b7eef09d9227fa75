namespace Collapse.Performance.Check;

/// <summary>Why the reference build could not be had (a bad revision, a shallow clone, a failed build); the message says what to do.</summary>
public sealed class ReferenceBuildException(string message) : Exception(message);

/// <summary>
/// The reference side of perf-check: a commit of this repository, checked out in a git worktree
/// outside the clone and built in Release, its output cached by full commit hash so a second check
/// (or a second CI run on the same machine) reuses it. The worktree is removed once built.
/// </summary>
public static class ReferenceBuild
{
    /// <summary>Where the committed default reference is named, relative to the repository root.</summary>
    public const string PinFile = "results/benchmarks/perf-reference";

    const string Project = "src/Collapse.Performance/Collapse.Performance.csproj";

    /// <summary>The cache, outside any clone (<see cref="Engine.Results.CacheDirectory.Root"/>).</summary>
    public static string CacheRoot => Engine.Results.CacheDirectory.Root;

    /// <summary>The repository that holds <paramref name="directory"/>.</summary>
    public static string RepositoryRoot(string directory)
    {
        var (code, output) = Run("git", directory, "rev-parse", "--show-toplevel");
        if (code != 0) throw new ReferenceBuildException($"perf-check: '{directory}' is not inside a git repository, so there is no reference commit to build; give --reference-build DIR");
        return output.Trim();
    }

    /// <summary>The revision <see cref="PinFile"/> names: its first line that is not blank or a # comment.</summary>
    public static string PinnedRevision(string repository)
    {
        var path = Path.Combine(repository, PinFile);
        if (!File.Exists(path)) throw new ReferenceBuildException($"perf-check: no {PinFile} in '{repository}': name a commit there or give --reference REV");
        return File.ReadLines(path).Select(l => l.Trim()).FirstOrDefault(l => l.Length > 0 && !l.StartsWith('#'))
               ?? throw new ReferenceBuildException($"perf-check: {path} names no commit (its first line that is not blank or a # comment is the commit)");
    }

    /// <summary>The full hash of <paramref name="revision"/>, or an error saying why there is none.</summary>
    public static string Resolve(string repository, string revision)
    {
        var (code, output) = Run("git", repository, "rev-parse", "--verify", "--quiet", revision + "^{commit}");
        if (code == 0) return output.Trim();
        var (_, shallow) = Run("git", repository, "rev-parse", "--is-shallow-repository");
        var hint = shallow.Trim() == "true"
            ? "this clone is shallow: fetch the history (git fetch --unshallow) or give --reference-build DIR"
            : "expected a commit of this repository (a hash, tag, branch or HEAD~N)";
        throw new ReferenceBuildException($"perf-check: reference '{revision}' is not a commit here: {hint}");
    }

    /// <summary>
    /// The output directory of <paramref name="commit"/>'s Release build, building it first unless
    /// the cache has it. <paramref name="log"/> gets one line per step.
    /// </summary>
    public static string Ensure(string repository, string commit, TextWriter log)
    {
        var done = Path.Combine(CacheRoot, "perf-reference", commit);
        if (File.Exists(Path.Combine(done, ".complete")))
        {
            log.WriteLine($"reference {commit[..12]}: cached build in {done}");
            return done;
        }
        var (listed, _) = Run("git", repository, "cat-file", "-e", $"{commit}:{Project}");
        if (listed != 0) throw new ReferenceBuildException($"perf-check: reference {commit[..12]} has no {Project}, so it has no perf-check workloads to compare with; choose a later commit");

        var work = Path.Combine(CacheRoot, "perf-reference", $"{commit}.building-{Environment.ProcessId}");
        var tree = Path.Combine(work, "tree");
        var output = Path.Combine(work, "bin");
        System.IO.Directory.CreateDirectory(work);
        var clock = Stopwatch.StartNew();
        try
        {
            log.WriteLine($"reference {commit[..12]}: checking out a worktree in {tree}");
            Check(Run("git", repository, "worktree", "add", "--detach", "--force", tree, commit), "git worktree add");
            log.WriteLine($"reference {commit[..12]}: dotnet build -c Release (once per commit; cached in {done})");
            Check(Run("dotnet", tree, "build", Path.Combine(tree, Project), "-c", "Release", "-o", output,
                "-p:CopyLocalLockFileAssemblies=true", "-nologo", "-v:q", "-clp:ErrorsOnly"), "dotnet build");
            File.WriteAllText(Path.Combine(output, ".complete"), $"{commit}\n");
            try
            {
                System.IO.Directory.Move(output, done);
            }
            catch (IOException) when (File.Exists(Path.Combine(done, ".complete")))
            {
                // Another check built the same commit meanwhile: use theirs.
            }
            log.WriteLine($"reference {commit[..12]}: built in {clock.Elapsed.TotalSeconds:0} s");
            return done;
        }
        finally
        {
            Run("git", repository, "worktree", "remove", "--force", tree);
            Run("git", repository, "worktree", "prune");
            try
            {
                System.IO.Directory.Delete(work, recursive: true);
            }
            catch (IOException) { }
        }
    }

    static void Check((int Code, string Output) result, string step)
    {
        if (result.Code == 0) return;
        var tail = string.Join('\n', result.Output.Trim().Split('\n').TakeLast(15));
        throw new ReferenceBuildException($"perf-check: building the reference failed at {step} (exit {result.Code}):\n{tail}");
    }

    static (int Code, string Output) Run(string program, string directory, params string[] arguments)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        // The reference is built as a plain Release build, not with this process's runtime settings.
        start.Environment.Remove("DOTNET_TieredCompilation");
        try
        {
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output + error.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, $"{program}: {e.Message}");
        }
    }
}
