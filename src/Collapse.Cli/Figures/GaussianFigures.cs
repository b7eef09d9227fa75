using Collapse.Engine.Results;

namespace Collapse.Cli.Figures;

// Placeholder until the figures land (being written in parallel); replaced by the real file.
public static class GaussianFigures
{
    public static IReadOnlyList<string> DrawAll(IReadOnlyList<GaussianRow> rows, string figuresDirectory) => [];
}
