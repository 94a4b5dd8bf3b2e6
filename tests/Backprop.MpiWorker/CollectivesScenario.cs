using System.Globalization;
using Backprop.Distributed;

namespace Backprop.MpiWorker;

/// <summary>Each collective once, with values whose right result every rank can state: a line per check.</summary>
public static class CollectivesScenario
{
    public static string Run(IProcessGroup group)
    {
        var lines = new List<string> { $"size {group.Size}" };
        float[] sums = [group.Rank + 1, 10 * (group.Rank + 1)];
        group.AllReduceSum(sums);
        lines.Add($"allreduce_float {Text(sums)}");
        double[] doubles = [Math.Pow(2, -30) * (group.Rank + 1)];
        group.AllReduceSum(doubles);
        lines.Add($"allreduce_double {Text(doubles)}");
        float[] broadcast = group.Rank == 0 ? [3.5f, -1f] : [0f, 0f];
        group.Broadcast(broadcast, root: 0);
        lines.Add($"broadcast {Text(broadcast)}");
        // A ring: each rank sends its rank to the next and receives the previous one's.
        int next = (group.Rank + 1) % group.Size, previous = (group.Rank + group.Size - 1) % group.Size;
        float[] received = new float[3];
        if (group.Rank % 2 == 0)
        {
            group.Send([group.Rank, group.Rank, group.Rank], next, tag: 5);
            group.Receive(received, previous, tag: 5);
        }
        else
        {
            group.Receive(received, previous, tag: 5);
            group.Send([group.Rank, group.Rank, group.Rank], next, tag: 5);
        }
        lines.Add($"ring {Text(received)}");
        group.Barrier();
        return string.Join('\n', lines);
    }

    private static string Text<T>(T[] values) where T : IFormattable =>
        string.Join(' ', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
}
