namespace Ember.Tests;

/// <summary>The README's example, compiled and checked here so it cannot rot.</summary>
public class ReadmeExampleTests
{
    [Fact]
    public void Readme_example_runs_and_gives_the_expected_gradient()
    {
        var logits = Torch.Tensor(new float[,] { { 0.1f, 0.2f, 0.9f }, { 0.8f, 0.3f, 0.2f }, { 0.2f, 0.5f, 0.3f } });
        logits.RequiresGrad = true;
        var probabilities = logits.Softmax(dim: 1);
        Assert.StartsWith("tensor([[0.2309, 0.2552, 0.5139],", probabilities.ToString());
        Assert.EndsWith("grad_fn=<SoftmaxBackward0>)", probabilities.ToString());
        var loss = -probabilities.Select(1, 2).Log().Mean();
        loss.Backward();
        // d/dx of −log softmax(x)[2] averaged over 3 rows = (softmax − onehot(2)) / 3
        var expected = (probabilities.Detach() - Torch.OneHot(Torch.FromArray(new long[] { 2, 2, 2 }, [3]), 3).To(DType.Float32)) / 3.0;
        TestUtil.Close(expected, logits.Grad!, rtol: 1e-5, atol: 1e-7);
    }
}
