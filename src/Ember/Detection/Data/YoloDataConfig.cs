using System.Globalization;
using System.Text;
using Ember.Data;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Ember.Detection.Data;

/// <summary>
/// A YOLO data set description (YOLOv5's <c>data.yaml</c>): <c>path</c> (the root; relative to the YAML file's folder, and
/// the YAML file's folder when absent), <c>train</c> and <c>val</c> (an image folder, a .txt file listing images, or a
/// list of those, relative to the root), <c>nc</c> (number of classes) and <c>names</c> (a list, or a mapping from class
/// id to name). Errors name the file, the line and the key.
/// </summary>
public sealed class YoloDataConfig
{
    /// <summary>The root folder, absolute.</summary>
    public required string Root { get; init; }
    /// <summary>The training image sources, absolute.</summary>
    public required IReadOnlyList<string> Train { get; init; }
    /// <summary>The validation image sources, absolute.</summary>
    public required IReadOnlyList<string> Val { get; init; }
    /// <summary>The class names, indexed by class id.</summary>
    public required IReadOnlyList<string> Names { get; init; }
    /// <summary>The number of classes.</summary>
    public int ClassCount => Names.Count;
    /// <summary>The file read (null when built in code).</summary>
    public string? Source { get; init; }

    const int MaxBytes = 1 << 20;

    /// <summary>Reads a data.yaml file.</summary>
    public static YoloDataConfig Load(string path)
    {
        var bytes = UntrustedFile.ReadAllBytes(path, "data.yaml", MaxBytes);
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!;
        return Parse(Encoding.UTF8.GetString(bytes), path, folder);
    }

    /// <summary>Parses data.yaml text; <paramref name="source"/> names it in errors and relative paths start at <paramref name="folder"/>.</summary>
    public static YoloDataConfig Parse(string text, string source, string folder)
    {
        YamlMappingNode root;
        try
        {
            CheckFlat(text, source);
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode m)
                throw new InvalidDataException($"{source}: expected a mapping with the keys train, val, nc and names");
            root = m;
        }
        catch (YamlException e)
        {
            throw new InvalidDataException($"{source}:{e.Start.Line}:{e.Start.Column}: invalid YAML: {e.Message.Split('\n')[0]}", e);
        }
        string? Scalar(string key)
        {
            if (!root.Children.TryGetValue(new YamlScalarNode(key), out var node)) return null;
            if (node is not YamlScalarNode s) throw new InvalidDataException($"{source}:{node.Start.Line}: '{key}' must be a single value, got a {Kind(node)}");
            return s.Value;
        }
        var rootValue = Scalar("path");
        var rootFolder = System.IO.Path.GetFullPath(string.IsNullOrEmpty(rootValue) ? folder : System.IO.Path.Combine(folder, rootValue));
        IReadOnlyList<string> Sources(string key)
        {
            if (!root.Children.TryGetValue(new YamlScalarNode(key), out var node))
                throw new InvalidDataException($"{source}: missing key '{key}' (an image folder, a .txt list of images, or a list of them, relative to {rootFolder})");
            var values = node switch
            {
                YamlScalarNode s => [s.Value ?? ""],
                YamlSequenceNode seq => seq.Children.Select(c => c is YamlScalarNode s ? s.Value ?? ""
                    : throw new InvalidDataException($"{source}:{c.Start.Line}: '{key}' entries must be paths, got a {Kind(c)}")).ToList(),
                _ => throw new InvalidDataException($"{source}:{node.Start.Line}: '{key}' must be a path or a list of paths, got a {Kind(node)}"),
            };
            if (values.Count == 0 || values.Any(string.IsNullOrWhiteSpace))
                throw new InvalidDataException($"{source}:{node.Start.Line}: '{key}' holds an empty path");
            return values.Select(v => System.IO.Path.GetFullPath(System.IO.Path.Combine(rootFolder, v))).ToList();
        }
        var train = Sources("train");
        var val = Sources("val");
        if (!root.Children.TryGetValue(new YamlScalarNode("names"), out var namesNode))
            throw new InvalidDataException($"{source}: missing key 'names' (the class names, a list or a mapping from id to name)");
        var names = ReadNames(namesNode, source);
        if (Scalar("nc") is string ncText)
        {
            if (!int.TryParse(ncText, NumberStyles.None, CultureInfo.InvariantCulture, out int nc) || nc < 1)
                throw new InvalidDataException($"{source}: 'nc' must be a positive integer, got '{ncText}'");
            if (nc != names.Count)
                throw new InvalidDataException($"{source}: 'nc' is {nc} but 'names' lists {names.Count} classes; they must agree");
        }
        return new YoloDataConfig { Root = rootFolder, Train = train, Val = val, Names = names, Source = source };
    }

    static List<string> ReadNames(YamlNode node, string source)
    {
        if (node is YamlSequenceNode seq)
        {
            var list = seq.Children.Select(c => c is YamlScalarNode s ? s.Value ?? ""
                : throw new InvalidDataException($"{source}:{c.Start.Line}: class names must be strings, got a {Kind(c)}")).ToList();
            if (list.Count == 0) throw new InvalidDataException($"{source}:{node.Start.Line}: 'names' is empty; a data set needs at least one class");
            return list;
        }
        if (node is YamlMappingNode map)
        {
            // YOLOv5 also writes names as {0: person, 1: bicycle}; ids must be exactly 0..n-1
            var byId = new SortedDictionary<int, string>();
            foreach (var (k, v) in map.Children)
            {
                if (k is not YamlScalarNode ks || !int.TryParse(ks.Value, NumberStyles.None, CultureInfo.InvariantCulture, out int id))
                    throw new InvalidDataException($"{source}:{k.Start.Line}: 'names' keys must be class ids 0, 1, ...; got '{(k as YamlScalarNode)?.Value ?? Kind(k)}'");
                byId[id] = v is YamlScalarNode vs ? vs.Value ?? "" : throw new InvalidDataException($"{source}:{v.Start.Line}: the name of class {id} must be a string, got a {Kind(v)}");
            }
            for (int i = 0; i < byId.Count; i++)
                if (!byId.ContainsKey(i)) throw new InvalidDataException($"{source}:{node.Start.Line}: 'names' has ids {string.Join(", ", byId.Keys)}; expected 0 to {byId.Count - 1} with none missing");
            if (byId.Count == 0) throw new InvalidDataException($"{source}:{node.Start.Line}: 'names' is empty; a data set needs at least one class");
            return [.. byId.Values];
        }
        throw new InvalidDataException($"{source}:{node.Start.Line}: 'names' must be a list or a mapping from class id to name, got a {Kind(node)}");
    }

    static string Kind(YamlNode node) => node switch { YamlMappingNode => "mapping", YamlSequenceNode => "list", _ => "value" };

    // data.yaml is two levels deep at most; refusing deep nesting on the event stream keeps YamlDotNet's recursive node
    // building from overflowing the stack on a hostile file.
    static void CheckFlat(string text, string source)
    {
        var parser = new Parser(new StringReader(text));
        int depth = 0;
        while (parser.MoveNext())
        {
            if (parser.Current is MappingStart or SequenceStart && ++depth > 8)
                throw new InvalidDataException($"{source}:{parser.Current.Start.Line}: YAML nested more than 8 levels deep; a data.yaml needs 2");
            if (parser.Current is MappingEnd or SequenceEnd) depth--;
        }
    }

    /// <summary>
    /// Writes a data.yaml whose <c>path</c> is the YAML file's own folder (".") so the data set can be moved as a whole;
    /// <paramref name="train"/> and <paramref name="val"/> are relative to it.
    /// </summary>
    public static void Write(string path, string train, string val, IReadOnlyList<string> names)
    {
        var sb = new StringBuilder();
        sb.Append("# YOLO data set (Ember / YOLOv5 format): paths are relative to 'path', itself relative to this file\n");
        sb.Append("path: .\n");
        sb.Append(CultureInfo.InvariantCulture, $"train: {Quote(train)}\n");
        sb.Append(CultureInfo.InvariantCulture, $"val: {Quote(val)}\n");
        sb.Append(CultureInfo.InvariantCulture, $"nc: {names.Count}\n");
        sb.Append("names:\n");
        foreach (var n in names) sb.Append(CultureInfo.InvariantCulture, $"  - {Quote(n)}\n");
        // whole or absent: make-data writes it last, as the sign that the set is complete
        Interop.AtomicFile.WriteAllText(path, sb.ToString());
    }

    // Double-quoted YAML keeps names like "T-shirt/top" or "a: b" intact.
    static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
