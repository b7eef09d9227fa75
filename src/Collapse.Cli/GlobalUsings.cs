// Namespaces many files of this project use, imported once (C# global usings) rather than at the top of each.
global using Collapse.Cli.Console;
global using Collapse.Engine.Sweeps;
global using Collapse.Experiments.Runs;
global using System.CommandLine;
