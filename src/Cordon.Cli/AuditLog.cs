using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Cordon.Policy;
using Cordon.Supervisor;

namespace Cordon.Cli;

/// <summary>
/// One audit record. Field names follow Deno's DENO_AUDIT_PERMISSIONS records where they mean the same thing
/// (v, datetime, perm, value); the rest are cordon's own.
/// </summary>
public sealed record AuditRecord(
    [property: JsonPropertyName("v")] int V,
    [property: JsonPropertyName("datetime")] string Datetime,
    [property: JsonPropertyName("perm")] string Perm,
    [property: JsonPropertyName("value")] string Value,
    [property: JsonPropertyName("operation")] string Operation,
    [property: JsonPropertyName("requested")] string? Requested,
    [property: JsonPropertyName("verdict")] string Verdict,
    [property: JsonPropertyName("source")] string Source,
    [property: JsonPropertyName("rule")] string Rule,
    [property: JsonPropertyName("pid")] int Pid,
    [property: JsonPropertyName("exe")] string? Exe,
    [property: JsonPropertyName("argv")] IReadOnlyList<string>? Argv);

[JsonSerializable(typeof(AuditRecord))]
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
internal sealed partial class AuditJson : JsonSerializerContext
{
    /// <summary>
    /// The default encoder escapes '+', '&lt;', '&gt;', '&amp;', quotes-in-HTML and all non-ASCII (it is made for
    /// embedding in HTML): "+00:00" became "\u002B00:00". A log is read by jq and people; this encoder escapes
    /// only what JSON requires (quotes, backslashes, control characters).
    /// </summary>
    public static AuditJson Plain { get; } = new(new JsonSerializerOptions
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}

/// <summary>
/// `--log FILE`: one JSON line per decision. The file is opened with O_APPEND and every record is written with a
/// single write(2) of the whole line, so a record is complete or absent even if cordon is killed mid-run, and
/// lines from several cordon runs appending to one file do not interleave (on local file systems).
/// Records are written synchronously: nothing is lost in a queue when cordon dies.
/// </summary>
public sealed class AuditLog : IDecisionObserver, IDisposable
{
    private readonly FileStream file;
    private readonly Lock gate = new();

    private AuditLog(FileStream file) => this.file = file;

    public static AuditLog Open(string path)
    {
        try
        {
            // bufferSize 0: every Write is one write(2); FileMode.Append opens with O_APPEND.
            var full = Path.GetFullPath(path);
            var stream = AsSudoUser.Write(full, () =>
                Cordon.Profiles.ProfileStore.OpenPrivate(full, FileMode.Append, FileAccess.Write, FileShare.ReadWrite, bufferSize: 0));
            return new AuditLog(stream);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new Policy.PolicyException($"--log: cannot open {path}: {e.Message}");
        }
    }

    public static AuditRecord Record(Request request, Decision decision, DateTimeOffset when) => new(
        1,
        when.ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", System.Globalization.CultureInfo.InvariantCulture),
        request.Kind.ToString().ToLowerInvariant(),
        request.Resource,
        request.Operation.ToString().ToLowerInvariant(),
        request.Requested,
        decision.Allowed ? "allow" : "deny",
        decision.Source.ToString().ToLowerInvariant(),
        decision.Rule,
        request.Subject.Process.Pid,
        request.Subject.Process.Exe,
        request.Subject.Process.Argv);

    public static string Line(AuditRecord record) => JsonSerializer.Serialize(record, AuditJson.Plain.AuditRecord) + "\n";

    public void OnDecision(Request request, Decision decision)
    {
        var bytes = Encoding.UTF8.GetBytes(Line(Record(request, decision, DateTimeOffset.Now)));
        lock (gate)
        {
            file.Write(bytes);
        }
    }

    public void OnIncident(string message)
    {
    }

    public void Dispose() => file.Dispose();

    /// <summary>Reads a log; lines that are not records (a torn last line, garbage) are counted and skipped.</summary>
    public static (List<AuditRecord> Records, int Skipped) Read(string path)
    {
        var records = new List<AuditRecord>();
        int skipped = 0;
        foreach (var line in File.ReadLines(path))
        {
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                if (JsonSerializer.Deserialize(line, AuditJson.Default.AuditRecord) is { } r)
                {
                    records.Add(r);
                    continue;
                }
            }
            catch (JsonException)
            {
            }

            skipped++;
        }

        return (records, skipped);
    }
}

/// <summary>Several observers as one.</summary>
public sealed class Observers(params IDecisionObserver[] all) : IDecisionObserver
{
    public void OnDecision(Request request, Decision decision)
    {
        foreach (var o in all)
        {
            o.OnDecision(request, decision);
        }
    }

    public void OnIncident(string message)
    {
        foreach (var o in all)
        {
            o.OnIncident(message);
        }
    }
}
