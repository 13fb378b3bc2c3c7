using System.Globalization;
using System.Reflection;
using System.Text;
using Ember.Data;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Ember.Detection.Model;

/// <summary>
/// A YOLOv5 model definition (YOLOv5's <c>models/yolov5s.yaml</c> format): <c>nc</c>, <c>depth_multiple</c>,
/// <c>width_multiple</c>, <c>anchors</c> (one list of (w, h) pixel pairs per detection level) and the
/// <c>backbone</c> and <c>head</c> lists of <c>[from, number, module, args]</c> rows, numbered together from 0.
/// <see cref="YoloModel"/> builds the network. Errors name the file, the line and the key.
/// </summary>
public sealed class YoloModelConfig
{
    /// <summary>Number of classes.</summary>
    public required int NumClasses { get; init; }
    /// <summary>depth_multiple: scales each row's number as max(round(n·d), 1) for n &gt; 1.</summary>
    public required double DepthMultiple { get; init; }
    /// <summary>width_multiple: scales output channels as ceil(c·w / 8)·8.</summary>
    public required double WidthMultiple { get; init; }
    /// <summary>The anchors, (w, h) pixel pairs per level.</summary>
    public required double[][] Anchors { get; init; }
    /// <summary>The backbone rows followed by the head rows.</summary>
    public required IReadOnlyList<YoloLayerSpec> Layers { get; init; }
    /// <summary>The file read, or the built-in name.</summary>
    public string Source { get; init; } = "(yaml)";

    /// <summary>The multipliers as a <see cref="YoloSize"/>.</summary>
    public YoloSize Size => new(Path.GetFileNameWithoutExtension(Source), DepthMultiple, WidthMultiple);

    const int MaxBytes = 1 << 20;

    /// <summary>The definitions shipped with Ember.</summary>
    public static IReadOnlyList<string> BuiltinNames { get; } = ["yolov5n", "yolov5s"];

    /// <summary>Reads a model definition file.</summary>
    public static YoloModelConfig Load(string path)
        => Parse(Encoding.UTF8.GetString(UntrustedFile.ReadAllBytes(path, "model yaml", MaxBytes)), path);

    /// <summary>A shipped definition by name (yolov5n, yolov5s; a trailing .yaml is allowed).</summary>
    public static YoloModelConfig Builtin(string name)
    {
        var key = name.EndsWith(".yaml", StringComparison.OrdinalIgnoreCase) ? name[..^5] : name;
        key = key.ToLowerInvariant();
        if (!BuiltinNames.Contains(key))
            throw new ArgumentException($"YOLO model definition: no built-in '{name}'; built-in: {string.Join(", ", BuiltinNames)} (or give a path to a .yaml file)", nameof(name));
        var assembly = typeof(YoloModelConfig).Assembly;
        var resource = assembly.GetManifestResourceNames().Single(r => r.EndsWith($".{key}.yaml", StringComparison.Ordinal));
        using var stream = assembly.GetManifestResourceStream(resource)!;
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return Parse(reader.ReadToEnd(), key + ".yaml");
    }

    /// <summary>Parses definition text; <paramref name="source"/> names it in errors.</summary>
    public static YoloModelConfig Parse(string text, string source)
    {
        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode m)
                throw new InvalidDataException($"{source}: expected a mapping with the keys nc, depth_multiple, width_multiple, anchors, backbone and head");
            root = m;
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{source}:{e.Start.Line}:{e.Start.Column}: invalid YAML: {e.Message.Split('\n')[0]}", e);
        }
        YamlNode Get(string key) => root.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node
            : throw new InvalidDataException($"{source}: missing key '{key}'");
        double Number(string key)
        {
            var node = Get(key);
            if (node is YamlScalarNode s && double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0 && double.IsFinite(v)) return v;
            throw new InvalidDataException($"{source}:{node.Start.Line}: '{key}' must be a positive number, got {Show(node)}");
        }
        double nc = Number("nc");
        if (nc != Math.Floor(nc)) throw new InvalidDataException($"{source}:{Get("nc").Start.Line}: 'nc' must be a positive integer, got {nc}");
        var anchors = ReadAnchors(Get("anchors"), source);
        var layers = new List<YoloLayerSpec>();
        foreach (var part in new[] { "backbone", "head" })
        {
            if (Get(part) is not YamlSequenceNode rows) throw new InvalidDataException($"{source}:{Get(part).Start.Line}: '{part}' must be a list of [from, number, module, args] rows");
            foreach (var row in rows.Children) layers.Add(Row(row, layers.Count, source));
        }
        if (layers.Count == 0) throw new InvalidDataException($"{source}: 'backbone' and 'head' hold no layers");
        return new YoloModelConfig
        {
            NumClasses = (int)nc, DepthMultiple = Number("depth_multiple"), WidthMultiple = Number("width_multiple"),
            Anchors = anchors, Layers = layers, Source = source,
        };
    }

    static YoloLayerSpec Row(YamlNode row, int index, string source)
    {
        string where = $"{source}:{row.Start.Line}: layer {index}";
        if (row is not YamlSequenceNode r || r.Children.Count != 4)
            throw new InvalidDataException($"{where}: expected [from, number, module, args], got {Show(row)}");
        var fromNode = r.Children[0];
        int[] from = fromNode switch
        {
            YamlScalarNode s => [Int(s, where, "from")],
            YamlSequenceNode seq when seq.Children.Count > 0 => [.. seq.Children.Select(c => Int(c, where, "from"))],
            _ => throw new InvalidDataException($"{where}: 'from' must be a layer index or a list of them, got {Show(fromNode)}"),
        };
        foreach (int f in from)
            if (f >= 0 ? f >= index : index + f < 0 && !(index == 0 && f == -1))
                throw new InvalidDataException($"{where}: 'from' {f} names no earlier layer (layers so far: 0 to {index - 1}; -1 is the previous one)");
        int number = Int(r.Children[1], where, "number");
        if (number < 1) throw new InvalidDataException($"{where}: 'number' must be at least 1, got {number}");
        if (r.Children[2] is not YamlScalarNode module || string.IsNullOrEmpty(module.Value))
            throw new InvalidDataException($"{where}: 'module' must be a name, got {Show(r.Children[2])}");
        if (r.Children[3] is not YamlSequenceNode args)
            throw new InvalidDataException($"{where}: 'args' must be a list, got {Show(r.Children[3])}");
        var values = new List<string>();
        foreach (var a in args.Children)
            values.Add(a is YamlScalarNode s ? s.Value ?? "" : throw new InvalidDataException($"{where}: arguments must be single values or the names nc and anchors, got {Show(a)}"));
        return new YoloLayerSpec(from, number, module.Value, values, (int)row.Start.Line);
    }

    static double[][] ReadAnchors(YamlNode node, string source)
    {
        if (node is not YamlSequenceNode levels || levels.Children.Count == 0)
            throw new InvalidDataException($"{source}:{node.Start.Line}: 'anchors' must be a list with one list of (w, h) pixel pairs per detection level, got {Show(node)}");
        var result = new double[levels.Children.Count][];
        for (int i = 0; i < result.Length; i++)
        {
            var level = levels.Children[i];
            if (level is not YamlSequenceNode pairs || pairs.Children.Count == 0 || pairs.Children.Count % 2 != 0)
                throw new InvalidDataException($"{source}:{level.Start.Line}: anchors of level {i} must be a list of (w, h) pixel pairs, got {Show(level)}");
            result[i] = [.. pairs.Children.Select(c => c is YamlScalarNode s && double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && v > 0
                ? v : throw new InvalidDataException($"{source}:{c.Start.Line}: anchors must be positive numbers, got {Show(c)}"))];
        }
        return result;
    }

    static int Int(YamlNode node, string where, string what)
        => node is YamlScalarNode s && int.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out int v) ? v
            : throw new InvalidDataException($"{where}: '{what}' must be an integer, got {Show(node)}");

    static string Show(YamlNode node) => node switch
    {
        YamlScalarNode s => $"'{s.Value}'",
        YamlSequenceNode => "a list",
        YamlMappingNode => "a mapping",
        _ => "nothing",
    };
}
