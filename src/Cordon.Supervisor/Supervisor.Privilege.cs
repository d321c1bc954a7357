using Cordon.Interop;
using Cordon.Policy;

namespace Cordon.Supervisor;

/// <summary>
/// Privilege left behind: a setuid or setgid program, file capabilities, a device node or a file given to another
/// user would outlive the run and act outside the sandbox (an ordinary user running a setuid-root copy of sh made
/// by a root program gets euid 0). The policy's write rules say where the program may change files; these changes
/// need more: a user rule (flag or profile) that names the file itself, not a folder above it. Without one they are
/// refused (EPERM) and reported, under every prompt mode: a person answering "allow" to a write in the project
/// folder did not agree to a setuid binary.
/// </summary>
internal sealed partial class Supervisor
{
    /// <summary>The setuid bit, and the setgid bit on anything but a directory (where it only sets new files' group).</summary>
    private static uint PrivilegeBits(uint mode, uint type) =>
        (mode & Kernel.S_ISUID) | (type == Kernel.S_IFDIR ? 0 : mode & Kernel.S_ISGID);

    /// <summary>security.* (security.capability holds file capabilities) and trusted.* attributes.</summary>
    private static bool PrivilegedXattr(ReadOnlySpan<byte> name) =>
        name.StartsWith("security."u8) || name.StartsWith("trusted."u8);

    /// <summary>cordon's own user, or the user who started it through sudo: files given to them are no one else's.</summary>
    private static bool OwnUid(uint uid) =>
        uid == (uint)Libc.GetEUid() || (SystemPathResolver.SudoUser() is var (sudoUid, _) && uid == sudoUid);

    /// <summary>
    /// Whether a flag or a profile allows writes to exactly <paramref name="path"/> (not through a folder or a glob).
    /// An answer at a question does not count, not even "always" on that file: the person was asked about a write.
    /// </summary>
    private bool NamedByRule(string path) =>
        policy.UserRules.Any(r => r is { Kind: AccessKind.Write, Verdict: Verdict.Allow, Source: DecisionSource.Flag or DecisionSource.Profile, Descriptor: PathDescriptor { IsGlob: false } d } && d.Path == path);

    private bool PrivilegeAllowed(Call c, SafeFd obj, string what)
    {
        string canonical = Canonical(obj);
        if (NamedByRule(canonical))
        {
            return true;
        }

        Refuse(c, AccessKind.Write, Operation.Attributes, canonical, null, what + ": privilege left behind outside the sandbox; only a rule naming this file allows it");
        return false;
    }
}
