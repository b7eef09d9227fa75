using Collapse.Cli.Commands;

namespace Collapse.Tests.Cli;

[CollectionDefinition(nameof(ConsoleCapture), DisableParallelization = true)]
public sealed class ConsoleCapture;

/// <summary>
/// Property: every malformed command line — a seeded random generator mutates one to three
/// options of a small valid run into bad values — exits with code 2, a one-line "error:" message
/// and no stack trace, and writes nothing. Runs in process (thousands of cases), with the console
/// captured, so it does not run beside other tests.
/// </summary>
[Collection(nameof(ConsoleCapture))]
public class MalformedInputFuzzTests
{
    static readonly string[] BadIntegers = ["-1", "abc", "1e3", "2147483648", "", " ", "NaN", "1.5", "99999999999999999999", "0x10", "1,2", "--"];
    static readonly string[] BadLists = [",", "1,", ",1", "x", "1,,2", "", "3,3", "-5", "1;2", "2147483648", "1.0", "+"];
    static readonly string[] BadBandwidths = ["0", "-1", "inf", "nan", "1e400", "scott,scott", "0x10", "wide", ",", "0.5,", "-0", "1/2"];
    static readonly string[] BadNames = ["mix", "Blobs2", "moons,", "", ",", "replace,replace", "swiss roll", "*", "blobs;moons", "\u00e9"];
    static readonly string[] BadShards = ["3/3", "-1/2", "1/0", "a/b", "1", "/", "0/", "1/2/3", ""];
    static readonly string[] BadDevices = ["gpu", "cpu,", ",", "auto", "cpu:x", "cuda:7", "cpu;cpu", ""];
    static readonly string[] BadAccelerators = ["gpu", "cpu:x", "cpu:-1", "cuda:", ":", "cpu:1", "tpu", ""];

    /// <summary>Corpus files no run can use: missing, empty, blank, one document, a document too long for --block-size 6 … (the valid run's is 8).</summary>
    static readonly string[] BadCorpora = MakeBadCorpora();

    static string[] MakeBadCorpora()
    {
        var directory = CliRunner.TemporaryDirectory();
        Directory.CreateDirectory(directory);
        string File(string name, string text)
        {
            var path = Path.Combine(directory, name);
            System.IO.File.WriteAllText(path, text);
            return path;
        }
        return [Path.Combine(directory, "missing.txt"), File("empty.txt", ""), File("blank.txt", "\n  \n\t\n"), File("one.txt", "anna\n"),
            File("long.txt", "anna\nbob\n" + new string('x', 300) + "\n"), InvalidUtf8(directory), directory];
    }

    static string InvalidUtf8(string directory)
    {
        var path = Path.Combine(directory, "invalid-utf8.txt");
        System.IO.File.WriteAllBytes(path, [(byte)'a', (byte)'\n', 0xff, 0xfe, (byte)'\n', (byte)'b', (byte)'\n']);
        return path;
    }

    /// <summary>(option, malformed values) per command; every value is invalid for its option.</summary>
    static readonly Dictionary<string, (string Option, string[] Values)[]> Mutations = new()
    {
        ["gaussian"] =
        [
            ("--dims", [.. BadLists, "0", "1025"]), ("--samples", [.. BadLists, "1", "0"]), ("--seeds", [.. BadIntegers, "0"]),
            ("--iterations", [.. BadIntegers, "0"]), ("--settings", BadNames), ("--method", ["exact", "", "Data2", "wishart,data"]),
            ("--seed", ["-1", "x", "4294967296", ""]), ("--kernels", ["gpu", "", "simd"]), ("--accelerator", BadAccelerators), ("--shard", BadShards), ("--devices", BadDevices),
        ],
        ["kde"] =
        [
            ("--datasets", BadNames), ("--bandwidths", BadBandwidths), ("--samples", [.. BadLists, "0"]),
            ("--seeds", [.. BadIntegers, "0"]), ("--iterations", [.. BadIntegers, "0"]), ("--settings", BadNames),
            ("--test-size", [.. BadIntegers, "0", "1000001"]), ("--seed", ["-1", "x", "4294967296", ""]),
            ("--kernels", ["gpu", "", "simd"]), ("--accelerator", BadAccelerators), ("--shard", BadShards), ("--devices", BadDevices),
        ],
        ["lm"] =
        [
            ("--preset", ["huge", "", ",", "tiny,tiny", "tiny;makemore", "Tiny2"]), ("--layers", ["0", "-1", "x", "65", ""]),
            ("--width", ["7", "0", "-1", "abc", "5000"]), ("--heads", ["0", "3", "-2", "x", "16"]), ("--batch", ["0", "-3", "x", "65537"]),
            ("--lr", ["0", "-1", "nan", "inf", "x", ""]), ("--steps", ["0", "-1", "x", "2147483648"]), ("--train-size", ["0", "-1", "99999999", "x"]),
            ("--block-size", ["0", "1", "3", "257", "x"]), ("--corpus", BadCorpora), ("--seeds", [.. BadIntegers, "0"]), ("--iterations", [.. BadIntegers, "0"]),
            ("--settings", BadNames), ("--seed", ["-1", "x", "4294967296", ""]), ("--kernels", ["gpu", "", "simd"]), ("--accelerator", BadAccelerators),
            ("--shard", BadShards), ("--devices", BadDevices),
        ],
        ["mix"] =
        [
            ("--family", ["vae", "", ",", "gaussian,kde", "Gauss"]), ("--real", [.. BadLists, "0", "1", "21"]), ("--synthetic", BadLists),
            ("--generator-real", ["0", "-1", "x", "", "4", "1e3"]), ("--generator", ["oracle", "", "fitted,truth"]), ("--generator-shift", ["nan", "inf", "x", ""]),
            ("--dim", ["0", "-1", "x", "1025", ""]), ("--test-size", [.. BadIntegers, "0", "1000001"]), ("--dataset", ["moons"]), ("--bandwidth", ["0.5"]),
            ("--preset", ["tiny"]), ("--steps", ["5"]), ("--seeds", [.. BadIntegers, "0"]), ("--seed", ["-1", "x", "4294967296", ""]),
            ("--kernels", ["gpu", "", "simd"]), ("--accelerator", BadAccelerators), ("--shard", BadShards), ("--devices", BadDevices),
        ],
    };

    static readonly Dictionary<string, string[]> Valid = new()
    {
        ["gaussian"] = ["--dims", "2", "--samples", "5", "--seeds", "1", "--iterations", "1", "--no-figures"],
        ["kde"] = ["--datasets", "moons", "--bandwidths", "0.5", "--samples", "5", "--seeds", "1", "--iterations", "1", "--test-size", "5", "--no-figures"],
        ["lm"] = ["--preset", "tiny", "--layers", "1", "--width", "8", "--heads", "2", "--batch", "4", "--lr", "0.01", "--steps", "1", "--train-size", "8",
            "--block-size", "16", "--seeds", "1", "--iterations", "1", "--no-figures"],
        ["mix"] = ["--family", "gaussian", "--dim", "2", "--real", "5", "--synthetic", "0,5", "--generator-real", "20", "--seeds", "1", "--test-size", "5", "--no-figures"],
    };

    /// <summary>Malformed shapes beyond bad values: unknown options and commands, missing values.</summary>
    static readonly string[][] Shapes =
    [
        ["run", "qde"], ["run"], ["rn", "kde"], ["run", "kde", "--bogus", "1"], ["run", "kde", "--seeds"], ["run", "gaussian", "--dims"],
        ["run", "kde", "extra-argument"], ["plot"], ["run", "lm", "--samples", "5"], ["run", "lm", "--preset"], ["run", "gaussian", "--seeds", "1", "--seeds", "2", "--dims", "0"],
        ["run", "mix"], ["run", "mix", "--family"], ["run", "mix", "--family", "gaussian", "--iterations", "3"],
    ];

    static readonly string[] Commands = ["gaussian", "kde", "lm", "mix"];

    [Fact]
    public void Thousands_of_malformed_command_lines_exit_2_with_one_message_and_write_nothing()
    {
        var random = new System.Random(20261126);
        var root = CliRunner.TemporaryDirectory();
        var cases = 0;
        var (stdout, stderr) = (System.Console.Out, System.Console.Error);
        try
        {
            for (var i = 0; i < 2500; i++)
            {
                string[] args;
                if (i < Shapes.Length) args = Shapes[i];
                else
                {
                    var command = Commands[random.Next(Commands.Length)];
                    var options = new List<(string, string)>();
                    for (var k = 0; k < Valid[command].Length - 1; k += 2) options.Add((Valid[command][k], Valid[command][k + 1]));
                    var mutations = Mutations[command];
                    foreach (var _ in Enumerable.Range(0, 1 + random.Next(3)))
                    {
                        var (option, values) = mutations[random.Next(mutations.Length)];
                        options.RemoveAll(o => o.Item1 == option);
                        options.Add((option, values[random.Next(values.Length)]));
                    }
                    args = ["run", command, .. options.OrderBy(_ => random.Next()).SelectMany(o => new[] { o.Item1, o.Item2 }), "--no-figures"];
                }
                var directory = Path.Combine(root, i.ToString());
                var output = new StringWriter();
                var error = new StringWriter();
                System.Console.SetOut(output);
                System.Console.SetError(error);
                var code = CollapseApp.Run([.. args, "--out", directory]);
                System.Console.SetOut(stdout);
                System.Console.SetError(stderr);
                var message = error.ToString().Trim();
                var shown = string.Join(' ', args.Select(a => $"'{a}'"));
                Assert.True(code == 2, $"exit {code} for {shown}: {message} {output}");
                Assert.True(message.StartsWith("error: ", StringComparison.Ordinal), $"no error message for {shown}: '{message}'");
                Assert.DoesNotContain("   at ", message);
                Assert.DoesNotContain("Exception", message);
                Assert.False(Directory.Exists(directory), $"{shown} wrote to --out");
                cases++;
            }
        }
        finally
        {
            System.Console.SetOut(stdout);
            System.Console.SetError(stderr);
        }
        Assert.Equal(2500, cases);
    }
}
