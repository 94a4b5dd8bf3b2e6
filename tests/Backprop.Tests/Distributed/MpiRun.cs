using System.Diagnostics;

namespace Backprop.Tests.Distributed;

/// <summary>Starts a program of the suite (the MPI worker, the CLI) under <c>mpirun -np N</c>.</summary>
internal static class MpiRun
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    /// <summary>Each rank's output text, by rank, from the worker's <paramref name="scenario"/>.</summary>
    public static string[] Run(string scenario, int ranks = 2)
    {
        string output = Directory.CreateTempSubdirectory("backprop-mpi-").FullName;
        try
        {
            Start(ranks, "Backprop.MpiWorker.dll", scenario, output);
            return [.. Enumerable.Range(0, ranks).Select(r => File.ReadAllText(Path.Combine(output, $"rank{r}.txt")))];
        }
        finally
        {
            Directory.Delete(output, recursive: true);
        }
    }

    /// <summary>
    /// Runs <c>mpirun -np <paramref name="ranks"/> dotnet <paramref name="program"/> <paramref name="args"/></c> (a dll of
    /// the test's output folder) and returns what the ranks printed. Fails the test, saying what to install, when mpirun
    /// is missing, and with the output when it fails or hangs.
    /// </summary>
    public static string Start(int ranks, string program, params string[] args)
    {
        string mpirun = FindMpirun() ?? throw new Xunit.Sdk.XunitException(
            "mpirun was not found on PATH: these tests start real MPI processes. Install Open MPI " +
            "(`apt-get install -y openmpi-bin libopenmpi-dev`; .ci/run does it when mpirun is missing).");
        var start = new ProcessStartInfo(mpirun)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // --oversubscribe: more ranks than cores is fine for tests; the CI and the developers' machines run as root.
        foreach (var arg in new[] { "--oversubscribe", "-np", ranks.ToString(), "dotnet", Path.Combine(AppContext.BaseDirectory, program) }.Concat(args))
            start.ArgumentList.Add(arg);
        start.Environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1";
        start.Environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Limit))
        {
            process.Kill(entireProcessTree: true);
            throw new Xunit.Sdk.XunitException($"mpirun {string.Join(' ', args)} did not finish within {Limit.TotalSeconds} s.\n{stdout.Result}\n{stderr.Result}");
        }
        if (process.ExitCode != 0)
            throw new Xunit.Sdk.XunitException($"mpirun {string.Join(' ', args)} exited with {process.ExitCode}.\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }

    private static string? FindMpirun() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Select(dir => Path.Combine(dir, "mpirun"))
            .FirstOrDefault(File.Exists);
}
