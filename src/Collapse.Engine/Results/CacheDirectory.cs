namespace Collapse.Engine.Results;

/// <summary>Where the suite keeps what it can rebuild (perf-check's reference builds, pretrained language-model bases).</summary>
public static class CacheDirectory
{
    /// <summary>The cache, outside any clone: $COLLAPSE_CACHE, else $XDG_CACHE_HOME/collapse-kernels, else ~/.cache/collapse-kernels (the temporary directory without a home).</summary>
    public static string Root
    {
        get
        {
            if (Environment.GetEnvironmentVariable("COLLAPSE_CACHE") is { Length: > 0 } own) return own;
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            var root = xdg is { Length: > 0 } ? xdg : home.Length > 0 ? Path.Combine(home, ".cache") : Path.GetTempPath();
            return Path.Combine(root, "collapse-kernels");
        }
    }
}
