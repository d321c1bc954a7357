namespace Cordon.Profiles;

/// <summary>
/// Profile values written so that the file works in another checkout and for another user: a path in the project
/// becomes "." or "./x", one in the home directory "~" or "~/x" (the project first, since it usually lies in the
/// home). Anything else stays as it is. Pure text: both directories are canonical paths.
/// </summary>
public static class Portable
{
    public static string Path(string value, string home, string project)
    {
        const string only = Cordon.Policy.ExactPathDescriptor.Prefix;
        if (value.StartsWith(only, StringComparison.Ordinal))
        {
            return only + Path(value[only.Length..], home, project);
        }

        home = home.TrimEnd('/');
        project = project.TrimEnd('/');

        // A project at or above the home would make "~/.ssh" read "./.ssh": the home's form is the honest one there.
        bool projectInHome = project.Length > 0 && project != home && !Cordon.Policy.Descriptor.InTree(project, home);
        if (projectInHome && Relative(value, project, ".") is { } inProject)
        {
            return inProject;
        }

        return home.Length > 0 && Relative(value, home, "~") is { } inHome ? inHome : value;
    }

    private static string? Relative(string value, string folder, string mark) =>
        value == folder ? mark
        : value.StartsWith(folder + "/", StringComparison.Ordinal) ? mark + value[folder.Length..]
        : null;
}
