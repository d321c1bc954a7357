namespace Cordon.Cli;

/// <summary>
/// Separates cordon's own options from the program to run. Everything after "--" is the program; without "--",
/// the first word that is not an option (nor the value of an option that takes one) starts it, so
/// `cordon run ls -la` works as well as `cordon run -- ls -la`. Permission flags take their value only with "="
/// (as in Deno): a bare `--allow-read` means "all reads", never "the next word".
/// </summary>
public static class CommandSplit
{
    /// <summary>Marks a permission flag given without "=" (everything of that kind).</summary>
    public const string Everything = "\u0001all";

    public static (List<string> Options, List<string> Program) Split(IReadOnlyList<string> args, IReadOnlySet<string> optionalValueFlags, IReadOnlySet<string> valueFlags)
    {
        var options = new List<string>();
        int i = 0;
        for (; i < args.Count; i++)
        {
            var a = args[i];
            if (a == "--")
            {
                i++;
                break;
            }

            if (!a.StartsWith('-') || a == "-")
            {
                break;
            }

            if (optionalValueFlags.Contains(a))
            {
                options.Add(a + "=" + Everything);
                continue;
            }

            options.Add(a);
            if (valueFlags.Contains(a) && i + 1 < args.Count)
            {
                options.Add(args[++i]);
            }
        }

        var program = new List<string>(args.Count - i);
        for (; i < args.Count; i++)
        {
            program.Add(args[i]);
        }

        return (options, program);
    }
}
