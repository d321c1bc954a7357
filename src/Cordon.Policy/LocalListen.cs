namespace Cordon.Policy;

/// <summary>
/// Listening on any port of a loopback address (`listen:localhost`): what a dev server that picks a random port
/// needs, offered as the folder-like answer to a listen question. It covers bind and listen only, never a
/// connect: a rule that let the sandbox reach every local service would be a different answer.
/// </summary>
public sealed record LocalListenDescriptor : Descriptor
{
    public const string Value = "listen:localhost";

    public override bool Matches(Request request) =>
        request.Operation is Operation.Listen or Operation.Bind
        && request.Net?.Address is { } a
        && System.Net.IPAddress.IsLoopback(a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a);

    // Below an address with a port (1232+), above a CIDR or a name without a port.
    public override int Specificity => 1100;

    public override string Text => Value;
}
