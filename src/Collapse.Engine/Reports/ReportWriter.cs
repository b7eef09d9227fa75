using System.Text;

namespace Collapse.Engine.Reports;

/// <summary>One experiment as the report shows it.</summary>
/// <param name="Name">The experiment (its folder under the report's directory).</param>
/// <param name="WallSeconds">Sweep and figures, as reproduce measured them (null: unknown).</param>
/// <param name="RanNow">False when this invocation skipped it as already finished.</param>
/// <param name="Device">Accelerator and device, from its manifest.</param>
/// <param name="Commit">The commit the tool that wrote it was built from, from its manifest.</param>
public sealed record ReportExperiment(string Name, double? WallSeconds, bool RanNow, string Device, string Commit, IReadOnlyList<Claim> Claims);

/// <summary>
/// <c>REPORT.md</c>: title, preset, device, commit, wall time per experiment, a verdict summary,
/// then per claim its sentence, the cells it aggregated, the rule, the numbers and the verdict,
/// with the figures that show it (embedded the first time, linked after).
/// </summary>
public static class ReportWriter
{
    public const string FileName = "REPORT.md";

    /// <summary>Figures embedded per claim (further ones are linked).</summary>
    public const int EmbeddedPerClaim = 2;

    /// <param name="directory">The report's directory (experiments in its subfolders); figures that do not exist there are left out.</param>
    public static string Render(string preset, string presetDescription, IReadOnlyList<ReportExperiment> experiments, string directory, string? machine = null)
    {
        var md = new StringBuilder();
        md.AppendLine($"# Collapse or Thrive? — reproduction report ({preset})").AppendLine();
        md.AppendLine("Kazdan et al. 2024, *Collapse or Thrive? Perils and Promises of Synthetic Data in a Self-Generating World* (arXiv 2410.16713). " +
                      "Every verdict below is computed from the CSVs beside this file by the rule stated with it (`collapse reproduce`; rules in `src/Collapse.Engine/Reports/Claims.cs`).").AppendLine();
        md.AppendLine($"- **Preset**: `{preset}`: {presetDescription}");
        var devices = experiments.Select(e => e.Device).Distinct().ToList();
        md.AppendLine($"- **Device**: {(devices.Count == 0 ? "none" : string.Join("; ", devices))}" + (machine is null ? "" : $" ({machine})"));
        var commits = experiments.Select(e => e.Commit).Distinct().ToList();
        md.AppendLine($"- **Commit**: {(commits.Count == 0 ? "unknown" : string.Join(", ", commits.Select(c => $"`{c}`")))}");
        md.AppendLine($"- **Wall time**: {string.Join(", ", experiments.Select(e => $"{e.Name} {Seconds(e.WallSeconds)}{(e.RanNow ? "" : " (an earlier run)")}"))}" +
                      (experiments.All(e => e.WallSeconds is not null) ? $"; total {Seconds(experiments.Sum(e => e.WallSeconds!.Value))}" : ""));
        md.AppendLine();

        var claims = experiments.SelectMany(e => e.Claims).ToList();
        md.AppendLine("## Verdicts").AppendLine();
        md.AppendLine("| claim | verdict | cells holding |").AppendLine("|---|---|---|");
        foreach (var c in claims)
            md.AppendLine($"| [{c.Id}](#{c.Id}) {Escape(c.Statement)} | **{Label(c.Verdict)}** | {c.Rows.Count(r => r.Verdict == Verdict.Holds)} of {c.Rows.Count} |");
        md.AppendLine();

        var embedded = new HashSet<string>();
        foreach (var experiment in experiments)
        {
            md.AppendLine($"## {experiment.Name}").AppendLine();
            md.AppendLine($"Data: [`{experiment.Name}/`]({experiment.Name}/) (CSV, `manifest.json`, figures).").AppendLine();
            foreach (var c in experiment.Claims)
            {
                md.AppendLine($"<a id=\"{c.Id}\"></a>").AppendLine($"### {c.Id}: {Label(c.Verdict)}").AppendLine();
                md.AppendLine($"**Claim.** {c.Statement}").AppendLine();
                md.AppendLine($"**Cells.** {c.Cells}").AppendLine();
                md.AppendLine($"**Rule.** {c.Rule}").AppendLine();
                if (c.Note is not null) md.AppendLine($"**Note.** {c.Note}").AppendLine();
                if (c.Rows.Count > 0)
                {
                    md.AppendLine($"| cell | {string.Join(" | ", c.Columns)} | verdict |");
                    md.AppendLine($"|---|{string.Concat(c.Columns.Select(_ => "---:|"))}---|");
                    foreach (var r in c.Rows)
                        md.AppendLine($"| {r.Cell} | {string.Join(" | ", r.Numbers)} | {Label(r.Verdict)} |");
                    md.AppendLine();
                }
                md.AppendLine($"**Verdict: {Label(c.Verdict)}** (rows: {c.Rows.Count(r => r.Verdict == Verdict.Holds)} of {c.Rows.Count} hold, " +
                              $"{c.Rows.Count(r => r.Verdict == Verdict.DoesNotHold)} do not, {c.Rows.Count(r => r.Verdict == Verdict.Inconclusive)} inconclusive).").AppendLine();
                var figures = c.Figures.Select(f => $"{experiment.Name}/{f}").Where(f => File.Exists(Path.Combine(directory, f))).ToList();
                var embed = figures.Where(f => !embedded.Contains(f)).Take(EmbeddedPerClaim).ToList();
                foreach (var f in embed)
                {
                    embedded.Add(f);
                    md.AppendLine($"![{Path.GetFileNameWithoutExtension(f)}]({f})");
                }
                if (embed.Count > 0) md.AppendLine();
                var linked = figures.Except(embed).ToList();
                if (linked.Count > 0) md.AppendLine("Figures: " + string.Join(", ", linked.Select(f => $"[{Path.GetFileName(f)}]({f})"))).AppendLine();
            }
        }
        return md.ToString();
    }

    public static string Label(Verdict verdict) => verdict switch
    {
        Verdict.Holds => "holds",
        Verdict.DoesNotHold => "does not hold",
        _ => "inconclusive",
    };

    static string Seconds(double? seconds) => seconds is { } s ? s.ToString("F1", CultureInfo.InvariantCulture) + " s" : "unknown";

    static string Escape(string text) => text.Replace("|", "\\|");
}
