using System.Text;

namespace Cordon.Cli;

/// <summary>
/// The console's standard output or error, set up at the first write: a run that prints nothing (most runs) does not
/// pay for the console's encoding, stream and writer, about a millisecond of every start on our machines.
/// </summary>
internal sealed class LazyConsoleWriter(Func<TextWriter> open) : TextWriter
{
    private TextWriter? inner;

    private TextWriter Inner => LazyInitializer.EnsureInitialized(ref inner, open);

    public override Encoding Encoding => Inner.Encoding;

    public override void Write(char value) => Inner.Write(value);

    public override void Write(char[] buffer, int index, int count) => Inner.Write(buffer, index, count);

    public override void Write(string? value) => Inner.Write(value);

    public override void WriteLine() => Inner.WriteLine();

    public override void WriteLine(string? value) => Inner.WriteLine(value);

    public override void Flush() => Volatile.Read(ref inner)?.Flush();
}
