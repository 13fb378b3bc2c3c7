using Ember.Models;

namespace Ember.Tests.Interop;

/// <summary>
/// Models too large to build for every test: AlexNet's 61 M parameters take seconds to initialize on this machine.
/// The interop tests share one and each sets the weights it checks (loading a file, or randomizing), so none depends on
/// what another left in it.
/// </summary>
static class SharedModels
{
    static readonly Lazy<AlexNet> alexNet = new(() => new AlexNet());

    /// <summary>torchvision's AlexNet (1000 classes).</summary>
    public static AlexNet AlexNet => alexNet.Value;
}
