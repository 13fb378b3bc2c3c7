using Ember.Bench;
using Ember.Bench.Epoch;
using Ember.Bench.Workloads;

// Each workload is a subcommand; add new ones to this list.
IWorkload[] workloads = [new CompareWorkload(), new EpochWorkload(), new ProfileWorkload(), new GemmWorkload(), new RowMemoryWorkload(), new DistributedWorkload(), new AmpMemoryWorkload(), new YoloLayersWorkload(), new YoloTrainLayersWorkload(), new YoloTrainStepWorkload(), new ConvStridedWorkload(), new ConvPointwiseWorkload(), new WinogradWorkload(), new PeerGemmWorkload(), new SmallOpsWorkload(), new ConvWidthWorkload()];

IWorkload? chosen = args.Length > 0 ? Array.Find(workloads, w => w.Name == args[0]) : null;
if (chosen is null)
{
    Console.Error.WriteLine("usage: Ember.Bench <workload> [args]");
    foreach (IWorkload w in workloads) Console.Error.WriteLine($"  {w.Name,-10} {w.Description}");
    return args.Length == 0 ? 0 : 1;
}
return chosen.Run(args[1..]);
