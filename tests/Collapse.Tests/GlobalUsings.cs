// Namespaces many files of this project use, imported once (C# global usings) rather than at the top of each.
global using Collapse.Engine.Data;
global using Collapse.Engine.Families;
global using Collapse.Engine.Reports;
global using Collapse.Engine.Results;
global using Collapse.Engine.Scenarios;
global using Collapse.Engine.Sweeps;
global using Collapse.Kernels.Accelerators;
global using Collapse.Kernels.Gaussian;
global using Collapse.Kernels.Kde;
global using Collapse.Kernels.Lm;
global using Collapse.Kernels.Random;
global using Collapse.Tests.Reference;
global using ILGPU.Runtime;
global using ILGPU;
