using System.Text;
using Cordon.Policy;
using Xunit;

namespace Cordon.Policy.Tests;

/// <summary>The "#!" line read as fs/binfmt_script.c reads it: the interpreter cordon decides is the one the kernel opens.</summary>
public class ScriptHeaderTests
{
    private static (ExecFormat Format, string Interpreter, string? Argument) Parse(string head)
    {
        var format = ScriptHeader.Parse(Encoding.Latin1.GetBytes(head), out var interpreter, out var argument);
        return (format, Encoding.Latin1.GetString(interpreter), argument is null ? null : Encoding.Latin1.GetString(argument));
    }

    [Theory]
    [InlineData("#!/bin/sh\necho hi\n", "/bin/sh", null)]
    [InlineData("#! /bin/sh\n", "/bin/sh", null)]
    [InlineData("#!\t /usr/bin/env   node  \n", "/usr/bin/env", "node")]
    [InlineData("#!/usr/bin/python3 -u -x\n", "/usr/bin/python3", "-u -x")] // one argument: everything after the name
    [InlineData("#!evil\n", "evil", null)]                                  // relative: opened from the caller's cwd
    [InlineData("#!./bin/tool arg", "./bin/tool", "arg")]                   // no newline: the rest of the file (NUL padded)
    [InlineData("#!/bin/sh\0/tmp/evil\n", "/bin/sh", null)]                 // a NUL ends the line
    [InlineData("#!/bin/sh \r\n", "/bin/sh", "\r")]                         // CR is not whitespace to the kernel
    public void Interpreter_and_argument_are_split_as_the_kernel_does(string head, string interpreter, string? argument)
    {
        Assert.Equal((ExecFormat.Script, interpreter, argument), Parse(head));
    }

    [Theory]
    [InlineData("#!\n")]
    [InlineData("#!   \t \n")]
    public void A_line_without_a_name_is_refused_by_the_kernel(string head)
    {
        Assert.Equal(ExecFormat.BadScript, Parse(head).Format);
    }

    [Fact]
    public void A_bare_hash_bang_names_the_empty_path_which_the_kernel_cannot_open()
    {
        Assert.Equal((ExecFormat.Script, "", null), Parse("#!"));
    }

    [Fact]
    public void A_name_that_may_be_cut_off_at_256_bytes_is_refused()
    {
        // No newline, no space, tab or NUL after the name within the buffer: the kernel will not run a truncated path.
        Assert.Equal(ExecFormat.BadScript, Parse("#!/" + new string('a', 300)).Format);
    }

    [Fact]
    public void Only_the_first_256_bytes_count()
    {
        // The name fits and is followed by a space inside the buffer; the newline comes later and is never seen.
        var head = "#!/bin/sh " + new string('x', 300) + "\n";
        var (format, interpreter, argument) = Parse(head);
        Assert.Equal((ExecFormat.Script, "/bin/sh"), (format, interpreter));
        // The kernel puts a NUL into the buffer's last byte: the argument ends one byte short of it.
        Assert.Equal(new string('x', ScriptHeader.BufferSize - "#!/bin/sh ".Length - 1), argument);
    }

    [Fact]
    public void Elf_and_other_files_are_told_apart()
    {
        Assert.Equal(ExecFormat.Elf, ScriptHeader.Parse([0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1], out _, out _));
        Assert.Equal(ExecFormat.Unknown, Parse("echo no shebang\n").Format);
        Assert.Equal(ExecFormat.Unknown, Parse("").Format);
        Assert.Equal(ExecFormat.Unknown, Parse("#").Format);
    }
}
