using Tether.Tests.TestSupport;

namespace Tether.Tests;

public sealed class DeferredSendTests
{
    public sealed record Job(int N) : IRequest<int>;

    private sealed class Taker(List<bool> replies, TaskCompletionSource done) : Target, ITarget<Taker>
    {
        public static void Wire(Channels<Taker> channels) => channels.Deferred<Job, int>(static (self, m, token, _) => self.Take(m, token));

        private void Take(Job m, ReplyToken<int> token)
        {
            replies.Add(!token.IsAnswered && token.TryReply(m.N));
            if (replies.Count == 3)
            {
                done.TrySetResult();
            }
        }
    }

    [Fact]
    public async Task Deferred_PlainSendsNotRequests_EachGetAFreshTokenThatAcceptsOneAnswer()
    {
        await using Node node = Node.Create();
        var replies = new List<bool>();
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Address taker = node.Spawn(() => new Taker(replies, done));
        for (int i = 0; i < 3; i++)
        {
            node.Send(taker, new Job(i));
        }

        await done.Task.Within("three sends to a deferred channel");
        Assert.Equal([true, true, true], replies);
    }
}
