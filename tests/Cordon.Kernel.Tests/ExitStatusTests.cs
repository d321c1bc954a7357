using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>Exit statuses scripts can trust: the program's own, 128+N for signals, 125-127 for cordon's failures.</summary>
public sealed class ExitStatusTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [Theory]
    [InlineData("exit 0", 0)]
    [InlineData("exit 3", 3)]
    [InlineData("kill -TERM $$", 143)]
    [InlineData("kill -KILL $$", 137)]
    public void The_programs_status_is_cordons_status(string script, int expected)
    {
        var r = s.Cordon("run", "--", "sh", "-c", script);
        Assert.True(expected == r.ExitCode, r.ToString());
    }

    [Fact]
    public void A_missing_program_exits_127_with_one_line()
    {
        var r = s.Cordon("run", "--", "no-such-program-xyz");
        Assert.Equal(127, r.ExitCode);
        Assert.Equal("cordon: program not found: no-such-program-xyz", r.Stderr.Trim());
    }

    [Fact]
    public void The_lsm_engine_where_it_cannot_run_exits_125_with_one_line_and_runs_nothing()
    {
        // This machine's kernel cannot load BPF LSM programs (and an ordinary user may not): --engine lsm must say
        // why in one line and never fall back silently to running the program some other way.
        var marker = s.WorkFile("ran.txt", "");
        File.Delete(marker);
        var r = s.Cordon("run", "--engine", "lsm", "-A", "--", "sh", "-c", $"echo x > {marker}");
        Assert.True(r.ExitCode == 125, r.ToString());
        Assert.StartsWith("cordon: the LSM engine cannot run here: ", r.Stderr.Trim(), StringComparison.Ordinal);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.False(File.Exists(marker));
    }

    [Fact]
    public void An_unknown_engine_is_a_usage_error()
    {
        var r = s.Cordon("run", "--engine", "docker", "--", "true");
        Assert.Equal(125, r.ExitCode);
        Assert.Contains("--engine", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Unload_needs_root_and_with_nothing_loaded_says_so()
    {
        // This kernel cannot load BPF LSM programs, so nothing is ever loaded here (the guest suite covers the rest).
        var r = s.Cordon("unload");
        if (Interop.Libc.GetEUid() == 0)
        {
            Assert.Equal(0, r.ExitCode);
            Assert.Contains("not loaded", r.Stdout, StringComparison.Ordinal);
        }
        else
        {
            Assert.Equal(1, r.ExitCode);
            Assert.Equal("cordon: unloading the LSM engine's programs needs root (sudo cordon unload)", r.Stderr.Trim());
        }
    }

    [Fact]
    public void A_file_that_is_not_executable_exits_126()
    {
        var f = s.WorkFile("plain.txt", "x");
        var r = s.Cordon("run", "--", f);
        Assert.Equal(126, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void A_bad_flag_exits_125_with_one_line()
    {
        var r = s.Cordon("run", "--allow-bogus", "--", "true");
        Assert.Equal(125, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
        Assert.StartsWith("cordon: ", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_net_flag_value_exits_125_with_one_line()
    {
        var r = s.Cordon("run", "--allow-net=1.2.3.4:99999", "--", "true");
        Assert.Equal(125, r.ExitCode);
        Assert.Single(r.Stderr.Trim().Split('\n'));
    }

    [Fact]
    public void Without_a_program_cordon_says_how_to_give_one()
    {
        var r = s.Cordon("run");
        Assert.Equal(125, r.ExitCode);
        Assert.Contains("no program given", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Help_teaches_the_flags()
    {
        var r = s.Cordon("--help");
        Assert.Equal(0, r.ExitCode);
        Assert.Contains("--allow-read", r.Stdout, StringComparison.Ordinal);
        Assert.Contains("Examples", r.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void The_run_verb_is_optional_and_words_after_the_program_are_its_own()
    {
        var r = s.Cordon("sh", "-c", "echo $0 $1", "x", "--allow-read");
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Equal("x --allow-read\n", r.Stdout);
    }
}
