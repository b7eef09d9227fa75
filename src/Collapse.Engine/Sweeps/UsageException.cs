namespace Collapse.Engine.Sweeps;

/// <summary>Bad input from the user: the message names the bad value and what would be valid. Exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
