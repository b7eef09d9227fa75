// Namespaces many files of this project use, imported once (C# global usings) rather than at the top of each.
global using Collapse.Engine.Results;
global using Collapse.Engine.Sweeps;
global using ScottPlot;
global using SkiaSharp;
global using System.Globalization;
