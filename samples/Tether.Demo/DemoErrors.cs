namespace Tether.Demo;

/// <summary>The demo's own error codes (<see cref="TetherException.Code"/>), next to the runtime's <see cref="ErrorCodes"/>.</summary>
public static class DemoErrors
{
    /// <summary>The product's stock is smaller than the quantity ordered; nothing was recorded.</summary>
    public const string OutOfStock = "out-of-stock";

    /// <summary>No product has the id.</summary>
    public const string UnknownProduct = "unknown-product";
}
