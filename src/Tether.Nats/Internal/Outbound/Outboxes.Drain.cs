namespace Tether.Nats.Internal;

/// <summary>Draining every outbox when the proxy stops cleanly.</summary>
internal sealed partial class Outboxes
{
    /// <summary>
    /// Waits until every frame appended so far (answers, errors, <c>Accepted</c> notices, ends) was handed to the
    /// connection, or <paramref name="limit"/> passed: the goodbye that follows on the same connection then reaches each
    /// peer after them, so a peer never fails with node-stopped a request whose answer was already on its way.
    /// </summary>
    /// <returns>True when every outbox drained within the limit.</returns>
    public async Task<bool> DrainAsync(TimeSpan limit)
    {
        long start = System.Diagnostics.Stopwatch.GetTimestamp();
        while (true)
        {
            bool drained = true;
            foreach (Outbox outbox in _nodeOutboxes.Values.Concat(_replyOutboxes.Values))
            {
                drained &= outbox.Drained();
            }

            if (drained)
            {
                return true;
            }

            if (System.Diagnostics.Stopwatch.GetElapsedTime(start) > limit)
            {
                return false;
            }

            await Task.Delay(1).ConfigureAwait(false); // a writer publishes; a stop is not a hot path
        }
    }
}
