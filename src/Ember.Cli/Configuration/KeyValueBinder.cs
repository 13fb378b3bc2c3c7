using System.Globalization;
using System.Reflection;

namespace Ember.Cli.Configuration;

/// <summary>
/// Reads the key/value strings of a config (a YAML or JSON file's scalars, or command-line options) into the typed
/// properties of a config record of snake_case keys: the one parser of option values for train, detect and forecast.
/// </summary>
internal static class KeyValueBinder
{
    /// <summary>
    /// Assigns each value to the property its key names (dashes read as underscores, any case) on
    /// <paramref name="target"/>; an unknown key or a value of the wrong type is a <see cref="ConfigException"/> naming
    /// <paramref name="source"/>.
    /// </summary>
    public static void Assign(object target, IReadOnlyDictionary<string, PropertyInfo> keys, IReadOnlyDictionary<string, string?> values, string source)
    {
        foreach (var (rawKey, value) in values)
        {
            var key = rawKey.Replace('-', '_').ToLowerInvariant();
            if (!keys.TryGetValue(key, out var property))
                throw new ConfigException($"{source}: unknown key '{rawKey}'; valid keys: {string.Join(", ", keys.Keys)}");
            property.SetValue(target, Parse(value, property, key, source));
        }
    }

    /// <summary>
    /// <paramref name="value"/> as a value of <paramref name="property"/>'s type: an integer (no separators), a finite
    /// number with '.' as its decimal point ("1,5" is refused, not read as 15 with ',' as a thousands separator; NaN
    /// and ±Inf are refused, none of them being a setting), true/false (yes/no, 1/0, on/off) or text. No value (YAML's
    /// ~ or an empty entry) is 0 or false for a number or switch and null for an optional key; a text key that is not
    /// optional refuses it. Anything else is a <see cref="ConfigException"/> naming <paramref name="source"/> and <paramref name="key"/>.
    /// </summary>
    public static object? Parse(string? value, PropertyInfo property, string key, string source)
    {
        var type = property.PropertyType;
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (value is null)
        {
            if (target.IsValueType) return type == target ? Activator.CreateInstance(target) : null;
            // (a context per call: NullabilityInfoContext is not thread-safe, and configs are read on several threads in tests)
            if (new NullabilityInfoContext().Create(property).WriteState == NullabilityState.Nullable) return null;
            throw new ConfigException($"{source}: key '{key}' needs a value ({Expected(target)}), got none");
        }
        object? parsed = target == typeof(string) ? value
            : target == typeof(bool) ? value.ToLowerInvariant() switch { "true" or "yes" or "1" or "on" => true, "false" or "no" or "0" or "off" => false, _ => null }
            : target == typeof(int) ? (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out int i) ? i : null)
            : target == typeof(long) ? (long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out long l) ? l : null)
            : target == typeof(double) ? (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && double.IsFinite(d) ? d : null)
            : throw new InvalidOperationException($"config key '{key}' has the type {target.Name}, which {nameof(KeyValueBinder)} does not read");
        return parsed ?? throw new ConfigException($"{source}: key '{key}' expects {Expected(target)}, got '{value}'");
    }

    static string Expected(Type t) => t == typeof(int) || t == typeof(long) ? "an integer" : t == typeof(double) ? "a finite number" : t == typeof(bool) ? "true or false" : "a string";
}
