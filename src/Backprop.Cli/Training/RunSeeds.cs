namespace Backprop.Cli.Training;

/// <summary>
/// The seeds of a run's random streams, all derived from the one <c>--seed</c>: each stream has its own generator,
/// so drawing more from one (a bigger model) does not shift the others (the data, the shuffling order).
/// </summary>
public sealed record RunSeeds(ulong TrainData, ulong TestData, ulong Model, ulong Loader)
{
    public static RunSeeds From(ulong seed)
    {
        var master = new Generator(seed);
        return new RunSeeds(master.NextUInt64(), master.NextUInt64(), master.NextUInt64(), master.NextUInt64());
    }
}
