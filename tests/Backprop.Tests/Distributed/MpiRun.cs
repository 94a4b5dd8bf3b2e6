using System.Diagnostics;

namespace Backprop.Tests.Distributed;

/// <summary>Starts the MPI worker under <c>mpirun -np N</c> and collects what each rank wrote.</summary>
internal static class MpiRun
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    /// <summary>Each rank's output text, by rank. Fails the test, saying what to install, when mpirun is missing.</summary>
    public static string[] Run(string scenario, int ranks = 2)
    {
        string mpirun = FindMpirun() ?? throw new Xunit.Sdk.XunitException(
            "mpirun was not found on PATH: these tests start real MPI processes. Install Open MPI " +
            "(`apt-get install -y openmpi-bin libopenmpi-dev`; .ci/run does it when mpirun is missing).");
        string worker = Path.Combine(AppContext.BaseDirectory, "Backprop.MpiWorker.dll");
        string output = Directory.CreateTempSubdirectory("backprop-mpi-").FullName;
        try
        {
            var start = new ProcessStartInfo(mpirun)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            // --oversubscribe: more ranks than cores is fine for tests; the CI and the developers' machines run as root.
            foreach (var arg in new[] { "--oversubscribe", "-np", ranks.ToString(), "dotnet", worker, scenario, output })
                start.ArgumentList.Add(arg);
            start.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
            start.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(Limit))
            {
                process.Kill(entireProcessTree: true);
                throw new Xunit.Sdk.XunitException($"mpirun {scenario} did not finish within {Limit.TotalSeconds} s.\n{stdout.Result}\n{stderr.Result}");
            }
            if (process.ExitCode != 0)
                throw new Xunit.Sdk.XunitException($"mpirun {scenario} exited with {process.ExitCode}.\n{stdout.Result}\n{stderr.Result}");
            return [.. Enumerable.Range(0, ranks).Select(r => File.ReadAllText(Path.Combine(output, $"rank{r}.txt")))];
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    private static string? FindMpirun() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "mpirun"))
            .FirstOrDefault(File.Exists);
}
