using Ember.Detection.Optim;
using Ember.Nn;
using Ember.Nn.Layers;
using Ember.Optim;
using Ember.Optim.Schedulers;
using Ember.Training;

namespace Ember.Tests.Detection.Optim;

public class YoloWarmupTests
{
    // A conv (weight and bias) and a BatchNorm (weight and bias): one parameter of each of YOLOv5's kinds, and more.
    static Sequential Net()
    {
        Torch.ManualSeed(3);
        return new Sequential([new Conv2d(1, 2, 3), new BatchNorm2d(2), new Conv2d(2, 1, 1)]);
    }

    // Records, just before each optimizer step, the rate of every group and the momentum of group 0: what that step uses.
    sealed class Recorder(Optimizer optimizer) : Callback
    {
        public List<(double[] Lr, double Momentum)> Steps { get; } = [];

        public override void OnBeforeOptimizerStep(TrainerState state)
            => Steps.Add(([.. optimizer.ParamGroups.Select(g => g.LearningRate)], ((SgdOptions)optimizer.ParamGroups[1].Options).Momentum));
    }

    static List<(double[] Lr, double Momentum)> Fit(Sequential model, Sgd sgd, LRScheduler scheduler, int steps)
    {
        var recorder = new Recorder(sgd);
        var trainer = new Trainer(model, sgd, (o, _) => o.Square().Mean(), new TrainerOptions { Epochs = 1, SchedulerPerStep = true }, scheduler).Add(recorder);
        var x = Torch.Randn([2, 1, 5, 5], DType.Float32, new Generator(4));
        trainer.Fit(_ => Enumerable.Repeat((x, x), steps), batchesPerEpoch: steps);
        return recorder.Steps;
    }

    [Fact]
    public void Parameters_split_into_norm_weights_decayed_weights_and_biases_as_yolov5()
    {
        var model = Net();
        var conv1 = (Conv2d)model[0];
        var bn = (BatchNorm2d)model[1];
        var conv2 = (Conv2d)model[2];
        var g = YoloParameterGroups.Of(model);
        Assert.Equal(new Tensor[] { bn.Weight! }, g.NormWeights);
        Assert.Equal(new Tensor[] { conv1.Weight, conv2.Weight }, g.Weights);
        Assert.Equal(new Tensor[] { conv1.Bias!, bn.Bias!, conv2.Bias! }, g.Biases);
        var sgd = g.Sgd(0.01, 0.937, 5e-4);
        Assert.Equal(new[] { 0, 5e-4, 0 }, sgd.ParamGroups.Select(p => ((SgdOptions)p.Options).WeightDecay));
        Assert.All(sgd.ParamGroups, p => Assert.True(((SgdOptions)p.Options).Nesterov));
        Assert.Equal(g.Biases, sgd.ParamGroups[YoloParameterGroups.BiasGroup].Parameters);
    }

    [Fact]
    public void Warm_up_length_is_yolov5s_with_its_100_step_floor()
    {
        Assert.Equal(100, YoloWarmup.Steps(3, 32));      // 96 → the floor
        Assert.Equal(150, YoloWarmup.Steps(3, 50));
        Assert.Equal(0, YoloWarmup.Steps(0, 50));        // off (YOLOv5 would still warm up 100 steps)
        Assert.Equal(2, YoloWarmup.Steps(0.5, 5, minSteps: 0)); // round half to even, as Python's round
        Assert.Equal(4, YoloWarmup.Steps(0.5, 7, minSteps: 0));
    }

    [Fact]
    public void Each_step_uses_yolov5s_warm_up_rates_and_momentum_over_a_cosine_schedule()
    {
        // lr0 0.01, momentum 0.937, cosine over 10 steps, warm-up nw = 4 steps, warmup_bias_lr 0.1, warmup_momentum 0.8.
        var model = Net();
        var sgd = YoloParameterGroups.Of(model).Sgd(0.01, 0.937, 5e-4);
        var warmup = new YoloWarmup(sgd, new CosineAnnealingLR(sgd, 10), warmupSteps: 4);
        var steps = Fit(model, sgd, warmup, 10);
        Assert.Equal(10, steps.Count);

        // By hand at step 1: the cosine gives 0.01·(1 + cos(π/10))/2 = 0.00975528258; a quarter of the way from 0.1 to it
        // is 0.0774388206 (biases), a quarter of the way from 0 is 0.00243882065 (weights); momentum 0.8 + 0.137/4.
        Assert.Equal(0.0774388206, steps[1].Lr[2], 9);
        Assert.Equal(0.00243882065, steps[1].Lr[0], 11);
        Assert.Equal(0.00243882065, steps[1].Lr[1], 11);
        Assert.Equal(0.83425, steps[1].Momentum, 12);
        // step 0: biases at 0.1, the others at 0, momentum 0.8 (train.py's first iteration)
        Assert.Equal(new[] { 0, 0, 0.1 }, steps[0].Lr);
        Assert.Equal(0.8, steps[0].Momentum, 12);
        for (int ni = 0; ni < 10; ni++)
        {
            double scheduled = 0.01 * (1 + Math.Cos(Math.PI * ni / 10)) / 2, t = Math.Min(ni / 4.0, 1);
            Assert.Equal(t * scheduled, steps[ni].Lr[0], 14);
            Assert.Equal(t * scheduled, steps[ni].Lr[1], 14);
            Assert.Equal(0.1 + t * (scheduled - 0.1), steps[ni].Lr[2], 14);
            Assert.Equal(0.8 + t * (0.937 - 0.8), steps[ni].Momentum, 14);
        }
        // the recursive cosine underneath never saw the warm-up's rates: after warm-up it is the closed form exactly
        Assert.Equal(0.01 * (1 + Math.Cos(Math.PI * 6 / 10)) / 2, steps[6].Lr[2], 15);
    }

    [Fact]
    public void Without_a_main_schedule_the_rates_rise_to_lr0_and_stay()
    {
        var model = Net();
        var sgd = YoloParameterGroups.Of(model).Sgd(0.02, 0.9, 0);
        var steps = Fit(model, sgd, new YoloWarmup(sgd, null, warmupSteps: 2, warmupBiasLr: 0.05, warmupMomentum: 0.5), 4);
        double[][] expected = [[0, 0, 0.05], [0.01, 0.01, 0.035], [0.02, 0.02, 0.02], [0.02, 0.02, 0.02]];
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], steps[i].Lr, new Tolerance(1e-15));
        Assert.Equal(new[] { 0.5, 0.7, 0.9, 0.9 }, steps.Select(s => s.Momentum), new Tolerance(1e-15));
    }

    [Fact]
    public void A_warm_up_restored_from_its_state_dict_continues_the_same_rates()
    {
        var model = Net();
        var sgd = YoloParameterGroups.Of(model).Sgd(0.01, 0.937, 5e-4);
        var warmup = new YoloWarmup(sgd, new CosineAnnealingLR(sgd, 10), warmupSteps: 6);
        var whole = Fit(model, sgd, warmup, 3);
        var optimizerState = sgd.StateDict();
        var schedulerState = warmup.StateDict();
        whole.AddRange(Fit(model, sgd, warmup, 4));

        var model2 = Net();
        var sgd2 = YoloParameterGroups.Of(model2).Sgd(0.01, 0.937, 5e-4);
        var warmup2 = new YoloWarmup(sgd2, new CosineAnnealingLR(sgd2, 10), warmupSteps: 6);
        sgd2.LoadStateDict(optimizerState);
        warmup2.LoadStateDict(schedulerState);
        var resumed = Fit(model2, sgd2, warmup2, 4);
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(whole[3 + i].Lr, resumed[i].Lr);
            Assert.Equal(whole[3 + i].Momentum, resumed[i].Momentum);
        }
    }

    sealed class Tolerance(double atol) : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= atol;
        public int GetHashCode(double value) => 0;
    }
}
