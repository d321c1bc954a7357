using System.Text.RegularExpressions;

namespace Cordon.Policy;

/// <param name="Passed">What the program gets.</param>
/// <param name="Withheld">Names kept from it, sorted.</param>
public sealed record EnvResult(IReadOnlyDictionary<string, string> Passed, IReadOnlyList<string> Withheld)
{
    /// <summary>The withheld names no rule decided (they look secret): the ones a person is asked about, sorted.</summary>
    public IReadOnlyList<string> Undecided { get; init; } = [];
}

/// <summary>
/// Environment variables are decided once, at start: the seccomp engine cannot see a program read its own memory.
/// A variable passes unless its name looks secret, its value carries a credential, or a deny rule names it; an
/// allow rule (or `--allow-env` alone) lets a secret-looking one pass.
/// </summary>
/// <remarks>
/// Withholding a harmless variable costs one `--allow-env=NAME`; passing a token hands it to the code cordon exists
/// to distrust. So names are matched generously (case-insensitively, by substring as well as by word) and the
/// exceptions are a short, named list of variables every desktop or shell sets.
/// </remarks>
public static partial class EnvironmentFilter
{
    // Names that carry credentials on their own, whatever their shape.
    private static readonly HashSet<string> KnownSecret = new(StringComparer.OrdinalIgnoreCase)
    {
        "SSH_AUTH_SOCK", // the ssh agent: signing with the user's keys
        "GPG_AGENT_INFO", "DATABASE_URL", "REDIS_URL", "MONGODB_URI", "MONGO_URL", "AMQP_URL", "SENTRY_DSN",
        "GOOGLE_APPLICATION_CREDENTIALS", "KUBECONFIG", "DOCKER_AUTH_CONFIG", "VAULT_ADDR",
        "GIT_CONFIG_PARAMETERS", // `git -c http.extraHeader=...` passes headers (and tokens) to child gits this way
    };

    // Harmless names that a substring or word below would catch: set by desktops, shells and common tools, holding
    // no credential. Their values are still checked.
    private static readonly HashSet<string> KnownHarmless = new(StringComparer.OrdinalIgnoreCase)
    {
        "PWD", "OLDPWD", "TOKENIZERS_PARALLELISM",
        "LESSKEY", "LESSKEYIN", "LESSKEY_SYSTEM", "LESSKEYIN_SYSTEM", "LESSKEY_CONTENT",
    };

    // Pieces that mark a credential wherever they stand in the name, looked for in the name with its separators
    // removed (CLIENT_SECRET and CLIENTSECRET alike, PGPASSWORD, npm_config_//host/:_authToken). PASS, PAT, KEY
    // and AUTH are not here: they are parts of PATH, COMPASS, KEYBOARD and AUTHOR, and are matched as words.
    private static readonly string[] SecretPieces =
    [
        "TOKEN", "SECRET", "PASSWORD", "PASSWD", "PASSPHRASE", "PGPASS", "CREDENTIAL", "APIKEY", "ACCESSKEY",
        "PRIVATEKEY", "SIGNINGKEY", "ENCRYPTIONKEY", "MASTERKEY", "DEPLOYKEY", "AUTHKEY", "SSHKEY", "JWT", "BEARER",
        "WEBHOOK", "COOKIE", "CONNECTIONSTRING", "CONNSTR",
    ];

    // Whole words of the name (split at anything that is not a letter or digit): GH_PAT, STRIPE_SK, DB_PASS,
    // MYSQL_PWD, NPM_CONFIG__AUTH (npm's base64 user:password), AWS_ACCESS_KEY_ID. Not SESSION: desktops and
    // terminal multiplexers set KDE_SESSION_VERSION, ZELLIJ_SESSION_NAME, GNOME_DESKTOP_SESSION_ID; a session's
    // credential is a SESSION_TOKEN, _KEY, _SECRET or _COOKIE, caught by those words.
    private static readonly string[] SecretWords =
    [
        "PASS", "PWD", "PAT", "SK", "PSK", "AUTH", "KEY", "KEYS", "PRIVATE", "CREDS", "DSN", "OTP",
    ];

    /// <summary>
    /// True when a name looks like it holds a secret: a piece such as TOKEN, SECRET, PASSWORD, APIKEY, JWT anywhere
    /// in it; a word such as KEY, PAT, PASS, AUTH; AWS_ and AZURE_ credentials; a few known names.
    /// </summary>
    public static bool LooksSecret(string name)
    {
        if (KnownSecret.Contains(name))
        {
            return true;
        }

        var upper = name.ToUpperInvariant();
        if (KnownHarmless.Contains(upper) || upper.StartsWith("XDG_", StringComparison.Ordinal) || upper.StartsWith("DBUS_", StringComparison.Ordinal))
        {
            // The desktop's: XDG_ACTIVATION_TOKEN is a compositor's focus token, not a credential.
            return false;
        }

        // The name's ASCII letters and digits, for the pieces; its words, split at the other ASCII characters (a
        // letter beyond ASCII belongs to its word), for the words. No LINQ or regular expression: this runs for
        // every variable at every start.
        Span<char> compact = upper.Length <= 256 ? stackalloc char[upper.Length] : new char[upper.Length];
        int length = 0;
        foreach (char c in upper)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                compact[length++] = c;
            }
        }

        foreach (var piece in SecretPieces)
        {
            if (compact[..length].IndexOf(piece, StringComparison.Ordinal) >= 0)
            {
                return true;
            }
        }

        for (int start = 0; start < upper.Length;)
        {
            int end = start;
            while (end < upper.Length && !IsSeparator(upper[end]))
            {
                end++;
            }

            if (end > start && IsSecretWord(upper.AsSpan(start, end - start)))
            {
                return true;
            }

            start = end + 1;
        }

        return (upper.StartsWith("AWS_", StringComparison.Ordinal) || upper.StartsWith("AZURE_", StringComparison.Ordinal)) && !IsCloudSetting(upper);
    }

    private static bool IsSeparator(char c) => c < 128 && !char.IsAsciiLetterOrDigit(c);

    private static bool IsSecretWord(ReadOnlySpan<char> word)
    {
        foreach (var secret in SecretWords)
        {
            if (word.SequenceEqual(secret))
            {
                return true;
            }
        }

        return false;
    }

    // Cloud variables that name a place or a file, not a credential: AWS_REGION, AWS_PROFILE, AWS_CA_BUNDLE...
    // (a name that also has a secret word, like AWS_SECRET_ACCESS_KEY, is caught before this).
    private static readonly string[] CloudSettings =
    [
        "_REGION", "_DEFAULT_REGION", "_PROFILE", "_CA_BUNDLE", "_CONFIG_FILE", "_SHARED_CREDENTIALS_FILE", "_ENDPOINT_URL",
        "_PAGER", "_DEFAULT_OUTPUT", "_RETRY_MODE", "_MAX_ATTEMPTS", "_SDK_LOAD_CONFIG", "_LOCATION",
    ];

    private static bool IsCloudSetting(string upper)
    {
        foreach (var setting in CloudSettings)
        {
            if (upper.EndsWith(setting, StringComparison.Ordinal))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// True when a value carries a credential whatever its name: a URL with a password (scheme://user:pass@host) or
    /// with a token as its user name; a connection string or query with password=, pwd=, token=, secret=...; an
    /// HTTP auth header (Authorization:, Bearer, Private-Token:); a private key; a token in a well-known format.
    /// </summary>
    /// <remarks>
    /// Each pattern runs only where the text it cannot match without is there (a URL's "://" and "@", an "=", a ':' or
    /// "bearer", ...): most values are paths, words and numbers, and a pattern's first use costs every run's start-up.
    /// </remarks>
    public static bool CarriesCredential(string value) =>
        value.Length > 0 && (
            (value.Contains("://", StringComparison.Ordinal) && value.Contains('@') && (UrlPassword().IsMatch(value) || UrlTokenUser().IsMatch(value)))
            || (value.Contains('=') && MayHoldSecretKey(value) && (System.Text.Ascii.IsValid(value) ? KeyValueSecretInAscii(value) : KeyValueSecret().IsMatch(value)))
            || (value.Contains("jdbc:", StringComparison.OrdinalIgnoreCase) && OracleUserPassword().IsMatch(value))
            || (MayHoldAuthHeader(value) && AuthHeader().IsMatch(value))
            || (value.Contains("-----BEGIN ", StringComparison.Ordinal) && PrivateKeyBlock().IsMatch(value))
            || (MayHoldKnownToken(value) && KnownTokenFormat().IsMatch(value)));

    // The words KeyValueSecret and AuthHeader cannot match without (LS_COLORS and PATH hold '=' and ':' but none).
    // Not for text beyond ASCII: the patterns ignore case as Unicode does (the Kelvin sign is a 'k' to them).
    private static bool MayHoldSecretKey(string value) =>
        !System.Text.Ascii.IsValid(value)
        || value.Contains("pass", StringComparison.OrdinalIgnoreCase) || value.Contains("pwd", StringComparison.OrdinalIgnoreCase)
        || value.Contains("token", StringComparison.OrdinalIgnoreCase) || value.Contains("secret", StringComparison.OrdinalIgnoreCase)
        || value.Contains("apikey", StringComparison.OrdinalIgnoreCase) || value.Contains("api_key", StringComparison.OrdinalIgnoreCase);

    private static bool MayHoldAuthHeader(string value) =>
        !System.Text.Ascii.IsValid(value)
        || value.Contains("bearer", StringComparison.OrdinalIgnoreCase)
        || (value.Contains(':') && (value.Contains("authorization", StringComparison.OrdinalIgnoreCase)
            || value.Contains("private-token", StringComparison.OrdinalIgnoreCase) || value.Contains("x-api-key", StringComparison.OrdinalIgnoreCase)
            || value.Contains("x-auth-token", StringComparison.OrdinalIgnoreCase)));

    private static bool MayHoldKnownToken(string value) =>
        value.Contains("ghp_", StringComparison.Ordinal) || value.Contains("gho_", StringComparison.Ordinal)
        || value.Contains("ghu_", StringComparison.Ordinal) || value.Contains("ghs_", StringComparison.Ordinal)
        || value.Contains("ghr_", StringComparison.Ordinal) || value.Contains("github_pat_", StringComparison.Ordinal)
        || value.Contains("glpat-", StringComparison.Ordinal) || value.Contains("xox", StringComparison.Ordinal)
        || value.Contains("k_live_", StringComparison.Ordinal) || value.Contains("AKIA", StringComparison.Ordinal)
        || value.Contains("npm_", StringComparison.Ordinal);

    // scheme://user:password@ with a non-empty password (RFC 3986 userinfo); https://host:8080/ has no '@' there.
    [GeneratedRegex(@"[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*:[^/\s@]+@")]
    private static partial Regex UrlPassword();

    // https://ghp_xxxx@github.com: a token used as the user name. Short user names (ssh://git@host) are not secrets.
    [GeneratedRegex(@"[A-Za-z][A-Za-z0-9+.\-]*://[A-Za-z0-9_\-.~%]{20,}@")]
    private static partial Regex UrlTokenUser();

    // JDBC/ODBC/ADO connection strings and URL queries: ";Pwd=x", "?password=x", "&access_token=x", "Password=x".
    [GeneratedRegex(@"(^|[;?&\s,])[A-Za-z_\-]*(password|passwd|pwd|token|secret|apikey|api_key)\s*=\s*[^;&\s]", RegexOptions.IgnoreCase)]
    private static partial Regex KeyValueSecret();

    /// <summary>
    /// <see cref="KeyValueSecret"/> for ASCII text, without the regular expression: a value with an '=' and one of the
    /// words is common (tox's passenv=, a PATH with a "tokens" folder...), and the pattern's first use cost about
    /// 0.7 ms of every such start. The same matches (a property test compares the two): a key word, preceded by
    /// letters, '_' or '-' back to the start or to one of ";?&," or a space, then "=" (spaces around it) and a
    /// character that is none of ";&" or a space.
    /// </summary>
    internal static bool KeyValueSecretInAscii(string value)
    {
        foreach (var word in SecretKeys)
        {
            for (int at = value.IndexOf(word, StringComparison.OrdinalIgnoreCase); at >= 0;
                 at = at + 1 < value.Length ? value.IndexOf(word, at + 1, StringComparison.OrdinalIgnoreCase) : -1)
            {
                int before = at - 1;
                while (before >= 0 && (char.IsAsciiLetter(value[before]) || value[before] is '_' or '-'))
                {
                    before--;
                }

                if (before >= 0 && value[before] is not (';' or '?' or '&' or ',') && !IsRegexSpace(value[before]))
                {
                    continue;
                }

                int next = at + word.Length;
                while (next < value.Length && IsRegexSpace(value[next]))
                {
                    next++;
                }

                if (next == value.Length || value[next] != '=')
                {
                    continue;
                }

                next++;
                while (next < value.Length && IsRegexSpace(value[next]))
                {
                    next++;
                }

                if (next < value.Length && value[next] is not (';' or '&') && !IsRegexSpace(value[next]))
                {
                    return true;
                }
            }
        }

        return false;
    }

    private static readonly string[] SecretKeys = ["password", "passwd", "pwd", "token", "secret", "apikey", "api_key"];

    // The ASCII characters of a regular expression's \s: tab, line feed, vertical tab, form feed, carriage return, space.
    private static bool IsRegexSpace(char c) => c is ' ' or (>= '\t' and <= '\r');

    /// <summary>The pattern itself, for the property test that compares <see cref="KeyValueSecretInAscii"/> with it.</summary>
    internal static bool KeyValueSecretByPattern(string value) => KeyValueSecret().IsMatch(value);

    // jdbc:oracle:thin:user/password@host
    [GeneratedRegex(@"jdbc:oracle:[a-z]+:[^/@\s:]+/[^@\s]+@", RegexOptions.IgnoreCase)]
    private static partial Regex OracleUserPassword();

    [GeneratedRegex(@"(authorization|proxy-authorization|private-token|x-api-key|x-auth-token)\s*:|\bbearer\s+[A-Za-z0-9._~+/=\-]{8,}", RegexOptions.IgnoreCase)]
    private static partial Regex AuthHeader();

    [GeneratedRegex(@"-----BEGIN [A-Z0-9 ]*PRIVATE KEY")]
    private static partial Regex PrivateKeyBlock();

    // GitHub, GitLab, Slack, Stripe, AWS and npm tokens: prefixes their issuers document so that scanners find them.
    [GeneratedRegex(@"(?<![A-Za-z0-9])(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,}|glpat-[A-Za-z0-9_\-]{20,}|xox[abprs]-[A-Za-z0-9\-]{10,}|[rs]k_live_[A-Za-z0-9]{16,}|AKIA[0-9A-Z]{16}|npm_[A-Za-z0-9]{36})")]
    private static partial Regex KnownTokenFormat();

    public static EnvResult Filter(IReadOnlyDictionary<string, string> environment, IReadOnlyList<Rule> envRules)
    {
        var passed = new Dictionary<string, string>(StringComparer.Ordinal);
        var withheld = new List<string>();
        var undecided = new List<string>();
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

            bool pass = best is not null ? best.Verdict == Verdict.Allow : !LooksSecret(name) && !CarriesCredential(value);
            if (pass)
            {
                passed[name] = value;
            }
            else
            {
                withheld.Add(name);
                if (best is null)
                {
                    undecided.Add(name);
                }
            }
        }

        withheld.Sort(StringComparer.Ordinal);
        undecided.Sort(StringComparer.Ordinal);
        return new EnvResult(passed, withheld) { Undecided = undecided };
    }
}
