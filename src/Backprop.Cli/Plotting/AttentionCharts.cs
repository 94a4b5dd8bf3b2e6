using ScottPlot;

namespace Backprop.Cli.Plotting;

/// <summary>Heat maps of attention weights: one panel per head, one row of panels per block.</summary>
public static class AttentionCharts
{
    /// <param name="blocks">Per block, its weights [heads, time, time]: row t is how much query t attends to each key.</param>
    /// <param name="labels">The character at each position (axis labels).</param>
    public static void Heatmaps(string path, IReadOnlyList<Tensor> blocks, IReadOnlyList<string> labels)
    {
        int rows = blocks.Count, heads = blocks[0].Size(0), time = blocks[0].Size(1);
        var multiplot = new Multiplot();
        multiplot.AddPlots(rows * heads);
        multiplot.Layout = new ScottPlot.MultiplotLayouts.Grid(rows, heads);
        var ticks = Enumerable.Range(0, time).Select(i => (double)i).ToArray();
        var tickLabels = labels.Select(l => l switch { " " => "␣", "\n" => "⏎", "\t" => "⇥", _ => l }).ToArray();
        for (int b = 0; b < rows; b++)
        {
            var weights = blocks[b].To(DType.Float64);
            for (int h = 0; h < heads; h++)
            {
                var values = weights.Select(0, h).ToArray<double>();
                var grid = new double[time, time];
                for (int q = 0; q < time; q++)
                    for (int k = 0; k < time; k++) grid[q, k] = values[q * time + k];
                var plot = multiplot.GetPlot(b * heads + h);
                var heatmap = plot.Add.Heatmap(grid);
                heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
                heatmap.FlipVertically = false;
                plot.Title($"block {b + 1}, head {h + 1}");
                plot.XLabel("key (attended to)");
                plot.YLabel("query");
                if (time <= 40)
                {
                    plot.Axes.Bottom.SetTicks(ticks, tickLabels);
                    plot.Axes.Left.SetTicks(ticks, tickLabels.Reverse().ToArray()); // row 0 is drawn at the top, where y is largest
                }
            }
        }
        multiplot.SavePng(path, Math.Max(420 * heads, 600), 420 * rows);
    }
}
