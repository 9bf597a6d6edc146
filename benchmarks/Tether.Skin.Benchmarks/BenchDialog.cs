using System.Globalization;
using Tether.Demo;

namespace Tether.Skin.Benchmarks;

/// <summary>
/// The benchmark's dialog: a button whose click asks the demo supplier for one product (<see cref="GetProduct"/>) and
/// shows "n:name" in the text "answer", so every click's answer differs and needed a supplier round trip.
/// </summary>
internal sealed class BenchDialog : Dialog, ITarget<BenchDialog>
{
    public const string Name = "bench";
    private int _clicks;

    public static void Wire(Channels<BenchDialog> channels) => channels.Dialog();

    public static SkinOptions Options => SkinOptions.Default with
    {
        Applications = [new SkinApplication(Name, Name).WithDialog(Name, Name)],
        // Sequential clicks as fast as the page can make them: the default 50 events/s would throttle the benchmark.
        EventsPerSecond = 100_000,
        EventBurst = 100_000,
    };

    protected override ValueTask OnMountAsync(DialogMount mount, Context ctx)
    {
        Render(ctx, View.Stack("root", View.Heading("title", "Bench"), View.Button("go", "Ask the supplier"), View.Text("answer", "-")));
        return default;
    }

    protected override async ValueTask OnEventAsync(UiEvent e, Context ctx)
    {
        if (e is { Kind: "click", Key: "go" })
        {
            int n = ++_clicks;
            Product product = await ctx.Request(DemoApp.SupplierService, new GetProduct((n % 1000) + 1));
            Patch(ctx, new ViewPatch().SetText("answer", n.ToString(CultureInfo.InvariantCulture) + ":" + product.Name));
        }
    }
}
