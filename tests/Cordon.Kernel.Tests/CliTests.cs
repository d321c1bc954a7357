using System.Diagnostics;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// The command line and profiles as a user mistypes them: one clear line, a suggestion when a near word exists,
/// exit 125 for cordon's own usage errors and 127 for a program not found, and nothing run.
/// </summary>
public sealed class CliTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private string Ran => Path.Combine(s.Work, "ran");

    private static string OneLine(RunResult r)
    {
        Assert.DoesNotContain("   at ", r.Stderr, StringComparison.Ordinal); // no stack trace
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, r.ToString());
        return lines[0];
    }

    [Fact]
    public void A_profile_the_YAML_library_chokes_on_gives_file_line_and_column_and_exit_125()
    {
        var bad = s.WorkFile("bad.yaml", "read: {allow: [.]\nwrite: x\n");
        var r = s.Cordon("run", "--profile", bad, "--", "touch", Ran);
        Assert.Equal(125, r.ExitCode);
        Assert.Matches($"^cordon: {System.Text.RegularExpressions.Regex.Escape(bad)}:[0-9]+:[0-9]+: ", OneLine(r));
        Assert.False(File.Exists(Ran));
    }

    [Fact]
    public void A_profile_name_that_does_not_exist_yet_is_named_in_one_line_and_the_run_goes_on()
    {
        // A new name is how a profile starts; a mistyped one looked the same and ran without its rules in silence.
        var r = s.Cordon("run", "--no-prompt", "--profile", "strcit", "--", "true");
        Assert.Equal(0, r.ExitCode);
        Assert.Equal($"cordon: profile strcit does not exist yet ({Path.Combine(s.Home, ".config", "cordon", "profiles", "strcit.yaml")}): this run has no rules from it", OneLine(r));
    }

    [Fact]
    public void Cordon_inside_cordon_says_in_one_line_that_it_is_already_in_a_sandbox()
    {
        // The outer run's filter refuses a second supervisor (and, for a root program, dropping capabilities): the
        // inner cordon used to print the launcher's system call and "stopped before installing the filter", and its
        // doctor said the kernel lacked seccomp user notification.
        var r = s.Cordon(["run", "-A", "--", .. Sandboxed.CordonCommand, "run", "--engine", "seccomp", "--", "touch", Ran]);
        Assert.Equal(125, r.ExitCode);
        Assert.StartsWith("cordon: cannot sandbox from here: this process is already in a sandbox (it runs under a seccomp filter: cordon inside cordon, or a container), and that sandbox refused: ", OneLine(r), StringComparison.Ordinal);
        Assert.False(File.Exists(Ran));

        var doctor = s.Cordon(["run", "-A", "--", .. Sandboxed.CordonCommand, "doctor"]);
        Assert.Equal(1, doctor.ExitCode);
        Assert.Contains("seccomp user notification: REFUSED: this process already runs under a seccomp filter that refuses a second supervisor", doctor.Stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("MISSING", doctor.Stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("read:\n  deny: [\"~/.ssh/id_[rd*\"]\n", "'[' without a closing ']'")]
    [InlineData("net:\n  allow: [\"300.0.0.1\"]\n", "is not a valid IPv4 address")]
    public void A_bad_glob_or_address_in_a_profile_stops_cordon(string profile, string expected)
    {
        var bad = s.WorkFile("p.yaml", profile);
        var r = s.Cordon("run", "--profile", bad, "--", "touch", Ran);
        Assert.Equal(125, r.ExitCode);
        Assert.Contains($"{bad}:2:", OneLine(r), StringComparison.Ordinal);
        Assert.Contains(expected, r.Stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Ran));
    }

    [Theory]
    [InlineData("--allow-read=src/[unclosed*", "--allow-read: ")]
    [InlineData("--deny-read=~/.ssh/id_[rd*", "--deny-read: ")]
    [InlineData("--allow-net=300.0.0.1", "--allow-net: \"300.0.0.1\" is not a valid IPv4 address")]
    [InlineData("--allow-net=300.0.0.1:443", "--allow-net: ")]
    public void A_bad_glob_or_address_in_a_flag_stops_cordon(string flag, string expected)
    {
        var r = s.Cordon("run", "--no-prompt", flag, "--", "touch", Ran);
        Assert.Equal(125, r.ExitCode);
        Assert.StartsWith("cordon: " + expected, OneLine(r), StringComparison.Ordinal);
        Assert.False(File.Exists(Ran));
    }

    [Theory]
    [InlineData("runn")]
    [InlineData("rnu")]
    [InlineData("doctr")]
    [InlineData("profiel")]
    public void A_mistyped_verb_is_not_found_with_a_suggestion(string verb)
    {
        var r = s.Cordon(verb, "--", "touch", Ran);
        Assert.Equal(127, r.ExitCode);
        Assert.Matches($"^cordon: program not found: {verb} \\(did you mean 'cordon (run|doctor|profile)'\\?\\)$", OneLine(r));
        Assert.False(File.Exists(Ran));
    }

    [Fact]
    public void A_program_not_found_that_is_no_verb_gets_no_suggestion()
    {
        var r = s.Cordon("no-such-program-xyz");
        Assert.Equal(127, r.ExitCode);
        Assert.Equal("cordon: program not found: no-such-program-xyz", OneLine(r));
    }

    [Theory]
    [InlineData("--allow-reed=.", "--allow-reed", "--allow-read")]
    [InlineData("--alow-write=.", "--alow-write", "--allow-write")]
    [InlineData("--no-promt", "--no-promt", "--no-prompt")]
    public void A_mistyped_option_names_the_near_one(string typo, string word, string meant)
    {
        var r = s.Cordon(typo, "--", "touch", Ran);
        Assert.Equal(125, r.ExitCode);
        Assert.Equal($"cordon: unknown option {word} (did you mean {meant}?) (see 'cordon --help')", OneLine(r));
        Assert.False(File.Exists(Ran));
    }

    [Fact]
    public void A_mistyped_subcommand_of_a_verb_names_the_near_one()
    {
        var r = s.Cordon("profile", "shwo", "npm");
        Assert.Equal(125, r.ExitCode);
        Assert.Contains("(did you mean show?)", OneLine(r), StringComparison.Ordinal);
    }

    [Fact]
    public void A_permission_flag_with_its_value_after_a_space_says_to_use_equals()
    {
        var r = s.Cordon("--allow-read", ".", "--", "touch", Ran);
        Assert.Equal(125, r.ExitCode);
        Assert.Equal("cordon: --allow-read takes its value with '=': --allow-read=. (--allow-read alone allows everything of its kind)", OneLine(r));
        Assert.False(File.Exists(Ran));

        // Without "--" the word is the program, as documented; not found, the line says what was probably meant.
        r = s.Cordon("run", "--allow-write", "./build", "touch", Ran);
        Assert.Equal(127, r.ExitCode);
        Assert.Equal("cordon: program not found: ./build (permission flags take their value with '=': --allow-write=./build)", OneLine(r));
        Assert.False(File.Exists(Ran));
    }

    [Fact]
    public void The_help_for_allow_all_says_what_it_does_with_secret_looking_variables()
    {
        var help = s.Cordon("--help");
        Assert.Equal(0, help.ExitCode);
        var text = System.Text.RegularExpressions.Regex.Replace(help.Stdout, @"\s+", " "); // help wraps to the width
        Assert.DoesNotContain("still keeps secret-looking variables out", text, StringComparison.Ordinal);
        Assert.Contains("secret-looking variables included", text, StringComparison.Ordinal);
        Assert.Contains("secret-looking ones included", text, StringComparison.Ordinal);

        var r = s.Cordon(["run", "-A", "--", "sh", "-c", "printf %s \"$GH_PAT\""], new Dictionary<string, string> { ["GH_PAT"] = "passed" });
        Assert.Equal(0, r.ExitCode);
        Assert.Equal("passed", r.Stdout);
    }

    [Fact]
    public void Profile_edit_that_saves_a_broken_file_rolls_back_when_nobody_asks_to_edit_again()
    {
        var dir = Path.Combine(s.Home, ".config", "cordon", "profiles");
        Directory.CreateDirectory(dir);
        var profile = Path.Combine(dir, "npm.yaml");
        const string good = "read:\n  allow: [\".\"]\n";
        File.WriteAllText(profile, good);
        var editor = s.WorkFile("break.sh", "#!/bin/sh\nprintf 'read: {allow: [.]\\nwrite: x\\n' > \"$1\"\n");
        File.SetUnixFileMode(editor, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var r = Edit("npm", editor, stdin: "");
        Assert.Equal(125, r.ExitCode);
        Assert.Contains($"cordon: {profile}:", r.Stderr, StringComparison.Ordinal);
        Assert.Contains("rolled back", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(good, File.ReadAllText(profile));
        Assert.Equal(["npm.yaml"], Directory.GetFiles(dir).Select(Path.GetFileName)); // no copy left behind

        // A profile that did not exist is not left created and broken either.
        r = Edit("newone", editor, stdin: "");
        Assert.Equal(125, r.ExitCode);
        Assert.False(File.Exists(Path.Combine(dir, "newone.yaml")));
    }

    [Fact]
    public void Profile_edit_offers_another_edit_and_keeps_the_fixed_file()
    {
        var dir = Path.Combine(s.Home, ".config", "cordon", "profiles");
        var count = Path.Combine(s.Work, "edits");
        // First edit breaks the file, the second fixes it.
        var editor = s.WorkFile("edit.sh", $"#!/bin/sh\necho x >> '{count}'\nif [ $(wc -l < '{count}') -eq 1 ]; then printf 'write: x\\n' > \"$1\"; else printf 'write:\\n  allow: [\"./build\"]\\n' > \"$1\"; fi\n");
        File.SetUnixFileMode(editor, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var r = Edit("make", editor, stdin: "e\n");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("e to edit it again", r.Stderr, StringComparison.Ordinal);
        Assert.Equal(2, File.ReadAllLines(count).Length);
        Assert.Equal("write:\n  allow: [\"./build\"]\n", File.ReadAllText(Path.Combine(dir, "make.yaml")));
    }

    private RunResult Edit(string name, string editor, string stdin)
    {
        var psi = new ProcessStartInfo(Sandboxed.CordonCommand[0])
        {
            WorkingDirectory = s.Work,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in Sandboxed.CordonCommand.Skip(1).Concat(["profile", "edit", name]))
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["HOME"] = s.Home;
        psi.Environment["PATH"] = Sandboxed.SystemPath;
        psi.Environment["XDG_CONFIG_HOME"] = Path.Combine(s.Home, ".config");
        psi.Environment["EDITOR"] = editor;
        psi.Environment.Remove("VISUAL");
        using var p = Process.Start(psi)!;
        p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(TimeSpan.FromMinutes(1)), "cordon profile edit did not finish");
        p.WaitForExit();
        return new RunResult(p.ExitCode, stdout.Result, stderr.Result);
    }
}
