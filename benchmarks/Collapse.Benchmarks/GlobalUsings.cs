// Namespaces most files of this project use, imported once (C# global usings).
global using BenchmarkDotNet.Attributes;
global using Collapse.Benchmarks.Harness;
global using Collapse.Kernels.Accelerators;
global using Collapse.Performance.Workloads;
global using ILGPU.Runtime;
