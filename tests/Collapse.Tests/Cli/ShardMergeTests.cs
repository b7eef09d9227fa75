namespace Collapse.Tests.Cli;

/// <summary>Shards run as separate processes (as Slurm array tasks would), merged, equal the unsharded run byte for byte.</summary>
public class ShardMergeTests
{
    static readonly string[] Kde = ["run", "kde", "--datasets", "blobs,swiss-roll", "--bandwidths", "0.1,silverman", "--samples", "7,30",
        "--seeds", "3", "--iterations", "4", "--test-size", "40", "--no-figures"];

    static readonly string[] Gaussian = ["run", "gaussian", "--dims", "2,5", "--samples", "6,20", "--seeds", "3", "--iterations", "4", "--no-figures"];

    static void Succeeds(CliRunner.Result result) => Assert.True(result.ExitCode == 0, result.Error);

    [Fact]
    public async Task Three_shards_merged_equal_the_unsharded_run()
    {
        var whole = CliRunner.TemporaryDirectory();
        Succeeds(CliRunner.Run([.. Kde, "--out", whole]));
        var shards = Enumerable.Range(0, 3).Select(_ => CliRunner.TemporaryDirectory()).ToArray();
        // Started together, like array tasks on a cluster.
        var processes = shards.Select((d, k) => CliRunner.Start([.. Kde, "--shard", $"{k}/3", "--out", d])).ToList();
        foreach (var p in processes)
        {
            var error = p.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await p.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            await p.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.True(p.ExitCode == 0, await error);
            p.Dispose();
        }
        var merged = CliRunner.TemporaryDirectory();
        Succeeds(CliRunner.Run(["merge", shards[2], shards[0], shards[1], "--out", merged]));
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "kde.csv")), File.ReadAllBytes(Path.Combine(merged, "kde.csv")));
        Assert.Contains("\"status\": \"complete\"", File.ReadAllText(Path.Combine(merged, "manifest.json")));
        Succeeds(CliRunner.Run(["plot", Path.Combine(merged, "kde.csv")]));
    }

    [Fact]
    public void Slurm_array_tasks_pick_their_shard_from_the_environment()
    {
        var whole = CliRunner.TemporaryDirectory();
        Succeeds(CliRunner.Run([.. Gaussian, "--out", whole]));
        // An array submitted as --array=4-5: task ids 4 and 5, the first being shard 0 of 2.
        var shards = new List<string>();
        foreach (var id in new[] { "4", "5" })
        {
            var directory = CliRunner.TemporaryDirectory();
            using var process = CliRunner.Start([.. Gaussian, "--out", directory],
                ("SLURM_ARRAY_TASK_ID", id), ("SLURM_ARRAY_TASK_MIN", "4"), ("SLURM_ARRAY_TASK_COUNT", "2"));
            var output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            Assert.Equal(0, process.ExitCode);
            Assert.Contains($"shard {int.Parse(id) - 4}/2", output);
            shards.Add(directory);
        }
        var merged = CliRunner.TemporaryDirectory();
        Succeeds(CliRunner.Run(["merge", .. shards, "--out", merged]));
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "gaussian.csv")), File.ReadAllBytes(Path.Combine(merged, "gaussian.csv")));
    }

    [Fact]
    public void Merge_refuses_missing_repeated_and_mismatched_shards_naming_them()
    {
        var (a, b) = (CliRunner.TemporaryDirectory(), CliRunner.TemporaryDirectory());
        Succeeds(CliRunner.Run([.. Gaussian, "--shard", "0/3", "--out", a]));
        Succeeds(CliRunner.Run([.. Gaussian, "--shard", "1/3", "--out", b]));

        var missing = CliRunner.Run(["merge", a, b, "--out", CliRunner.TemporaryDirectory()]);
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("shards 2/3 not given", missing.Error);
        Assert.Contains("replace,5,6", missing.Error); // cell 2 of the run order (setting, d, n) belongs to shard 2/3

        var repeated = CliRunner.Run(["merge", a, a, b, "--out", CliRunner.TemporaryDirectory()]);
        Assert.Equal(2, repeated.ExitCode);
        Assert.Contains("given twice", repeated.Error);

        var other = CliRunner.TemporaryDirectory();
        Succeeds(CliRunner.Run([.. Gaussian[..^1], "--seed", "9", "--no-figures", "--shard", "2/3", "--out", other]));
        var mismatched = CliRunner.Run(["merge", a, b, other, "--out", CliRunner.TemporaryDirectory()]);
        Assert.Equal(2, mismatched.ExitCode);
        Assert.Contains("different configuration", mismatched.Error);
        Assert.Contains(other, mismatched.Error);
    }

    /// <summary>
    /// The job-array scripts, run by bash with the variables Slurm sets for each task (no Slurm on
    /// this machine): every task's shard, then the merge script, give the unsharded CSV.
    /// </summary>
    [Fact]
    public async Task The_slurm_scripts_run_the_shards_and_merge_them()
    {
        var repository = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(repository, "Kernels.sln"))) repository = Path.GetDirectoryName(repository)!;
        var whole = CliRunner.TemporaryDirectory();
        Succeeds(CliRunner.Run([.. Kde, "--out", whole]));
        var work = CliRunner.TemporaryDirectory();
        var collapse = $"dotnet {typeof(Collapse.Cli.Program).Assembly.Location}";
        async Task Bash(string script, string[] args, params (string, string)[] environment)
        {
            var start = new System.Diagnostics.ProcessStartInfo("bash") { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = repository };
            start.ArgumentList.Add(Path.Combine(repository, "scripts", "slurm", script));
            foreach (var a in args) start.ArgumentList.Add(a);
            start.Environment["COLLAPSE"] = collapse;
            start.Environment["SHARDS_DIR"] = Path.Combine(work, "shards");
            start.Environment["MERGED_DIR"] = Path.Combine(work, "merged");
            foreach (var (name, value) in environment) start.Environment[name] = value;
            using var process = System.Diagnostics.Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
            await process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
            await process.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.True(process.ExitCode == 0, $"{script}: {await error}");
        }
        foreach (var task in new[] { "2", "0", "1" })
            await Bash("sweep.sbatch", Kde[1..], ("SLURM_ARRAY_TASK_ID", task), ("SLURM_ARRAY_TASK_MIN", "0"), ("SLURM_ARRAY_TASK_COUNT", "3"));
        await Bash("merge.sbatch", ["kde"]);
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "kde.csv")), File.ReadAllBytes(Path.Combine(work, "merged", "kde.csv")));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(work, "merged", "figures"), "kde-nll-*.png"));
    }

    /// <summary>
    /// Cells spread over two accelerators (here two CPU accelerators; on a GPU machine
    /// "--devices all") finish in any order; the CSV is still the single-device run's, in order.
    /// </summary>
    [Fact]
    public void Cells_spread_over_several_devices_give_the_single_device_csv()
    {
        var (one, two) = (CliRunner.TemporaryDirectory(), CliRunner.TemporaryDirectory());
        Succeeds(CliRunner.Run([.. Kde, "--accelerator", "cpu", "--out", one]));
        var spread = CliRunner.Run([.. Kde, "--devices", "cpu,cpu", "--out", two]);
        Succeeds(spread);
        Assert.Equal(2, spread.Out.Split('\n').Count(l => l.StartsWith("accelerator:", StringComparison.Ordinal)));
        Assert.Equal(File.ReadAllBytes(Path.Combine(one, "kde.csv")), File.ReadAllBytes(Path.Combine(two, "kde.csv")));

        var absent = CliRunner.Run([.. Kde, "--devices", "cpu,cuda:3", "--out", CliRunner.TemporaryDirectory()]);
        Assert.Equal(2, absent.ExitCode);
        Assert.Contains("--devices cuda:3", absent.Error);
    }

    [Fact]
    public void A_regression_grid_in_two_shards_on_two_devices_merges_to_the_unsharded_run()
    {
        // The CPU everywhere ("auto" would open another backend where one exists, e.g. PoCL in CI, and its bits differ).
        string[] regression = ["run", "regression", "--dims", "2,9", "--samples", "5,30", "--sigma-squared", "0.5,2", "--seeds", "3", "--iterations", "4",
            "--test-size", "50", "--no-figures"];
        var whole = CliRunner.TemporaryDirectory();
        Succeeds(CliRunner.Run([.. regression, "--accelerator", "cpu", "--out", whole]));
        var shards = new[] { CliRunner.TemporaryDirectory(), CliRunner.TemporaryDirectory() };
        Succeeds(CliRunner.Run([.. regression, "--shard", "0/2", "--devices", "cpu,cpu", "--out", shards[0]]));
        Succeeds(CliRunner.Run([.. regression, "--shard", "1/2", "--accelerator", "cpu", "--out", shards[1]]));
        var merged = CliRunner.TemporaryDirectory();
        Succeeds(CliRunner.Run(["merge", shards[1], shards[0], "--out", merged]));
        Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "regression.csv")), File.ReadAllBytes(Path.Combine(merged, "regression.csv")));
        Assert.Contains("\"status\": \"complete\"", File.ReadAllText(Path.Combine(merged, "manifest.json")));
        Succeeds(CliRunner.Run(["plot", Path.Combine(merged, "regression.csv")]));
    }
}
