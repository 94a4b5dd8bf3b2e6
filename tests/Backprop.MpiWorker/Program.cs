using Backprop.Distributed;
using Backprop.MpiWorker;

// Usage: mpirun -np N dotnet Backprop.MpiWorker.dll <scenario> <output directory>
// Each rank writes rank<r>.txt into the directory (allreduce: its timings); the exit code is nonzero on any failure.
if (args.Length != 2)
{
    Console.Error.WriteLine("usage: Backprop.MpiWorker ddp|collectives|pipeline|allreduce <output directory>");
    return 2;
}
using var world = MpiProcessGroup.Initialize();
string output = Path.Combine(args[1], $"rank{world.Rank}.txt");
string result = args[0] switch
{
    "ddp" => DdpScenario.Format(DdpScenario.TrainDataParallel(world)),
    "collectives" => CollectivesScenario.Run(world),
    "pipeline" => PipelineScenario.RunPipelined(world),
    "allreduce" => AllReduceTiming.Run(world),
    _ => throw new ArgumentException($"unknown scenario {args[0]}"),
};
File.WriteAllText(output, result);
Console.WriteLine($"rank {world.Rank}/{world.Size}: {args[0]} done (MPI thread level {world.ThreadLevel})");
return 0;
