namespace Collapse.Engine.Results;

/// <summary>Reading the suite's tidy CSV files back (figures are drawn from them).</summary>
public static class TidyCsv
{
    /// <summary>Every data line parsed; the header must match exactly, and errors name the line.</summary>
    public static List<T> ReadAll<T>(string path, string header, Func<string, int, T> parse)
    {
        using var reader = new StreamReader(path);
        var first = reader.ReadLine();
        if (first != header)
            throw new FormatException($"{path}: header is '{first}', expected '{header}'");
        var rows = new List<T>();
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (line.Length > 0) rows.Add(parse(line, lineNumber));
        }
        return rows;
    }
}
