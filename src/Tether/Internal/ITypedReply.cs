namespace Tether.Internal;

/// <summary>A sink that can take an answer of type <typeparamref name="TValue"/> without boxing it.</summary>
internal interface ITypedReply<in TValue>
{
    void OnTypedResponse(TValue value);
}
