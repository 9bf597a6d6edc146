namespace Tether.Internal;

internal sealed record CreateInstance(Address Owner, TetherPolicy Tether, object? Argument) : IRequest<Address>;
