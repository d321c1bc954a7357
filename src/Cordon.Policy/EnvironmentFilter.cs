using System.Text.RegularExpressions;

namespace Cordon.Policy;

/// <param name="Passed">What the program gets.</param>
/// <param name="Withheld">Names kept from it, sorted.</param>
public sealed record EnvResult(IReadOnlyDictionary<string, string> Passed, IReadOnlyList<string> Withheld);

/// <summary>
/// Environment variables are decided once, at start: the seccomp engine cannot see a program read its own memory.
/// A variable passes unless its name looks secret or a deny rule names it; an allow rule (or `--allow-env` alone)
/// lets a secret-looking one pass.
/// </summary>
public static partial class EnvironmentFilter
{
    // Names that carry credentials on their own, whatever their shape.
    private static readonly HashSet<string> KnownSecret = new(StringComparer.Ordinal)
    {
        "SSH_AUTH_SOCK", // the ssh agent: signing with the user's keys
        "GPG_AGENT_INFO", "DATABASE_URL", "REDIS_URL", "MONGODB_URI", "AMQP_URL", "SENTRY_DSN",
        "GOOGLE_APPLICATION_CREDENTIALS", "KUBECONFIG", "DOCKER_AUTH_CONFIG", "VAULT_ADDR",
    };

    /// <summary>True when a name looks like it holds a secret: TOKEN, SECRET, PASSWORD, API/ACCESS/PRIVATE KEY, ...</summary>
    public static bool LooksSecret(string name) =>
        KnownSecret.Contains(name) || SecretWord().IsMatch(name)
        || ((name.StartsWith("AWS_", StringComparison.Ordinal) || name.StartsWith("AZURE_", StringComparison.Ordinal)) && !CloudSetting().IsMatch(name))
        || name.EndsWith("_DSN", StringComparison.Ordinal);

    // Cloud variables that name a place or a file, not a credential: AWS_REGION, AWS_PROFILE, AWS_CA_BUNDLE...
    // (a name that also has a secret word, like AWS_SECRET_ACCESS_KEY, is caught by SecretWord first).
    [GeneratedRegex("_(REGION|DEFAULT_REGION|PROFILE|CA_BUNDLE|CONFIG_FILE|SHARED_CREDENTIALS_FILE|ENDPOINT_URL|PAGER|DEFAULT_OUTPUT|RETRY_MODE|MAX_ATTEMPTS|SDK_LOAD_CONFIG|LOCATION)$")]
    private static partial Regex CloudSetting();

    // A word of the name (split at '_'): TOKEN, SECRET, PASSWORD, PASSWD, PASS, PWD (not the shell's PWD alone),
    // CREDENTIAL(S), AUTH, COOKIE, SESSION, and KEY/APIKEY (not KEYBOARD, KEYMAP: whole words only).
    [GeneratedRegex("(^|_)(TOKEN|TOKENS|SECRET|SECRETS|PASSWORD|PASSWD|PASS|PASSPHRASE|CREDENTIAL|CREDENTIALS|CREDS|AUTH|COOKIE|SESSION|KEY|APIKEY|PRIVATE)(_|$)|^[A-Z0-9]+_PWD$", RegexOptions.IgnoreCase)]
    private static partial Regex SecretWord();

    public static EnvResult Filter(IReadOnlyDictionary<string, string> environment, IReadOnlyList<Rule> envRules)
    {
        var passed = new Dictionary<string, string>(StringComparer.Ordinal);
        var withheld = new List<string>();
        foreach (var (name, value) in environment)
        {
            var request = new Request(AccessKind.Env, Operation.EnvRead, name, null, Subject.Unknown(0));
            Rule? best = null;
            foreach (var rule in envRules)
            {
                if (rule.Kind == AccessKind.Env && rule.Descriptor.Matches(request)
                    && (best is null || rule.Descriptor.Specificity > best.Descriptor.Specificity
                        || (rule.Descriptor.Specificity == best.Descriptor.Specificity && rule.Verdict == Verdict.Deny)))
                {
                    best = rule;
                }
            }

            bool pass = best is not null ? best.Verdict == Verdict.Allow : !LooksSecret(name);
            if (pass)
            {
                passed[name] = value;
            }
            else
            {
                withheld.Add(name);
            }
        }

        withheld.Sort(StringComparer.Ordinal);
        return new EnvResult(passed, withheld);
    }
}
