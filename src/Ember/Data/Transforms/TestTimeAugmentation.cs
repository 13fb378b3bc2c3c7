namespace Ember.Data.Transforms;

/// <summary>Test-time augmentation: average a model's outputs over flipped copies of the input.</summary>
public static class TestTimeAugmentation
{
    /// <summary>
    /// The mean of model(x) and model(flip(x)) over the requested flips of a batch [N, C, H, W] (horizontal: width,
    /// vertical: height). Pass a model that returns probabilities to average probabilities rather than logits.
    /// </summary>
    public static Tensor FlipAverage(Func<Tensor, Tensor> model, Tensor images, bool horizontal = true, bool vertical = false)
    {
        if (images.Rank != 4) throw new ArgumentException($"FlipAverage: expected images of shape [N, C, H, W], got {images.Shape}");
        var sum = model(images);
        int views = 1;
        if (horizontal) { sum = sum + model(images.Flip(3)); views++; }
        if (vertical) { sum = sum + model(images.Flip(2)); views++; }
        if (horizontal && vertical) { sum = sum + model(images.Flip(2, 3)); views++; }
        return sum / views;
    }
}
