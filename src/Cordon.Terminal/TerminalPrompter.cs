using System.Threading.Channels;
using Cordon.Interop;
using Cordon.Policy;

namespace Cordon.Terminal;

/// <summary>
/// Asks the person at the terminal. While a question is on screen the program's output is held back and replayed
/// afterwards; keys typed before the question appeared never answer it; Ctrl-C at a question denies and then reaches
/// the program like any Ctrl-C. One question at a time (the policy serializes them).
/// </summary>
public sealed class TerminalPrompter(TerminalProxy tty) : IPrompter
{
    public async Task<PromptAnswer> AskAsync(PromptQuestion question, CancellationToken cancellationToken)
    {
        tty.Hold();
        string box = PromptView.Render(question, tty.Columns);
        // Only keys pressed after the question is on screen can answer it: keys stop going to the program, what was
        // typed before is flushed and dropped, and then the box is drawn (nothing slow happens in between).
        var keys = TakeKeysAndDropTypeAhead();
        int height = tty.ShowBox(box);
        try
        {
            bool interrupted = false;
            PromptAnswer answer;
            var pressed = new AnswerKeys();
            while (true)
            {
                byte key = await keys.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (!pressed.Accept(key))
                {
                    continue;
                }

                if (key == Tty.CtrlC)
                {
                    answer = PromptAnswer.DenyOnce;
                    interrupted = true;
                    break;
                }

                if (PromptView.Answer(key, question) is { } a)
                {
                    answer = a;
                    break;
                }
            }

            tty.ReplaceBox(height, PromptView.Summary(question, PromptView.Outcome(answer, question)));
            height = 0;
            tty.GiveKeysBack();
            tty.Release();
            if (interrupted)
            {
                tty.Interrupt();
            }

            return answer;
        }
        catch (Exception e) when (e is OperationCanceledException or ChannelClosedException)
        {
            if (height > 0)
            {
                tty.ReplaceBox(height, PromptView.Summary(question, "denied (no answer)"));
            }

            tty.GiveKeysBack();
            tty.Release();
            throw new OperationCanceledException("the question was withdrawn", e, cancellationToken);
        }
    }

    private ChannelReader<byte> TakeKeysAndDropTypeAhead()
    {
        var keys = tty.TakeKeys();
        while (keys.TryRead(out _))
        {
        }

        return keys;
    }

    /// <summary>
    /// Asks once, before the program starts, whether variables that look secret may be passed to it: for this run
    /// (y, n) or from now on (a, d: the answer is saved as env rules naming exactly these variables).
    /// </summary>
    public async Task<EnvironmentAnswer> AskEnvironmentAsync(IReadOnlyList<string> names, CancellationToken cancellationToken)
    {
        string box = PromptView.RenderEnvironment(names, tty.Columns);
        var keys = TakeKeysAndDropTypeAhead();
        int height = tty.ShowBox(box);
        try
        {
            var pressed = new AnswerKeys();
            while (true)
            {
                byte key = await keys.ReadAsync(cancellationToken).ConfigureAwait(false);
                if (!pressed.Accept(key) || PromptView.EnvironmentAnswerOf(key) is not { } answer)
                {
                    continue;
                }

                tty.ReplaceBox(height, PromptView.EnvironmentOutcome(answer, names));
                return answer;
            }
        }
        finally
        {
            tty.GiveKeysBack();
        }
    }
}
