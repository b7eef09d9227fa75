// Namespaces many files of this project use, imported once (C# global usings) rather than at the top of each.
global using Collapse.Kernels.Accelerators;
global using Collapse.Kernels.Random;
global using Collapse.Performance.Reference;
global using ILGPU.Runtime;
global using ILGPU;
global using System.Diagnostics;
