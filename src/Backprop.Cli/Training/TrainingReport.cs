using System.Globalization;
using Spectre.Console;

namespace Backprop.Cli.Training;

/// <summary>How a run's numbers are shown: epoch lines, the summary table, and which epochs a long run shows.</summary>
public static class TrainingReport
{
    /// <summary>
    /// Show every epoch of a short run and about 20 of a long one: a round interval (1, 2, 5, 10, 25, 50, …) that
    /// divides the run into at most 20 steps; the first and last epoch always show.
    /// </summary>
    public static int Interval(int epochs)
    {
        foreach (var step in new[] { 1, 2, 5, 10, 25, 50, 100, 250, 500, 1000 })
            if (epochs <= 20 * step) return step;
        return Math.Max(1, epochs / 20);
    }

    public static bool Shows(int epoch, int firstEpoch, int lastEpoch) =>
        epoch == firstEpoch || epoch == lastEpoch || epoch % Interval(lastEpoch) == 0;

    /// <summary>One plain line per epoch: <c>epoch  3/10  loss 0.2154  train 93.50%  test 92.75%  0.41s</c>.</summary>
    public static string Line(EpochResult r, int lastEpoch)
    {
        int width = lastEpoch.ToString(CultureInfo.InvariantCulture).Length;
        return string.Create(CultureInfo.InvariantCulture,
            $"epoch {r.Epoch.ToString(CultureInfo.InvariantCulture).PadLeft(width)}/{lastEpoch}  loss {Loss(r.Loss)}  train {Percent(r.TrainAccuracy)}  test {Percent(r.TestAccuracy)}  {Seconds(r.Seconds)}");
    }

    /// <summary>The epochs of <paramref name="history"/> that <see cref="Shows"/> picks, as a table.</summary>
    public static Table Table(IReadOnlyList<EpochResult> history)
    {
        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn(new TableColumn("epoch").RightAligned())
            .AddColumn(new TableColumn("loss").RightAligned())
            .AddColumn(new TableColumn("train accuracy").RightAligned())
            .AddColumn(new TableColumn("test accuracy").RightAligned())
            .AddColumn(new TableColumn("time").RightAligned());
        if (history.Count == 0) return table;
        int last = history[^1].Epoch;
        foreach (var r in history)
        {
            if (!Shows(r.Epoch, history[0].Epoch, last)) continue;
            table.AddRow(r.Epoch.ToString(CultureInfo.InvariantCulture), Loss(r.Loss), Percent(r.TrainAccuracy), Percent(r.TestAccuracy), Seconds(r.Seconds));
        }
        return table;
    }

    /// <summary>4 decimals while that shows the value; scientific notation for the tiny losses of a solved problem.</summary>
    public static string Loss(double loss) => loss is >= 1e-3 or 0 || double.IsNaN(loss)
        ? loss.ToString("F4", CultureInfo.InvariantCulture)
        : loss.ToString("0.00E+0", CultureInfo.InvariantCulture);

    public static string Percent(double fraction) => (fraction * 100).ToString("F2", CultureInfo.InvariantCulture) + "%";

    public static string Seconds(double seconds) => seconds < 10
        ? seconds.ToString("F2", CultureInfo.InvariantCulture) + "s"
        : seconds.ToString("F1", CultureInfo.InvariantCulture) + "s";
}
