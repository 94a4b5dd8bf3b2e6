using Backprop.MpiWorker;

namespace Backprop.Tests.Distributed;

/// <summary>Real MPI processes: two ranks started by mpirun on this machine.</summary>
[Collection(nameof(Backprop.Tests.Cli.CliRunner))]
public class MpiTests
{
    [Fact]
    public void Collectives_GiveTheSameResultsOnEveryRank()
    {
        var ranks = MpiRun.Run("collectives");
        for (int rank = 0; rank < 2; rank++)
        {
            var lines = ranks[rank].Split('\n');
            Assert.Equal("size 2", lines[0]);
            Assert.Equal("allreduce_float 3 30", lines[1]);
            Assert.Equal($"allreduce_double {(3 * Math.Pow(2, -30)).ToString("R", System.Globalization.CultureInfo.InvariantCulture)}", lines[2]);
            Assert.Equal("broadcast 3.5 -1", lines[3]);
            // Each rank received the previous rank's number around the ring.
            Assert.Equal($"ring {1 - rank} {1 - rank} {1 - rank}", lines[4]);
        }
    }

    [Fact]
    public void DataParallelSteps_MatchOneProcessOnTheGlobalBatch()
    {
        var ranks = MpiRun.Run("ddp");
        // The replicas stay identical bit for bit: same broadcast start, same averaged gradients, same steps.
        Assert.Equal(ranks[0], ranks[1]);
        var distributed = DdpScenario.Parse(ranks[0]);
        var single = DdpScenario.Parse(DdpScenario.Format(DdpScenario.TrainSingleProcess()));
        Assert.Equal(single.Keys.Order(), distributed.Keys.Order());
        foreach (var (name, expected) in single)
        {
            var actual = distributed[name];
            Assert.Equal(expected.Length, actual.Length);
            double scale = expected.Max(v => Math.Abs((double)v));
            for (int i = 0; i < expected.Length; i++)
            {
                // Summation order differs (two half-batch means, two micro-batches), so float32 rounding, compounded over the steps.
                double error = Math.Abs((double)actual[i] - expected[i]);
                Assert.True(error <= 1e-5 * scale, $"{name}[{i}]: data-parallel {actual[i]} vs single process {expected[i]} (error {error:G3}, bound {1e-5 * scale:G3})");
            }
        }
        // The training moved the parameters: an initial state that never changed could not prove anything.
        var initial = DdpScenario.Parse(DdpScenario.Format(DdpScenario.BuildModel(seed: 7)));
        Assert.Contains(single, p => p.Value.Zip(initial[p.Key]).Any(v => Math.Abs(v.First - v.Second) > 1e-3));
    }

    [Fact]
    public void PipelineStep_GivesTheUnsplitModelsGradients()
    {
        var ranks = MpiRun.Run("pipeline");
        var stage0 = DdpScenario.Parse(ranks[0]);
        var stage1 = DdpScenario.Parse(ranks[1]);
        // Each rank holds a nonempty, distinct part of the model, and together all of it.
        Assert.NotEmpty(stage0);
        Assert.NotEmpty(stage1);
        var expected = PipelineScenario.SingleProcessGradients();
        Assert.Equal(expected.Keys.Order(), stage0.Keys.Concat(stage1.Keys).Order());
        foreach (var (name, actual) in stage0.Concat(stage1))
        {
            var reference = expected[name];
            double scale = reference.Max(v => Math.Abs((double)v));
            Assert.True(scale > 0, $"{name}: the reference gradient is zero, which would prove nothing");
            for (int i = 0; i < reference.Length; i++)
            {
                double error = Math.Abs((double)actual[i] - reference[i]);
                Assert.True(error <= 1e-5 * scale, $"{name}[{i}]: pipelined {actual[i]} vs unsplit {reference[i]} (error {error:G3})");
            }
        }
    }

    [Fact]
    public void TrainDistributed_MatchesOneProcess_AndItsCheckpointResumesWithoutMpi()
    {
        var distributed = Directory.CreateTempSubdirectory("backprop-ddp-cli-");
        var single = Directory.CreateTempSubdirectory("backprop-cli-");
        try
        {
            string printed = MpiRun.Start(2, "backprop.dll", "train", "moons", "--distributed", "--threads", "1", "--epochs", "2", "--json", "--out", distributed.FullName);
            // Rank 0 alone prints: one header (after the terminal-mode escape .NET writes to mpirun's pseudo-terminal).
            Assert.Single(printed.Split('\n'), l => l.Contains("train moons:", StringComparison.Ordinal));
            Assert.Contains("2 ranks (MPI)", printed);
            Assert.Contains("rank 0: steps", printed);

            // The distributed checkpoint resumes in one process (no MPI) to epoch 3 …
            var (code, resumed) = Backprop.Tests.Cli.CliRunner.Run("train", "--resume", distributed.FullName, "--epochs", "3", "--json");
            Assert.Equal(0, code);
            // … and ends where three single-process epochs end, up to float32 rounding (the sums run in another order).
            var (code2, once) = Backprop.Tests.Cli.CliRunner.Run("train", "moons", "--epochs", "3", "--json", "--out", single.FullName);
            Assert.Equal(0, code2);
            double expected = Backprop.Tests.Cli.CliOutput.LastJson(once).GetProperty("loss").GetDouble();
            double actual = Backprop.Tests.Cli.CliOutput.LastJson(resumed).GetProperty("loss").GetDouble();
            Assert.True(Math.Abs(actual - expected) <= 1e-4 * Math.Abs(expected), $"resumed distributed run: loss {actual}; single process: {expected}");
        }
        finally
        {
            distributed.Delete(recursive: true);
            single.Delete(recursive: true);
        }
    }
}
