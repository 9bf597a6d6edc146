namespace Tether.Demo.Internal;

/// <summary>
/// The deterministic catalogue a new database is seeded with: the same index always gives the same name, category,
/// price and stock, on every machine and run (no <see cref="Random"/>, whose sequence is not promised across versions).
/// </summary>
internal static class CatalogueSeed
{
    private static readonly string[] s_adjectives =
    [
        "Sturdy", "Compact", "Classic", "Modern", "Rustic", "Elegant", "Handy", "Bright", "Quiet", "Rugged", "Slim", "Cozy",
        "Vintage", "Nordic", "Urban", "Deluxe", "Simple", "Bold", "Gentle", "Swift", "Polished", "Woven", "Folding", "Smart",
    ];

    private static readonly string[] s_materials =
    [
        "Oak", "Walnut", "Bamboo", "Steel", "Copper", "Brass", "Linen", "Wool", "Cotton", "Leather", "Glass", "Ceramic",
        "Marble", "Cork", "Granite", "Aluminium",
    ];

    // Each noun with the category it is listed under.
    private static readonly (string Noun, string Category)[] s_nouns =
    [
        ("Chair", "Furniture"), ("Table", "Furniture"), ("Shelf", "Furniture"), ("Stool", "Furniture"), ("Bench", "Furniture"),
        ("Lamp", "Lighting"), ("Lantern", "Lighting"), ("Sconce", "Lighting"),
        ("Mug", "Kitchen"), ("Kettle", "Kitchen"), ("Bowl", "Kitchen"), ("Teapot", "Kitchen"), ("Skillet", "Kitchen"),
        ("Blanket", "Textiles"), ("Cushion", "Textiles"), ("Rug", "Textiles"), ("Towel", "Textiles"),
        ("Notebook", "Office"), ("Pen", "Office"), ("Desk Organizer", "Office"), ("Clock", "Office"),
        ("Backpack", "Travel"), ("Suitcase", "Travel"), ("Bottle", "Travel"),
        ("Planter", "Garden"), ("Watering Can", "Garden"), ("Trowel", "Garden"),
        ("Speaker", "Electronics"), ("Charger", "Electronics"), ("Headphones", "Electronics"),
    ];

    /// <summary>How many different names there are (adjective × material × noun): the most products the seed can name uniquely.</summary>
    public static int Capacity => s_adjectives.Length * s_materials.Length * s_nouns.Length;

    /// <summary>The product at <paramref name="index"/> (0-based); ids are index + 1.</summary>
    public static (string Name, string Category, long PriceCents, int Stock) Product(int index)
    {
        // A multiplier coprime to the capacity walks every name once, in a mixed order, before it repeats.
        int capacity = Capacity;
        int pick = (int)((index * 7919L + 13) % capacity);
        string adjective = s_adjectives[pick % s_adjectives.Length];
        string material = s_materials[pick / s_adjectives.Length % s_materials.Length];
        (string noun, string category) = s_nouns[pick / (s_adjectives.Length * s_materials.Length) % s_nouns.Length];
        string name = index < capacity ? $"{adjective} {material} {noun}" : $"{adjective} {material} {noun} {index / capacity + 1}";

        ulong h = SplitMix64((ulong)index);
        long priceCents = 199 + (long)(h % 99_800);      // 1.99 .. 999.98
        int stock = (int)((h >> 24) % 250);              // 0 .. 249: a few are sold out from the start
        return (name, category, priceCents, stock);
    }

    private static ulong SplitMix64(ulong x)
    {
        x += 0x9E3779B97F4A7C15;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EB;
        return x ^ (x >> 31);
    }
}
