namespace Cordon.Terminal;

/// <summary>
/// Which bytes from the keyboard may answer a question: not those inside an escape sequence. A terminal answers some
/// queries by typing (a colour query is answered "\e]11;rgb:ffff/ffff/ffff\e\\", which holds an 'f'); a program could
/// send a query just before it makes a request and let the answer arrive after the question appeared. Arrow and
/// function keys (ESC [ ..., ESC O x) and Alt+key (ESC key) are dropped the same way.
/// </summary>
public sealed class AnswerKeys
{
    private enum State
    {
        Ground,
        Escape,
        C1Lead,
        Csi,
        Ss3,
        String,
        StringEscape,
    }

    private State state;

    private static State C1(byte key) => key switch
    {
        0x9b => State.Csi,
        0x90 or 0x98 or 0x9d or 0x9e or 0x9f => State.String,
        _ => State.Ground,
    };

    /// <summary>True when <paramref name="key"/> is a key pressed on its own, which may answer.</summary>
    public bool Accept(byte key)
    {
        switch (state)
        {
            case State.Ground:
                if (key == 0x1b)
                {
                    state = State.Escape;
                    return false;
                }

                // C1 introducers, 8-bit (S8C1T) or in UTF-8 (C2 9B CSI, C2 9D OSC, C2 90 DCS), begin sequences too.
                state = key == 0xc2 ? State.C1Lead : C1(key);
                return key < 0x80;
            case State.C1Lead:
                state = C1(key);
                return false;
            case State.Escape:
                state = key switch
                {
                    (byte)'[' => State.Csi,
                    (byte)']' or (byte)'P' or (byte)'_' or (byte)'^' or (byte)'X' => State.String,
                    (byte)'O' => State.Ss3,
                    0x1b => State.Escape,
                    _ => State.Ground,
                };
                return false;
            case State.Csi:
                if (key is >= 0x40 and <= 0x7e)
                {
                    state = State.Ground;
                }

                return false;
            case State.Ss3:
                state = State.Ground;
                return false;
            case State.String:
                state = key switch
                {
                    0x07 or 0x9c => State.Ground,
                    0x1b => State.StringEscape,
                    _ => State.String,
                };
                return false;
            default:
                state = key == (byte)'\\' ? State.Ground : State.String;
                return false;
        }
    }
}
