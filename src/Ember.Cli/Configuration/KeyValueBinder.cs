using System.Globalization;
using System.Reflection;

namespace Ember.Cli.Configuration;

/// <summary>
/// Sets a config record's properties from key/value strings (a YAML file's scalars or command-line options), for the
/// commands whose config is a flat record of snake_case keys (detect, forecast).
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
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            try
            {
                object? parsed = value is null ? null
                    : type == typeof(string) ? value
                    : type == typeof(bool) ? value.ToLowerInvariant() switch { "true" or "yes" or "1" => true, "false" or "no" or "0" => false, _ => throw new FormatException() }
                    : Convert.ChangeType(value, type, CultureInfo.InvariantCulture);
                property.SetValue(target, parsed);
            }
            catch (Exception e) when (e is FormatException or InvalidCastException or OverflowException)
            {
                throw new ConfigException($"{source}: key '{key}' expects {(type == typeof(int) ? "an integer" : type == typeof(double) ? "a number" : type == typeof(bool) ? "true or false" : "a string")}, got '{value}'");
            }
        }
    }
}
