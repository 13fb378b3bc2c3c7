using Ember.Interop;
using ScottPlot;

namespace Ember.Cli.Reporting;

/// <summary>
/// Saves plots as PNG files whole or not at all: the picture is rendered to PNG bytes in memory and written through
/// <see cref="AtomicFile"/>, so a kill, a full disk or Ctrl-C never leaves a half PNG under the final name
/// (ScottPlot's own SavePng writes straight to the path).
/// </summary>
public static class PlotFile
{
    /// <summary>Renders <paramref name="plot"/> at the given size and writes it to <paramref name="path"/> atomically.</summary>
    public static void SavePng(Plot plot, string path, int width, int height)
    {
        using var image = plot.GetImage(width, height);
        Write(image, path);
    }

    /// <summary>Renders <paramref name="multiplot"/> at the given size and writes it to <paramref name="path"/> atomically.</summary>
    public static void SavePng(Multiplot multiplot, string path, int width, int height)
    {
        using var image = multiplot.Render(width, height);
        Write(image, path);
    }

    static void Write(Image image, string path)
    {
        var bytes = image.GetImageBytes(ImageFormat.Png);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }
}
