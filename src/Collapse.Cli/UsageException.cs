namespace Collapse.Cli;

/// <summary>
/// Bad input that only the CLI checks (its own options' syntax), already worded with flags: the message
/// names the bad value and what would be valid. Exit code 2. The engine's checks throw
/// <see cref="Collapse.Kernels.Validation.InvalidParameterException"/> instead, which the CLI words with flags.
/// </summary>
public sealed class UsageException(string message) : Exception(message);
