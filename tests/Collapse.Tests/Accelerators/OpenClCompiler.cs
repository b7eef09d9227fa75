using System.Diagnostics;

namespace Collapse.Tests.Accelerators;

/// <summary>
/// Debian's clang-14 as a real OpenCL C 2.0 compiler: it front-ends the source to LLVM IR for a
/// generic 64-bit target, which is what a driver's compiler does first, so an undeclared function,
/// a type error or a missing extension fails here as it would on a device. The test installs
/// nothing: <c>.ci/run</c> makes sure clang-14 is there.
/// </summary>
public static class OpenClCompiler
{
    public const string Program = "clang-14";

    public static void AssertBuilds(string kernel, string source)
    {
        var file = Path.Combine(Path.GetTempPath(), $"collapse-cl-{Guid.NewGuid():N}.cl");
        File.WriteAllText(file, source);
        try
        {
            var start = new ProcessStartInfo(Program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "-x", "cl", "-cl-std=CL2.0", "-Xclang", "-finclude-default-header", "-target", "x86_64-unknown-linux",
                                      "-emit-llvm", "-S", "-o", "/dev/null", file })
                start.ArgumentList.Add(a);
            Process clang;
            try
            {
                clang = Process.Start(start)!;
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                throw new InvalidOperationException($"{Program} is needed to check the OpenCL C of every kernel and is not on PATH ({e.Message}): apt-get install clang-14", e);
            }
            using (clang)
            {
                var errors = clang.StandardError.ReadToEndAsync();
                clang.StandardOutput.ReadToEnd();
                clang.WaitForExit();
                Assert.True(clang.ExitCode == 0, $"{kernel}'s OpenCL C does not build with {Program}:\n{string.Join('\n', errors.Result.Split('\n').Take(20))}");
            }
        }
        finally
        {
            File.Delete(file);
        }
    }
}
