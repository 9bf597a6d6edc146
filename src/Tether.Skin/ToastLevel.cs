namespace Tether.Skin;

/// <summary>How a toast looks.</summary>
public enum ToastLevel
{
    /// <summary>News.</summary>
    Info,

    /// <summary>Something worked.</summary>
    Success,

    /// <summary>Something failed.</summary>
    Error,
}
