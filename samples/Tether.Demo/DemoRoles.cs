namespace Tether.Demo;

/// <summary>
/// The parts of the demo a node runs (<see cref="DemoApp.Start"/>). One process runs <see cref="All"/>; three node
/// processes split them as web, dialogs (with sessions) and supplier, and nothing in the application changes.
/// </summary>
[Flags]
public enum DemoRoles
{
    /// <summary>Nothing.</summary>
    None = 0,

    /// <summary>The web node: Kestrel with RemoteSkin (the browser connections, client targets) and the HTTP gateway (<see cref="DemoApp.StartAsync"/>).</summary>
    Web = 1,

    /// <summary>The dialogs (with <see cref="DemoApp.StartAsync"/>) and the order desk (service <see cref="DemoApp.OrdersService"/>) with its working targets.</summary>
    Dialogs = 2,

    /// <summary>The supplier near the database (service <see cref="DemoApp.SupplierService"/>): the only target that touches it.</summary>
    Supplier = 4,

    /// <summary>The session manager (service <see cref="DemoApp.SessionsService"/>) with the demo user (<see cref="DemoApp.StartAsync"/>).</summary>
    Sessions = 8,

    /// <summary>Everything in one node.</summary>
    All = Web | Dialogs | Supplier | Sessions,
}
