namespace Tether.Adapters.Tests;

internal static class Support
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(10);

    /// <summary>A builder with the test messages registered under their contract names.</summary>
    public static MessageAdaptersBuilder Builder() => MessageAdapters.CreateBuilder()
        .Register<Order>("Shop.Order")
        .Register<Item>("Shop.Item")
        .Register<ShippingAddress>("Shop.Address")
        .Register<PlaceOrderV1>("Shop.PlaceOrder.v1")
        .Register<PlaceOrderV2>("Shop.PlaceOrder.v2")
        .Register<OrderSummary>("Shop.OrderSummary")
        .Register<Reading>("Lab.Reading")
        .Register<ReadingText>("Lab.ReadingText")
        .Register<Ask>("Test.Ask")
        .Register<Answer>("Test.Answer")
        .Register<Note>("Test.Note");

    public static MessageAdapters FromYaml(string yaml, Action<MessageAdaptersBuilder>? setup = null)
    {
        MessageAdaptersBuilder builder = Builder();
        setup?.Invoke(builder);
        return builder.AddYaml(yaml, "test.yaml").Build();
    }

    /// <summary>The inbound pipe of <typeparamref name="T"/> at a target that handles it.</summary>
    public static MessagePipe Pipe<T>(this MessageAdapters adapters)
        => adapters.Inbound(typeof(object), typeof(T), [typeof(T)]) ?? throw new InvalidOperationException($"No pipe for {typeof(T).Name}.");

    public static ContractViolationException Violation(this MessagePipe pipe, object message)
        => Assert.Throws<ContractViolationException>(() => pipe.Apply(message));

    public static async Task<T> Within<T>(this Task<T> task, string phase)
    {
        try
        {
            return await task.WaitAsync(Deadline);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {Deadline.TotalSeconds} s waiting for: {phase}.");
        }
    }

    public static Task<T> Within<T>(this ValueTask<T> task, string phase) => task.AsTask().Within(phase);

    public static async Task<TetherException> FailsWithin<T>(this ValueTask<T> task, string phase)
    {
        try
        {
            T value = await task.AsTask().WaitAsync(Deadline);
            throw new Xunit.Sdk.XunitException($"{phase}: expected an error, got {value}.");
        }
        catch (TetherException ex)
        {
            return ex;
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"Timed out after {Deadline.TotalSeconds} s waiting for: {phase}.");
        }
    }
}
