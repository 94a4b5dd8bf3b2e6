using System.Diagnostics;
using System.Globalization;
using Backprop.Distributed;

namespace Backprop.MpiWorker;

/// <summary>
/// The cost of one all-reduce of the mlp workload's gradient (235,146 floats), without training around it: each of
/// 200 rounds starts together (a barrier) and is timed alone. Median and percentiles, in milliseconds.
/// </summary>
public static class AllReduceTiming
{
    public const int Floats = 235_146, Rounds = 200;

    public static string Run(IProcessGroup group)
    {
        var buffer = new float[Floats];
        for (int i = 0; i < 20; i++) group.AllReduceSum(buffer);
        var times = new double[Rounds];
        for (int i = 0; i < Rounds; i++)
        {
            group.Barrier();
            long start = Stopwatch.GetTimestamp();
            group.AllReduceSum(buffer);
            times[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(times);
        return string.Create(CultureInfo.InvariantCulture,
            $"all-reduce of {Floats * sizeof(float) / 1048576.0:F2} MB over {group.Size} ranks: median {times[Rounds / 2]:F3} ms, 10th percentile {times[Rounds / 10]:F3} ms, 90th {times[Rounds * 9 / 10]:F3} ms");
    }
}
