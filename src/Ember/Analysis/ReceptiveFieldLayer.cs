namespace Ember.Analysis;

/// <summary>Receptive-field bookkeeping after one layer, in input pixels along one axis.</summary>
/// <param name="Name">Layer name or path.</param>
/// <param name="Type">Layer type.</param>
/// <param name="Geometry">The layer's kernel, stride, padding and dilation.</param>
/// <param name="OutputSize">Feature-map size after the layer, when an input size was given.</param>
/// <param name="Jump">Distance in input pixels between adjacent output features (product of strides).</param>
/// <param name="Size">Receptive field: input pixels one output feature sees.</param>
/// <param name="Start">Input coordinate of the centre of the first output feature's field (pixel centres at 0, 1, …; negative when padding reaches outside).</param>
public sealed record ReceptiveFieldLayer(string Name, string Type, LayerGeometry Geometry, int? OutputSize, int Jump, int Size, double Start);
