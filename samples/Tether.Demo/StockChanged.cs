namespace Tether.Demo;

/// <summary>
/// An event on <see cref="DemoApp.StockTopic"/>: a product's stock changed (event-carried state transfer: the event
/// holds the new level, so a catalogue updates its row without asking the supplier).
/// </summary>
/// <param name="ProductId">The product.</param>
/// <param name="Stock">Its stock now.</param>
public sealed record StockChanged(long ProductId, int Stock);
