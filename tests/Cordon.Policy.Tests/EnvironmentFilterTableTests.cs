using Cordon.Policy;
using Xunit;

namespace Cordon.Policy.Tests;

/// <summary>
/// Both directions of the environment rule, as a table: what must be withheld (by name, by value) and what must
/// pass (names every shell and desktop sets, ordinary values). Withholding a harmless variable is a usability bug;
/// passing a credential is a leak.
/// </summary>
public class EnvironmentFilterTableTests
{
    [Theory]
    // names that whole-word matching missed
    [InlineData("GH_PAT")]
    [InlineData("PGPASSWORD")]
    [InlineData("PGPASS")]
    [InlineData("npm_config__authToken")]
    [InlineData("npm_config_//registry.npmjs.org/:_authToken")]
    [InlineData("npm_config_//registry.npmjs.org/:_auth")]
    [InlineData("NPM_CONFIG__AUTH")]
    [InlineData("STRIPE_SK")]
    [InlineData("CI_JOB_JWT")]
    [InlineData("CI_JOB_JWT_V2")]
    [InlineData("SLACK_WEBHOOK_URL")]
    [InlineData("JWT")]
    [InlineData("BEARER")]
    [InlineData("CLIENTSECRET")]
    [InlineData("SECRETKEY")]
    [InlineData("ACCESSKEY")]
    [InlineData("DBPASSWORD")]
    // lower and mixed case
    [InlineData("github_token")]
    [InlineData("GitHub_Token")]
    [InlineData("db_password")]
    [InlineData("openai_api_key")]
    [InlineData("aws_secret_access_key")]
    // and more
    [InlineData("GITLAB_PAT")]
    [InlineData("HF_TOKEN")]
    [InlineData("HUGGING_FACE_HUB_TOKEN")]
    [InlineData("ANTHROPIC_API_KEY")]
    [InlineData("APIKEY")]
    [InlineData("MYSQL_PWD")]
    [InlineData("REDIS_PASS")]
    [InlineData("SMTP_PASSWD")]
    [InlineData("GPG_PASSPHRASE")]
    [InlineData("TWINE_PASSWORD")]
    [InlineData("DOCKER_PASSWORD")]
    [InlineData("CARGO_REGISTRY_TOKEN")]
    [InlineData("SESSION_SECRET")]
    [InlineData("SESSION_TOKEN")]
    [InlineData("SESSION_KEY")]
    [InlineData("AUTH_COOKIE")]
    [InlineData("COOKIEJAR")]
    [InlineData("SQL_CONNECTION_STRING")]
    [InlineData("AZURE_STORAGE_CONNECTION_STRING")]
    [InlineData("DB_CONNSTR")]
    [InlineData("JWT_SIGNING_KEY")]
    [InlineData("SIGNINGKEY")]
    [InlineData("DEPLOY_KEY")]
    [InlineData("SSH_KEYS")]
    [InlineData("WIFI_PSK")]
    [InlineData("TOTP_SECRET")]
    [InlineData("MFA_OTP")]
    [InlineData("GOOGLE_APPLICATION_CREDENTIALS")]
    [InlineData("AWS_CREDS")]
    [InlineData("SENTRY_DSN")]
    [InlineData("APP_DSN_PRIMARY")]
    [InlineData("AWS_ACCESS_KEY_ID")]
    [InlineData("AZURE_TENANT_ID")]
    [InlineData("GIT_CONFIG_PARAMETERS")]
    [InlineData("database_url")]
    public void A_secret_looking_name_is_withheld(string name)
    {
        Assert.True(EnvironmentFilter.LooksSecret(name), name);
        var r = EnvironmentFilter.Filter(new Dictionary<string, string> { [name] = "x", ["PATH"] = "/usr/bin" }, []);
        Assert.Equal([name], r.Withheld);
        Assert.True(r.Passed.ContainsKey("PATH"));
    }

    [Theory]
    [InlineData("PATH")]
    [InlineData("HOME")]
    [InlineData("USER")]
    [InlineData("SHELL")]
    [InlineData("TERM")]
    [InlineData("COLORTERM")]
    [InlineData("TERM_PROGRAM")]
    [InlineData("LANG")]
    [InlineData("LC_ALL")]
    [InlineData("PWD")]
    [InlineData("OLDPWD")]
    [InlineData("EDITOR")]
    [InlineData("PAGER")]
    [InlineData("LESSKEY")]
    [InlineData("KEYBOARD_LAYOUT")]
    [InlineData("XKB_DEFAULT_KEYMAP")]
    [InlineData("MONKEY")]
    [InlineData("XDG_SESSION_ID")]
    [InlineData("XDG_SESSION_TYPE")]
    [InlineData("XDG_SESSION_CLASS")]
    [InlineData("XDG_SESSION_DESKTOP")]
    [InlineData("XDG_RUNTIME_DIR")]
    [InlineData("DBUS_SESSION_BUS_ADDRESS")]
    [InlineData("XDG_ACTIVATION_TOKEN")]
    [InlineData("DESKTOP_SESSION")]
    [InlineData("SESSION_MANAGER")]
    [InlineData("KDE_SESSION_VERSION")]
    [InlineData("ZELLIJ_SESSION_NAME")]
    [InlineData("GNOME_DESKTOP_SESSION_ID")]
    [InlineData("TMUX_PANE")]
    [InlineData("SSH_CONNECTION")]
    [InlineData("SSH_TTY")]
    [InlineData("GIT_AUTHOR_NAME")]
    [InlineData("GIT_AUTHOR_EMAIL")]
    [InlineData("AUTHOR")]
    [InlineData("SSH_ASKPASS")]
    [InlineData("GIT_ASKPASS")]
    [InlineData("COMPASS_HOME")]
    [InlineData("BYPASS_CACHE")]
    [InlineData("PATHEXT")]
    [InlineData("MANPATH")]
    [InlineData("PATTERN")]
    [InlineData("TOKENIZERS_PARALLELISM")]
    [InlineData("SKIP_TESTS")]
    [InlineData("TASK")]
    [InlineData("NODE_ENV")]
    [InlineData("CI")]
    [InlineData("GITHUB_ACTIONS")]
    [InlineData("HTTPS_PROXY")]
    [InlineData("PIP_INDEX_URL")]
    [InlineData("AWS_REGION")]
    [InlineData("AWS_PROFILE")]
    [InlineData("AWS_CA_BUNDLE")]
    [InlineData("npm_config_registry")]
    [InlineData("npm_config_cache")]
    public void An_ordinary_name_passes(string name)
    {
        Assert.False(EnvironmentFilter.LooksSecret(name), name);
        var r = EnvironmentFilter.Filter(new Dictionary<string, string> { [name] = "x" }, []);
        Assert.Empty(r.Withheld);
    }

    [Theory]
    [InlineData("HTTPS_PROXY", "http://alice:hunter2@proxy.corp:3128")]
    [InlineData("https_proxy", "http://alice:hunter2@proxy.corp:3128/")]
    [InlineData("ALL_PROXY", "socks5://u:p@10.0.0.1:1080")]
    [InlineData("PIP_INDEX_URL", "https://user:s3cr3t@pypi.corp.example/simple")]
    [InlineData("PIP_EXTRA_INDEX_URL", "https://pypi.org/simple https://__token__:pypi-AgEIcHlwaS5vcmc@corp.example/simple")]
    [InlineData("UV_INDEX_URL", "https://x:y@h/simple")]
    [InlineData("GOPROXY", "https://u:p@goproxy.corp,direct")]
    [InlineData("REPO_URL", "https://ghp_0123456789abcdefghijABCDEFGHIJ012345@github.com/o/r.git")]
    [InlineData("JDBC_URL", "jdbc:postgresql://db:5432/app?user=app&password=hunter2")]
    [InlineData("JDBC_URL", "jdbc:mysql://app:hunter2@db:3306/app")]
    [InlineData("JDBC_URL", "jdbc:oracle:thin:scott/tiger@db:1521:orcl")]
    [InlineData("JDBC_URL", "jdbc:sqlserver://db;databaseName=app;user=sa;password=Hunter2!")]
    [InlineData("CONNECTION", "Driver={ODBC Driver 18};Server=db;Uid=sa;Pwd=Hunter2;")]
    [InlineData("ADO", "Server=db;Database=app;User Id=sa;Password=Hunter2;")]
    [InlineData("GIT_CONFIG_VALUE_0", "Authorization: Bearer abcdefghijklmnop")]
    [InlineData("EXTRA_HEADER", "AUTHORIZATION: basic YWxpY2U6aHVudGVyMg==")]
    [InlineData("CURL_OPTS", "-H 'Private-Token: glpat-abc'")]
    [InlineData("HEADERS", "X-Api-Key: 1234")]
    [InlineData("HDR", "bearer eyJhbGciOiJIUzI1NiJ9.e30.x")]
    [InlineData("ARGS", "--token=abc123 --verbose")]
    [InlineData("SERVICE_URL", "https://api.example/v1?access_token=abc")]
    [InlineData("DEPLOY", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----")]
    [InlineData("TLS", "-----BEGIN PRIVATE KEY-----\nMIIE")]
    [InlineData("X", "ghp_0123456789abcdefghijABCDEFGHIJ012345")]
    [InlineData("X", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz")]
    [InlineData("X", "glpat-abcdefghij0123456789")]
    [InlineData("X", "xoxb-1234567890-abcdefghij")]
    [InlineData("X", "sk_live_0123456789abcdefABCD")]
    [InlineData("X", "AKIAIOSFODNN7EXAMPLE")]
    [InlineData("X", "npm_abcdefghijklmnopqrstuvwxyz0123456789")]
    // Beyond ASCII the patterns ignore case as Unicode does: a Kelvin sign is a 'k' to them (the quick checks
    // before the patterns must not skip these).
    [InlineData("X", "db;to\u212Aen=abcdef")]
    [InlineData("X", "x-api-\u212Aey: abcdef")]
    public void A_value_that_carries_a_credential_is_withheld_whatever_its_name(string name, string value)
    {
        Assert.True(EnvironmentFilter.CarriesCredential(value), value);
        var r = EnvironmentFilter.Filter(new Dictionary<string, string> { [name] = value, ["LANG"] = "C.UTF-8" }, []);
        Assert.Equal([name], r.Withheld);
        Assert.Equal("C.UTF-8", r.Passed["LANG"]);
    }

    [Theory]
    [InlineData("PATH", "/usr/local/bin:/usr/bin:/bin")]
    [InlineData("LANG", "C.UTF-8")]
    [InlineData("HTTPS_PROXY", "http://proxy.corp:3128")]
    [InlineData("HTTPS_PROXY", "http://proxy.corp:3128/")]
    [InlineData("NO_PROXY", "localhost,127.0.0.1,.corp")]
    [InlineData("PIP_INDEX_URL", "https://pypi.org/simple")]
    [InlineData("GIT_REMOTE", "ssh://git@github.com/o/r.git")]
    [InlineData("GIT_REMOTE", "git@github.com:o/r.git")]
    [InlineData("MAILTO", "me@example.com")]
    [InlineData("JDBC_URL", "jdbc:postgresql://db:5432/app?user=app")]
    [InlineData("JDBC_URL", "jdbc:postgresql://db:5432/app")]
    [InlineData("DB", "Server=db;Database=app;Integrated Security=true;")]
    [InlineData("LS_COLORS", "rs=0:di=01;34:ln=01;36:mh=00:pi=40;33:so=01;35:do=01;35:bd=40;33;01")]
    [InlineData("LESSOPEN", "| /usr/bin/lesspipe %s")]
    [InlineData("PS1", "\\u@\\h:\\w\\$ ")]
    [InlineData("MOTD", "The bearer of this shell")]
    [InlineData("DESCRIPTION", "Basic authorization tutorial")]
    [InlineData("TOKENIZERS_PARALLELISM", "false")]
    [InlineData("OPTS", "--tokenizer=fast")]
    [InlineData("EMPTY", "")]
    [InlineData("DOCKER_HOST", "unix:///run/user/1000/docker.sock")]
    [InlineData("URL", "https://user@example.com/")]
    [InlineData("KEY_NAME", "ghp_short")]
    public void An_ordinary_value_passes(string name, string value)
    {
        Assert.False(EnvironmentFilter.CarriesCredential(value), value);
        if (!EnvironmentFilter.LooksSecret(name))
        {
            Assert.Empty(EnvironmentFilter.Filter(new Dictionary<string, string> { [name] = value }, []).Withheld);
        }
    }

    [Fact]
    public void Allow_env_passes_variables_withheld_for_their_name_or_their_value()
    {
        var env = new Dictionary<string, string> { ["HTTPS_PROXY"] = "http://a:b@proxy:3128", ["gh_pat"] = "x" };
        var rules = FlagRules.Parse(AccessKind.Env, Verdict.Allow, "HTTPS_PROXY,gh_pat", new FakeResolver()).ToList();
        var r = EnvironmentFilter.Filter(env, rules);
        Assert.Empty(r.Withheld);
        Assert.Equal("http://a:b@proxy:3128", r.Passed["HTTPS_PROXY"]);
    }
}
