using TorchSharp;
using static TorchSharp.torch;
var p = tensor(new float[]{1,2,3}).requires_grad_(true);
var opt = optim.SGD(new[]{p}, 0.1);
Console.WriteLine(opt.GetType());
