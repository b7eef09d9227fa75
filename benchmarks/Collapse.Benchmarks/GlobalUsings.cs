// Namespaces many files of this project use, imported once (C# global usings) rather than at the top of each.
global using BenchmarkDotNet.Attributes;
global using Collapse.Benchmarks.Harness;
global using Collapse.Kernels.Accelerators;
global using Collapse.Performance.Workloads;
global using ILGPU.Runtime;
