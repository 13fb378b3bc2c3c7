using System.Globalization;

namespace Ember.Cli.Commands.Detect;

/// <summary>
/// One row of a detection run's metrics.csv, as YOLOv5's results.csv: the epoch's mean training loss parts, the
/// validation metrics (mean precision and recall at the max-F1 confidence, mAP@0.5, mAP@0.5:0.95, fitness), the
/// validation loss parts, the learning rate at the epoch's end and its time.
/// </summary>
public sealed record DetectEpoch(int Epoch, double TrainBox, double TrainObj, double TrainCls, double Precision, double Recall, double Map50,
    double Map50To95, double Fitness, double ValBox, double ValObj, double ValCls, double Lr, double Seconds)
{
    /// <summary>The CSV header matching <see cref="ToCsv"/>.</summary>
    public const string CsvHeader = "epoch,train_box_loss,train_obj_loss,train_cls_loss,precision,recall,map50,map50_95,fitness,val_box_loss,val_obj_loss,val_cls_loss,lr,time_s";

    /// <summary>The values in column order (after the epoch).</summary>
    public double[] Values => [TrainBox, TrainObj, TrainCls, Precision, Recall, Map50, Map50To95, Fitness, ValBox, ValObj, ValCls, Lr, Seconds];

    /// <summary>A row from its epoch and <see cref="Values"/>.</summary>
    public static DetectEpoch FromValues(int epoch, IReadOnlyList<double> v)
        => new(epoch, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8], v[9], v[10], v[11], v[12]);

    /// <summary>The column names after the epoch, in <see cref="Values"/> order.</summary>
    public static readonly string[] Columns = CsvHeader.Split(',')[1..];

    /// <summary>The row in invariant culture (G9, as the trainer's metrics.csv).</summary>
    public string ToCsv() => Epoch.ToString(CultureInfo.InvariantCulture) + "," + string.Join(",", Values.Select(v => v.ToString("G9", CultureInfo.InvariantCulture)));
}
