using Collapse.Cli.Commands;

namespace Collapse.Cli;

public static class Program
{
    public static int Main(string[] args) => CollapseApp.Run(args);
}
