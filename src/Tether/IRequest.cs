namespace Tether;

/// <summary>
/// Marks a message type as a request that is answered with a <typeparamref name="TResponse"/>.
/// The marker lets <c>ctx.Request(address, new GetCount())</c> infer the response type.
/// </summary>
/// <typeparam name="TResponse">The type of the answer.</typeparam>
#pragma warning disable CA1040 // a marker interface is the point: it carries the response type for inference
public interface IRequest<TResponse>
#pragma warning restore CA1040
{
}
