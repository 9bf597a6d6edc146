namespace Tether.Demo;

/// <summary>One page of a catalogue search.</summary>
/// <param name="Items">The rows of the page (fewer than the page size on the last page; none past it).</param>
/// <param name="Total">How many products match in all.</param>
/// <param name="Page">The page, counted from 0.</param>
/// <param name="PageSize">The page size asked for.</param>
public sealed record ProductPage(Product[] Items, int Total, int Page, int PageSize);
