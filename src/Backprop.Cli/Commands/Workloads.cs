namespace Backprop.Cli.Commands;

/// <summary>The benchmark workloads of ../shared/bench/WORKLOADS.md, float32, random inputs from a fixed seed.</summary>
public static class Workloads
{
    /// <summary>The line for one workload, or null when the library cannot run it yet.</summary>
    public static string? Run(string name, bool reportAllocations) => name switch
    {
        "gemm" => Gemm(),
        _ => null,
    };

    private static string Gemm()
    {
        var generator = new Generator(0);
        var a = Tensor.Randn([1024, 1024], generator: generator);
        var b = Tensor.Randn([1024, 1024], generator: generator);
        var (seconds, _) = BenchCommand.Median(() => a.MatMul(b), warm: 3, rounds: 7, perRound: 5);
        return $"gemm GFLOPS={BenchCommand.Format(2.0 * 1024 * 1024 * 1024 / seconds / 1e9, "F1")}";
    }
}
