using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.RepresentationModel;

namespace Ember.Cli.Configuration;

/// <summary>
/// Every YAML file the CLI reads or writes goes through here (YamlDotNet): reads check the nesting depth before
/// building nodes (YamlDotNet builds them recursively, so a line nested 100k deep would overflow the stack and abort
/// the process) and turn every YamlDotNet error into a <see cref="ConfigException"/> naming the file, line and column;
/// writes quote whatever needs quoting, so a value holding ": ", "#", quotes or newlines reads back unchanged.
/// </summary>
public static class YamlFile
{
    /// <summary>The deepest nesting of mappings and sequences accepted (Ember's files need 3).</summary>
    public const int MaxDepth = 64;

    /// <summary>Reads <paramref name="path"/>; null for an empty document.</summary>
    public static YamlNode? Load(string path) => Parse(ReadText(path), path);

    /// <summary>The largest config file read (Ember's are a few hundred bytes).</summary>
    public const int MaxBytes = 1 << 20;

    /// <summary>Reads a regular file's text, at most <see cref="MaxBytes"/> characters.</summary>
    internal static string ReadText(string path)
    {
        if (Directory.Exists(path)) throw new ConfigException($"{path} is a folder, not a file");
        if (!File.Exists(path)) throw new ConfigException($"file not found: {path}");
        // a FIFO would block in open() and a device never ends: only regular files are opened (devices are refused on Linux)
        FileStream stream;
        try { (stream, _) = Ember.Data.UntrustedFile.OpenRead(path, "config file"); }
        catch (InvalidDataException e) { throw new ConfigException(e.Message); }
        using var reader = new StreamReader(stream, System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        var buffer = new char[MaxBytes + 1];
        int read = reader.ReadBlock(buffer, 0, buffer.Length);
        if (read > MaxBytes) throw new ConfigException($"{path} holds more than {MaxBytes:N0} characters; it is not a config file");
        return new string(buffer, 0, read);
    }

    /// <summary>Parses <paramref name="text"/> (named <paramref name="source"/> in errors); null for an empty document.</summary>
    public static YamlNode? Parse(string text, string source)
    {
        try
        {
            CheckDepth(text, source);
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count > 1) throw new ConfigException($"{source}: holds {stream.Documents.Count} YAML documents (separated by ---); expected one");
            return stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
        }
        catch (YamlException e)
        {
            // YamlDotNet wraps a duplicate key's ArgumentException; its own message is the useful part then.
            var why = e.InnerException is ArgumentException inner ? $"duplicate key ({inner.Message})" : FirstLine(e.Message);
            throw new ConfigException($"{source}:{e.Start.Line}:{e.Start.Column}: invalid YAML: {why}");
        }
    }

    static string FirstLine(string message) => message.Split('\n')[0].Trim();

    // Walks the parser's events (no recursion) and refuses deep nesting before any node is built.
    static void CheckDepth(string text, string source)
    {
        var parser = new Parser(new StringReader(text));
        int depth = 0;
        while (parser.MoveNext())
        {
            switch (parser.Current)
            {
                case MappingStart or SequenceStart:
                    if (++depth > MaxDepth)
                        throw new ConfigException($"{source}:{parser.Current.Start.Line}:{parser.Current.Start.Column}: YAML nested more than {MaxDepth} levels deep; Ember's config files need at most 3");
                    break;
                case MappingEnd or SequenceEnd:
                    depth--;
                    break;
            }
        }
    }

    /// <summary>The root as a mapping (an empty one for an empty file), or a <see cref="ConfigException"/> saying what was expected.</summary>
    public static YamlMappingNode RootMapping(YamlNode? root, string source, string expected)
        => root switch
        {
            null => new YamlMappingNode(),
            YamlMappingNode map => map,
            YamlScalarNode { Value: null or "" } => new YamlMappingNode(),
            _ => throw new ConfigException($"{source}:{root.Start.Line}:{root.Start.Column}: expected {expected}"),
        };

    /// <summary>A mapping key's text; a key that is itself a mapping or sequence is an error naming its line.</summary>
    public static string Key(YamlNode key, string source)
        => key is YamlScalarNode { Value: string text } ? text
            : throw new ConfigException($"{source}:{key.Start.Line}:{key.Start.Column}: a key must be plain text, got {Describe(key)}");

    /// <summary>A scalar's value, null for YAML's null (a plain <c>null</c>, <c>~</c> or nothing; quoted "null" stays text).</summary>
    public static string? Scalar(YamlScalarNode scalar)
        => scalar.Style is ScalarStyle.Plain or ScalarStyle.Any && scalar.Value is null or "" or "null" or "Null" or "NULL" or "~" ? null : scalar.Value;

    /// <summary>The key/value pairs of a mapping whose values must all be scalars.</summary>
    public static Dictionary<string, string?> Scalars(YamlMappingNode map, string source)
    {
        var result = new Dictionary<string, string?>();
        foreach (var (k, v) in map.Children)
        {
            var key = Key(k, source);
            if (v is not YamlScalarNode scalar)
                throw new ConfigException($"{source}:{v.Start.Line}:{v.Start.Column}: key '{key}' must have a single value, got {Describe(v)}");
            result[key] = Scalar(scalar);
        }
        return result;
    }

    static string Describe(YamlNode node) => node switch { YamlMappingNode => "a mapping", YamlSequenceNode => "a list", _ => "a value" };

    /// <summary>
    /// Writes <paramref name="pairs"/> as a flat YAML mapping, one "key: value" per line, after <paramref name="comments"/>
    /// (each written as a "# " line); a list of doubles is written as a flow sequence [a, b]. Strings are quoted where YAML needs it; null is written as <c>null</c>, numbers and
    /// booleans plain (invariant culture, doubles round-trip).
    /// </summary>
    public static string Write(IEnumerable<KeyValuePair<string, object?>> pairs, IEnumerable<string>? comments = null)
    {
        var writer = new StringWriter { NewLine = "\n" };
        foreach (var line in comments ?? [])
            foreach (var part in line.Split('\n'))
                writer.Write($"# {part}\n");
        var emitter = new Emitter(writer, EmitterSettings.Default.WithBestWidth(int.MaxValue)); // one line per key
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart(null, null, isImplicit: true));
        emitter.Emit(new MappingStart(null, null, isImplicit: true, MappingStyle.Block));
        foreach (var (key, value) in pairs)
        {
            emitter.Emit(new Scalar(key));
            if (value is IEnumerable<double> list)
            {
                emitter.Emit(new SequenceStart(null, null, isImplicit: true, SequenceStyle.Flow));
                foreach (var item in list) emitter.Emit(Value(item));
                emitter.Emit(new SequenceEnd());
            }
            else emitter.Emit(Value(value));
        }
        emitter.Emit(new MappingEnd());
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return writer.ToString().Replace("\r\n", "\n");
    }

    static Scalar Value(object? value) => value switch
    {
        null => new Scalar(null, null, "null", ScalarStyle.Plain, true, false),
        bool b => new Scalar(null, null, b ? "true" : "false", ScalarStyle.Plain, true, false),
        double d => new Scalar(null, null, d.ToString("R", CultureInfo.InvariantCulture), ScalarStyle.Plain, true, false),
        IFormattable f => new Scalar(null, null, f.ToString(null, CultureInfo.InvariantCulture), ScalarStyle.Plain, true, false),
        // Text that YAML would read as something else (null, a number, a boolean) or that has no plain form is quoted.
        string s => new Scalar(null, null, s, NeedsQuotes(s) ? ScalarStyle.DoubleQuoted : ScalarStyle.Any, true, true),
        _ => new Scalar(null, null, value.ToString() ?? "", ScalarStyle.DoubleQuoted, true, true),
    };

    static bool NeedsQuotes(string s)
        => s.Length == 0 || s is "null" or "Null" or "NULL" or "~" or "true" or "false" or "yes" or "no" or "on" or "off"
           || double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
           || s.AsSpan().IndexOfAny("\n\r\t\"'#:") >= 0 || char.IsWhiteSpace(s[0]) || char.IsWhiteSpace(s[^1]);
}
