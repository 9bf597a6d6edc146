namespace Tether.Demo;

/// <summary>
/// Searches the catalogue (service <see cref="DemoApp.SupplierService"/>): every word of <paramref name="Text"/> must
/// begin a word of a product's name or category (so it works as the user types); empty text lists everything. Rows come
/// ordered by name, then id. Contract <c>demo.search-products</c>: page 0 or more, page size 1 to 100.
/// </summary>
/// <param name="Text">The words typed so far (runs of letters and digits; anything else separates them, and at most 8 count); null, blank or without letters and digits lists the whole catalogue.</param>
/// <param name="Page">The page, counted from 0.</param>
/// <param name="PageSize">Rows per page (1 to 100).</param>
public sealed record SearchProducts(string? Text, int Page = 0, int PageSize = 20) : IRequest<ProductPage>;
