// Namespaces many files of this project use, imported once (C# global usings) rather than at the top of each.
global using Collapse.Engine.Data;
global using Collapse.Engine.Families.Gaussian;
global using Collapse.Engine.Families.Lm;
global using Collapse.Engine.Families.Points;
global using Collapse.Engine.Families.Regression;
global using Collapse.Engine.Families;
global using Collapse.Engine.Results;
global using Collapse.Engine.Scenarios;
global using Collapse.Kernels.Accelerators;
global using Collapse.Kernels.Gaussian;
global using Collapse.Kernels.Kde;
global using Collapse.Kernels.Lm;
global using Collapse.Kernels.Random;
global using Collapse.Kernels.Validation;
global using ILGPU.Runtime;
global using ILGPU;
global using System.Globalization;
