using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Collapse.Kernels.Validation;

/// <summary>What is wrong with a parameter.</summary>
public enum ParameterProblem
{
    /// <summary>The value is not one the parameter takes.</summary>
    BadValue,
    /// <summary>No value: an empty list, or a value that must be given and is not.</summary>
    Empty,
    /// <summary>A list names the same item twice (<see cref="InvalidParameterException.Value"/> is that item).</summary>
    Repeated,
    /// <summary>Valid alone, but not together with the value of <see cref="InvalidParameterException.Other"/>.</summary>
    Conflict,
    /// <summary>Valid, but what it asks for is not there: a device, enough memory, a readable file or directory, a finished shard.</summary>
    Unavailable,
}

/// <summary>
/// Bad input to the engine or the kernels, as data: which parameter (the engine's name for it, as its
/// property or method parameter is spelled), the value given, and what would be valid. The sentence is a
/// <see cref="ParameterText"/>, so each front end names the parameters its own way: <see cref="Exception.Message"/>
/// in the engine's words ("samples 1 is not valid: …"), the CLI with its flags ("--samples 1 is not valid: …").
/// It lives in the kernels, the lowest layer, so the kernels and the engine share the one type.
/// </summary>
public class InvalidParameterException : Exception
{
    /// <param name="valid">What would be valid, whether or not <paramref name="text"/> repeats it.</param>
    /// <param name="text">The whole sentence but the advice.</param>
    /// <param name="other">The second parameter of a <see cref="ParameterProblem.Conflict"/> (or the one a remedy names).</param>
    /// <param name="subject">What is at fault when it is not the value itself: a cell, a file, a shard's directory.</param>
    /// <param name="advice">What to do instead, after <paramref name="text"/> and a colon.</param>
    public InvalidParameterException(ParameterProblem problem, string parameter, string? value, ParameterText valid, ParameterText text,
        string? other = null, string? subject = null, ParameterText? advice = null)
    {
        Problem = problem;
        Parameter = parameter;
        Value = value;
        ValidText = valid;
        Text = text;
        Other = other;
        Subject = subject;
        AdviceText = advice;
    }

    public ParameterProblem Problem { get; }
    public string Parameter { get; }
    /// <summary>The bad value as given (null when there is none: an empty list, a missing value).</summary>
    public string? Value { get; }
    public string Valid => ValidText.ToString();
    public ParameterText ValidText { get; }
    public string? Other { get; }
    public string? Subject { get; }
    public string? Advice => AdviceText?.ToString();
    public ParameterText? AdviceText { get; }
    public ParameterText Text { get; }

    /// <summary>The sentence with each parameter named by <paramref name="name"/>.</summary>
    public string Describe(Func<string, string> name) => Text.Render(name) + (AdviceText is { } advice ? ": " + advice.Render(name) : "");

    public override string Message => Describe(ParameterText.Words);

    /// <summary>"P V is not valid: VALID" (a text value is shown quoted).</summary>
    public static InvalidParameterException BadValue(string parameter, object? value, ParameterText valid) =>
        new(ParameterProblem.BadValue, parameter, Invariant(value), valid, $"{Param(parameter)} {Shown(value)} is not valid: {valid}");

    /// <summary>"P is empty: VALID" (an empty list).</summary>
    public static InvalidParameterException Empty(string parameter, ParameterText valid) =>
        new(ParameterProblem.Empty, parameter, null, valid, $"{Param(parameter)} is empty: {valid}");

    /// <summary>"P is missing: VALID" (a value that must be given).</summary>
    public static InvalidParameterException Missing(string parameter, ParameterText valid) =>
        new(ParameterProblem.Empty, parameter, null, valid, $"{Param(parameter)} is missing: {valid}");

    /// <summary>Throws "P lists a NOUN twice" if <paramref name="items"/> repeats one (<see cref="Value"/>: the first repeated).</summary>
    public static void RefuseRepeats<T>(string parameter, IEnumerable<T> items, string noun, Func<T, string>? show = null)
    {
        var seen = new HashSet<T>();
        foreach (var item in items)
            if (!seen.Add(item))
                throw new InvalidParameterException(ParameterProblem.Repeated, parameter, show is null ? Invariant(item) : show(item),
                    $"each {noun} at most once", $"{Param(parameter)} lists a {noun} twice");
    }

    /// <summary>A value valid alone but not with <paramref name="other"/>'s; <paramref name="text"/> is the whole sentence.</summary>
    public static InvalidParameterException Conflict(string parameter, object? value, string other, ParameterText valid, ParameterText text) =>
        new(ParameterProblem.Conflict, parameter, Invariant(value), valid, text, other);

    /// <summary>A reference to a parameter inside a <see cref="ParameterText"/>.</summary>
    public static ParameterName Param(string name) => new(name);

    static string? Invariant(object? value) => value switch
    {
        null => null,
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    static string Shown(object? value) => value switch
    {
        string s => $"'{s}'",
        null => "(none)",
        IFormattable f => f.ToString(null, null),
        _ => value.ToString() ?? "",
    };
}

/// <summary>A parameter named inside a <see cref="ParameterText"/>, by the engine's name for it.</summary>
public readonly record struct ParameterName(string Name)
{
    // Formatted into a plain string (a nested $"…" is one) it can only be named in the engine's words.
    public override string ToString() => ParameterText.Words(Name);
}

/// <summary>
/// A sentence whose parameter names are left to the reader: literal text and values, and
/// <see cref="ParameterName"/>s that <see cref="Render"/> names. Built from an interpolated string
/// (<c>$"lower {Param(nameof(Iterations))} or the dimension"</c>), whose holes other than parameter names are
/// values, formatted as string interpolation formats them and never read as names. Only an interpolated
/// string converts (a plain string, or a conditional of two, does not: cast one branch), so no name is lost
/// to an early conversion to string.
/// </summary>
[InterpolatedStringHandler]
public sealed class ParameterText
{
    // string (literal or formatted value) or ParameterName; filled while the compiler builds it, not after.
    readonly List<object> parts = [];

    public ParameterText(int literalLength, int formattedCount) { }


    public void AppendLiteral(string text) => parts.Add(text);

    public void AppendFormatted(ParameterName name) => parts.Add(name);

    public void AppendFormatted(ParameterText text) => parts.AddRange(text.parts);

    public void AppendFormatted<T>(T value, string? format = null) =>
        parts.Add(value is IFormattable f ? f.ToString(format, null) : value?.ToString() ?? "");

    /// <summary>The parameters the sentence names, in order.</summary>
    public IEnumerable<string> Parameters => parts.OfType<ParameterName>().Select(p => p.Name);

    public string Render(Func<string, string> name)
    {
        var text = new StringBuilder();
        foreach (var part in parts) text.Append(part is ParameterName p ? name(p.Name) : (string)part);
        return text.ToString();
    }

    /// <summary>In the engine's words: each parameter as its name in lower-case words ("TestSize" → "test size").</summary>
    public override string ToString() => Render(Words);

    public static string Words(string name)
    {
        var words = new StringBuilder();
        for (var i = 0; i < name.Length; i++)
        {
            if (i > 0 && char.IsUpper(name[i]) && char.IsLower(name[i - 1])) words.Append(' ');
            words.Append(char.ToLowerInvariant(name[i]));
        }
        return words.ToString();
    }
}
