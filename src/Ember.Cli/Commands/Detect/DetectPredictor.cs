using System.Globalization;
using System.Text;
using Ember.Data;
using Ember.Data.Transforms;
using Ember.Detection.Data;
using Ember.Detection.Model;
using Ember.Interop;

namespace Ember.Cli.Commands.Detect;

/// <summary>
/// `ember detect predict`'s work (YOLOv5's detect.py): each image letterboxed to --img with the minimal stride-32 padding
/// (auto), the decoded output through NMS (confidence 0.25, IoU 0.45 by default), the boxes mapped back to the original
/// image and clipped to it; written as NAME.png with the boxes drawn and labels/NAME.txt with one
/// <c>class cx cy w h conf</c> line per box, normalized by the original image's width and height (detect.py --save-txt --save-conf).
/// </summary>
public static class DetectPredictor
{
    /// <summary>
    /// What a prediction run did: images written, the images that could not be read and those that did not fit in memory
    /// (path, reason).
    /// </summary>
    public sealed record Outcome(int Written, int Boxes, IReadOnlyList<(string Path, string Reason)> Unreadable, IReadOnlyList<(string Path, string Reason)> TooLarge);

    /// <summary>Test seam: runs with each image's path once its annotated image is written (a test throws there).</summary>
    internal static readonly AsyncLocal<Action<string>?> AfterDrawing = new();

    /// <summary>The image files of <paramref name="source"/> (a folder, searched recursively in name order, or one image file).</summary>
    public static List<string> Images(string source)
    {
        if (Directory.Exists(source))
        {
            var files = Directory.EnumerateFiles(source, "*", SearchOption.AllDirectories).Where(DetectionImages.IsImage).Order(StringComparer.Ordinal).ToList();
            if (files.Count == 0)
                throw new FileNotFoundException($"--source {source}: no images ({string.Join(", ", DetectionImages.Extensions)}) in the folder");
            return files;
        }
        if (File.Exists(source))
        {
            if (!DetectionImages.IsImage(source))
                throw new InvalidDataException($"--source {source}: not an image file (expected one of {string.Join(", ", DetectionImages.Extensions)}, or a folder of them)");
            return [source];
        }
        throw new FileNotFoundException($"--source {source}: no such folder or image file", source);
    }

    /// <summary>Predicts on every image of <paramref name="source"/> and writes the results into <paramref name="output"/>.</summary>
    public static Outcome Run(YoloDetector model, IReadOnlyList<string> names, string source, string output, int imageSize, NmsOptions nms, TextWriter log, bool augment = false)
    {
        var files = Images(source);
        Directory.CreateDirectory(Path.Combine(output, "labels"));
        model.Eval();
        List<(string, string)> unreadable = [], tooLarge = [];
        int written = 0, boxes = 0;
        foreach (var file in files)
        {
            var name = Path.GetFileNameWithoutExtension(file);
            string picture = Path.Combine(output, name + ".png"), labels = Path.Combine(output, "labels", name + ".txt");
            Tensor image;
            try
            {
                // An image is decoded at its own size (up to the pixel limit, 89.5 million pixels): one that does not fit
                // in the memory free now is skipped, as an unreadable one, rather than ending the command (or the process).
                var (height, width) = DetectionImages.Probe(file, ImageFolder.DefaultMaxPixels);
                if (TrainingMemory.ImageRefusal(width, height, TrainingMemory.PredictBytesPerPixel, "decode, predict and draw") is string reason)
                {
                    tooLarge.Add((file, reason));
                    log.WriteLine($"skipped {file}: too large for memory now: {reason}");
                    continue;
                }
                image = DetectionImages.Decode(file, ImageFolder.DefaultMaxPixels);
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                var reason = e.Message.Replace($"image '{file}': ", "");
                unreadable.Add((file, reason));
                log.WriteLine($"skipped {file}: unreadable image: {reason}");
                continue;
            }
            catch (OutOfMemoryException e)
            {
                RanOut(file, e);
                continue;
            }
            try
            {
                var detections = Detect(model, image, imageSize, nms, augment);
                // the picture and its labels as one write: a signal's stop (AtomicFile.StopWrites) waits for both, so no
                // picture is left without its labels file
                AtomicFile.AsWrite(() =>
                {
                    BoxDrawing.Save(image, detections, null, names, picture);
                    AfterDrawing.Value?.Invoke(file);
                    AtomicFile.WriteAllText(labels, YoloLines(detections, image.Size(1), image.Size(2)));
                });
                boxes += detections.Size(0);
                written++;
                log.WriteLine($"{file}: {image.Size(2)}×{image.Size(1)}, {Describe(detections, names)}");
            }
            catch (OutOfMemoryException e)
            {
                File.Delete(picture);
                File.Delete(labels);
                RanOut(file, e);
            }
        }
        return new Outcome(written, boxes, unreadable, tooLarge);

        // The estimate is an estimate, and other programs take memory too: the image is skipped, the next one may fit.
        void RanOut(string file, OutOfMemoryException e)
        {
            TrainingMemory.GiveBack();
            var reason = $"memory ran out while predicting on it ({CliErrors.OutOfMemory(e)})";
            tooLarge.Add((file, reason));
            log.WriteLine($"skipped {file}: {reason}");
        }
    }

    /// <summary>
    /// The detections on one RGB image [3, H, W] in [0, 1]: rows x1, y1, x2, y2, score, class in the image's pixels, by
    /// decreasing score. With <paramref name="augment"/>, from YOLOv5's augmented inference (<see cref="AugmentedInference"/>).
    /// </summary>
    public static Tensor Detect(YoloDetector model, Tensor image, int imageSize, NmsOptions nms, bool augment = false)
    {
        var boxed = new Letterbox(imageSize, imageSize, stride: 32, auto: true).Apply(image);
        Tensor decoded;
        using (Torch.NoGrad()) decoded = augment ? AugmentedInference.Forward(model, boxed.Image.Unsqueeze(0)) : model.Call(boxed.Image.Unsqueeze(0));
        var found = NonMaxSuppression.Apply(decoded, nms)[0];
        if (found.Size(0) == 0) return found;
        var mapped = boxed.MapToOriginal(found).Contiguous().ToArray<float>();
        int h = image.Size(1), w = image.Size(2);
        for (int i = 0; i < mapped.Length / 6; i++)
            for (int j = 0; j < 4; j++) mapped[6 * i + j] = Math.Clamp(mapped[6 * i + j], 0, j % 2 == 0 ? w : h); // scale_boxes clips
        return Torch.FromArray(mapped, [mapped.Length / 6, 6]);
    }

    /// <summary>One line per detection, <c>class cx cy w h conf</c> normalized by the image size (YOLOv5's --save-txt --save-conf).</summary>
    public static string YoloLines(Tensor detections, int height, int width)
    {
        var d = detections.To(DType.Float64).Contiguous().ToArray<double>();
        var sb = new StringBuilder();
        for (int i = 0; i < d.Length / 6; i++)
        {
            double x1 = d[6 * i], y1 = d[6 * i + 1], x2 = d[6 * i + 2], y2 = d[6 * i + 3];
            sb.Append(string.Create(CultureInfo.InvariantCulture,
                $"{(int)d[6 * i + 5]} {(x1 + x2) / 2 / width:F6} {(y1 + y2) / 2 / height:F6} {(x2 - x1) / width:F6} {(y2 - y1) / height:F6} {d[6 * i + 4]:F6}\n"));
        }
        return sb.ToString();
    }

    static string Describe(Tensor detections, IReadOnlyList<string> names)
    {
        int n = detections.Size(0);
        if (n == 0) return "no detections";
        var classes = detections.Select(1, 5).To(DType.Float64).ToArray<double>();
        var counts = classes.GroupBy(c => (int)c).OrderBy(g => g.Key).Select(g => $"{g.Count()} {DetectPlots.Name(names, g.Key)}");
        return string.Join(", ", counts);
    }
}
