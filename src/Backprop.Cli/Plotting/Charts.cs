using ScottPlot;

namespace Backprop.Cli.Plotting;

/// <summary>PNG charts of training runs: curves per epoch and the decision regions of a 2-D classifier.</summary>
public static class Charts
{
    private static readonly Color[] Palette =
    [
        new(0x1f, 0x77, 0xb4), new(0xff, 0x7f, 0x0e), new(0x2c, 0xa0, 0x2c), new(0xd6, 0x27, 0x28), new(0x94, 0x67, 0xbd),
        new(0x8c, 0x56, 0x4b), new(0xe3, 0x77, 0xc2), new(0x7f, 0x7f, 0x7f), new(0xbc, 0xbd, 0x22), new(0x17, 0xbe, 0xcf),
    ];

    /// <summary>One line per series against 1, 2, … (epochs or steps).</summary>
    public static void Lines(string path, string title, string xLabel, string yLabel, IEnumerable<(string Label, IReadOnlyList<double> Values)> series, bool logY = false)
    {
        var plot = new Plot();
        int i = 0;
        foreach (var (label, values) in series)
        {
            if (values.Count == 0) continue;
            var xs = Enumerable.Range(1, values.Count).Select(v => (double)v).ToArray();
            var ys = values.Select(v => logY ? Math.Log10(Math.Max(v, 1e-30)) : v).ToArray();
            var line = plot.Add.Scatter(xs, ys, Palette[i++ % Palette.Length]);
            line.LegendText = label;
            line.MarkerSize = values.Count > 60 ? 0 : 4;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(logY ? yLabel + " (log10)" : yLabel);
        plot.ShowLegend();
        plot.SavePng(path, 900, 520);
    }

    /// <summary>
    /// The class a classifier predicts over a grid spanning the points (shaded), with the points on top coloured by
    /// their true class.
    /// </summary>
    /// <param name="predict">Maps a [M, 2] batch of points to [M] Int64 class predictions.</param>
    public static void DecisionBoundary(string path, string title, Tensor points, Tensor labels, Func<Tensor, Tensor> predict, int resolution = 150)
    {
        var xy = points.ToArray<float>();
        var classes = labels.ToArray<long>();
        double minX = double.MaxValue, maxX = double.MinValue, minY = double.MaxValue, maxY = double.MinValue;
        for (int i = 0; i < classes.Length; i++)
        {
            minX = Math.Min(minX, xy[2 * i]); maxX = Math.Max(maxX, xy[2 * i]);
            minY = Math.Min(minY, xy[2 * i + 1]); maxY = Math.Max(maxY, xy[2 * i + 1]);
        }
        double padX = (maxX - minX) * 0.1 + 1e-3, padY = (maxY - minY) * 0.1 + 1e-3;
        minX -= padX; maxX += padX; minY -= padY; maxY += padY;

        var grid = new float[resolution * resolution * 2];
        for (int r = 0; r < resolution; r++)
            for (int c = 0; c < resolution; c++)
            {
                int k = r * resolution + c;
                grid[2 * k] = (float)(minX + (maxX - minX) * (c + 0.5) / resolution);
                grid[2 * k + 1] = (float)(maxY - (maxY - minY) * (r + 0.5) / resolution);
            }
        long[] predicted;
        using (Autograd.NoGrad()) predicted = predict(Tensor.FromArray(grid, resolution * resolution, 2)).ToArray<long>();

        var plot = new Plot();
        long classCount = Math.Max(classes.DefaultIfEmpty(0).Max(), predicted.DefaultIfEmpty(0).Max()) + 1;
        for (long cls = 0; cls < classCount; cls++)
        {
            var color = Palette[cls % Palette.Length];
            var regionX = new List<double>();
            var regionY = new List<double>();
            for (int k = 0; k < predicted.Length; k++)
                if (predicted[k] == cls) { regionX.Add(grid[2 * k]); regionY.Add(grid[2 * k + 1]); }
            if (regionX.Count > 0)
            {
                var region = plot.Add.Markers(regionX.ToArray(), regionY.ToArray(), MarkerShape.FilledSquare, 3, color.WithAlpha(0.18));
                region.LegendText = "";
            }
            var px = new List<double>();
            var py = new List<double>();
            for (int i = 0; i < classes.Length; i++)
                if (classes[i] == cls) { px.Add(xy[2 * i]); py.Add(xy[2 * i + 1]); }
            if (px.Count > 0)
            {
                var dots = plot.Add.Markers(px.ToArray(), py.ToArray(), MarkerShape.FilledCircle, 6, color);
                dots.LegendText = $"class {cls}";
            }
        }
        plot.Title(title);
        plot.Axes.SetLimits(minX, maxX, minY, maxY);
        plot.ShowLegend();
        plot.SavePng(path, 700, 640);
    }
}
