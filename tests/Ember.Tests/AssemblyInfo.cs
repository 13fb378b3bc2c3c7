// Tests share process-wide state as PyTorch programs do (the default generator seeded by Torch.ManualSeed, the kernel
// thread count), so test classes run one after another rather than racing on it.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
