namespace Ember.Detection.Loss;

/// <summary>
/// What <see cref="YoloLoss.Compute"/> returns: the differentiable total, (box + obj + cls)·batch size, and the three
/// gain-weighted parts without the batch factor (YOLOv5's loss_items), as plain numbers.
/// </summary>
public sealed record YoloLossResult(Tensor Total, double Box, double Objectness, double Class);
