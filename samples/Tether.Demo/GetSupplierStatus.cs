namespace Tether.Demo;

/// <summary>Asks a supplier instance who and where it is (for an operator view, and to see which instance answers).</summary>
public sealed record GetSupplierStatus : IRequest<SupplierStatus>;
