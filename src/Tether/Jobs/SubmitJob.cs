namespace Tether.Internal;

internal sealed record SubmitJob(Job Job);
