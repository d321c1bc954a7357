using System.Diagnostics;
using System.Globalization;
using Xunit;

namespace Cordon.Kernel.Tests;

/// <summary>
/// cordon on a system without libssl (slim container images): .NET's SHA-256 and its random numbers call OpenSSL on
/// Linux, and the native build aborts the process where libssl cannot be loaded. The test hides libssl and libcrypto
/// in a private mount namespace (an empty device bound over each) and runs, with a trusted project profile (its
/// SHA-256 is checked), a program whose DNS query cordon asks again with a random id.
/// </summary>
public sealed class WithoutOpenSslTests : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    private static bool Root => Interop.Libc.GetEUid() == 0;

    /// <summary>The loader's libssl and libcrypto files, from `ldconfig -p`.</summary>
    private static List<string> OpenSslLibraries()
    {
        foreach (var ldconfig in new[] { "ldconfig", "/sbin/ldconfig", "/usr/sbin/ldconfig" })
        {
            try
            {
                using var p = Process.Start(new ProcessStartInfo(ldconfig, "-p") { RedirectStandardOutput = true })!;
                var found = p.StandardOutput.ReadToEnd().Split('\n')
                    .Where(l => l.TrimStart().StartsWith("libssl.so", StringComparison.Ordinal) || l.TrimStart().StartsWith("libcrypto.so", StringComparison.Ordinal))
                    .Select(l => l[(l.IndexOf("=> ", StringComparison.Ordinal) + 3)..].Trim())
                    .Where(File.Exists)
                    .Distinct()
                    .ToList();
                p.WaitForExit();
                return found;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                // not at this path
            }
        }

        return [];
    }

    [Fact]
    public void A_trusted_project_profile_and_a_programs_dns_query_need_no_libssl()
    {
        File.WriteAllText(Path.Combine(s.Work, ".cordon.yaml"), "read:\n  allow:\n    - /tmp\n");
        var trust = s.Cordon("profile", "trust", ".cordon.yaml");
        Assert.True(trust.ExitCode == 0, trust.ToString());
        var libraries = OpenSslLibraries();
        Assert.NotEmpty(libraries); // this machine has them (.NET's tests need them); the point is to hide them

        string[] unshare = Root ? ["unshare", "--mount", "--propagation", "private"] : ["unshare", "--user", "--map-current-user", "--keep-caps", "--mount", "--propagation", "private"];
        const string hide = """
            import ctypes, os, sys
            libc = ctypes.CDLL(None, use_errno=True)
            n = int(sys.argv[1])
            for path in sys.argv[2:2 + n]:
                if libc.mount(b'/dev/null', path.encode(), None, 4096, None) != 0:  # MS_BIND
                    sys.exit('mount ' + path + ': ' + os.strerror(ctypes.get_errno()))
            os.execvp(sys.argv[2 + n], sys.argv[2 + n:])
            """;
        var r = s.Cordon([.. unshare, "python3", "-c", hide, libraries.Count.ToString(CultureInfo.InvariantCulture), .. libraries],
            ["run", "--no-prompt", "--allow-net", "--", "getent", "hosts", "example.com"], null);
        Assert.DoesNotContain("libssl", r.Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("ignoring .cordon.yaml", r.Stderr, StringComparison.Ordinal); // trusted: its hash matched
        Assert.True(r.ExitCode is 0 or 2, r.ToString()); // found or not found (a machine without DNS); 134 was the abort
    }
}
