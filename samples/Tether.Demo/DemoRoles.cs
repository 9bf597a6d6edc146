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

    /// <summary>The web node: the browser connections (client targets) once Tether.Skin is wired in; no service yet.</summary>
    Web = 1,

    /// <summary>The dialogs and the order desk (service <see cref="DemoApp.OrdersService"/>) with its working targets.</summary>
    Dialogs = 2,

    /// <summary>The supplier near the database (service <see cref="DemoApp.SupplierService"/>): the only target that touches it.</summary>
    Supplier = 4,

    /// <summary>The session manager, once Tether.Sessions is wired in; no service yet.</summary>
    Sessions = 8,

    /// <summary>Everything in one node.</summary>
    All = Web | Dialogs | Supplier | Sessions,
}
