namespace Ember.Optim;

/// <summary>Options with a momentum factor (SGD, RMSprop): OneCycleLR cycles it when <c>cycleMomentum</c> is on.</summary>
public interface IMomentumOptions
{
    /// <summary>The momentum factor.</summary>
    double Momentum { get; set; }
}
