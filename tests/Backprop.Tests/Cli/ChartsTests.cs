using Backprop.Cli.Plotting;

namespace Backprop.Tests.Cli;

public class ChartsTests
{
    private static void AssertPng(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 1000, $"{path} is only {bytes.Length} bytes");
        Assert.Equal(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, bytes[..4]);
    }

    [Fact]
    public void Line_chart_and_decision_boundary_render_as_png()
    {
        var dir = Directory.CreateTempSubdirectory("backprop-charts");
        if (Environment.GetEnvironmentVariable("BACKPROP_KEEP_CHARTS") is { } keep) dir = Directory.CreateDirectory(keep);
        try
        {
            var lines = Path.Combine(dir.FullName, "loss.png");
            Charts.Lines(lines, "loss", "epoch", "loss", [("train", [1.0, 0.5, 0.25]), ("test", [1.1, 0.6, 0.3])]);
            AssertPng(lines);

            var boundary = Path.Combine(dir.FullName, "boundary.png");
            var points = Tensor.FromArray(new float[] { -1, -1, 1, 1, -1, 1, 1, -1 }, 4, 2);
            var labels = Tensor.FromArray(new long[] { 0, 0, 1, 1 });
            // A fixed rule: class 1 where x·y < 0 (the XOR pattern).
            Charts.DecisionBoundary(boundary, "xor", points, labels, p => (p.Select(1, 0) * p.Select(1, 1)).Lt(0.0).Long());
            AssertPng(boundary);
        }
        finally
        {
            if (Environment.GetEnvironmentVariable("BACKPROP_KEEP_CHARTS") is null) dir.Delete(recursive: true);
        }
    }
}
