namespace Ember.Training;

/// <summary>One row of a run's metrics.csv: the epoch's mean training loss, validation results, learning rate and time.</summary>
public sealed record EpochMetrics(int Epoch, double TrainLoss, double TrainAccuracy, double ValLoss, double Top1, double Top5, double Lr, double Seconds)
{
    /// <summary>The CSV header matching <see cref="ToCsv"/>.</summary>
    public const string CsvHeader = "epoch,train_loss,train_acc,val_loss,top1,top5,lr,time_s";

    /// <summary>The row in invariant culture.</summary>
    public string ToCsv() => string.Join(",", Epoch.ToString(System.Globalization.CultureInfo.InvariantCulture),
        F(TrainLoss), F(TrainAccuracy), F(ValLoss), F(Top1), F(Top5), F(Lr), F(Seconds));

    static string F(double v) => v.ToString("G9", System.Globalization.CultureInfo.InvariantCulture);
}
