namespace Ember.Bench.Epoch;

/// <summary>
/// One training epoch as measured from inside the process: wall and CPU seconds, the epoch's mean training loss and
/// accuracy (to show both sides learn alike), memory after the epoch (VmRSS, the peak VmHWM so far, the .NET GC heap
/// and its committed memory), and the .NET GC's pause time and collections during the epoch.
/// </summary>
public sealed record EpochSample(int Epoch, double Seconds, double CpuSeconds, double Loss, double Accuracy,
    double ResidentMb, double PeakMb, double GcHeapMb, double GcCommittedMb, double GcPauseMs, int Gen0, int Gen1, int Gen2);
