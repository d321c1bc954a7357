namespace Cordon.Profiles;

/// <summary>
/// Learn mode's folding of paths into folders: two or more paths in one folder become that folder while the folder
/// is safe to grant (the caller says what is safe: never "/", the home directory or above it, or a place with
/// credentials); paths covered by another result are dropped. Pure, so that it can be tested on any input.
/// </summary>
public static class FolderMerge
{
    public static List<string> Merge(IEnumerable<string> paths, Func<string, bool> safeFolder)
    {
        var set = new HashSet<string>(paths, StringComparer.Ordinal);
        bool changed = true;
        while (changed)
        {
            changed = false;
            foreach (var group in set.GroupBy(Parent).Where(g => g.Key is not null && g.Count() >= 2).ToList())
            {
                var parent = group.Key!;
                if (!safeFolder(parent))
                {
                    continue;
                }

                set.ExceptWith(group);
                set.Add(parent);
                changed = true;
            }
        }

        return set.Where(p => !set.Any(q => q != p && Below(p, q))).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>True when <paramref name="path"/> is strictly inside <paramref name="folder"/>.</summary>
    public static bool Below(string path, string folder) =>
        folder == "/" ? path.Length > 1 && path.StartsWith('/') : path.StartsWith(folder + "/", StringComparison.Ordinal);

    private static string? Parent(string p)
    {
        int slash = p.LastIndexOf('/');
        return slash <= 0 ? null : p[..slash];
    }
}
