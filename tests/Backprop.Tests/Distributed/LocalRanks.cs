using Backprop.Distributed;

namespace Backprop.Tests.Distributed;

/// <summary>Runs one body per rank of a <see cref="LocalProcessGroup"/>, each on its own thread, and returns their results.</summary>
internal static class LocalRanks
{
    public static T[] Run<T>(int ranks, Func<IProcessGroup, T> body)
    {
        var groups = LocalProcessGroup.Create(ranks);
        var results = new T[ranks];
        var errors = new Exception?[ranks];
        var threads = groups.Select((group, rank) => new Thread(() =>
        {
            try { results[rank] = body(group); }
            catch (Exception e) { errors[rank] = e; }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads)
            if (!t.Join(TimeSpan.FromSeconds(60))) throw new TimeoutException("a rank did not finish within 60 s (a collective called by some ranks only?)");
        if (errors.FirstOrDefault(e => e is not null) is { } error) throw new AggregateException(error);
        return results;
    }
}
