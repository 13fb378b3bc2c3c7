using System.CommandLine;
using Ember.Analysis;
using Ember.Cli.Configuration;
using Ember.Models;

namespace Ember.Cli.Commands;

/// <summary>`ember profile --model alexnet --input 1x3x224x224`: per-layer output shapes, parameters and MACs (thop's conventions) and the totals.</summary>
public static class ProfileCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("profile", "Count parameters and operations of a zoo model, layer by layer (thop's conventions)");
        var model = new Option<string>("--model") { Description = $"one of {string.Join(", ", ModelZoo.Names)}", DefaultValueFactory = _ => "cnn" };
        var input = new Option<string?>("--input") { Description = "input shape NxCxHxW (default: the model's natural input, batch 1)" };
        var flops = new Option<bool>("--flops") { Description = "report FLOPs = 2 × MACs instead of MACs" };
        var markdown = new Option<bool>("--markdown") { Description = "print the table as Markdown" };
        command.Options.Add(model); command.Options.Add(input); command.Options.Add(flops); command.Options.Add(markdown);
        command.SetAction(parse => CliErrors.Run(() =>
        {
            var name = parse.GetValue(model)!;
            if (!ModelZoo.Names.Contains(name)) throw new ConfigException($"unknown model '{name}'; valid choices: {string.Join(", ", ModelZoo.Names)}");
            var shape = parse.GetValue(input) is string text ? ParseShape(text) : [1, .. ModelZoo.InputShape(name)];
            CliErrors.MemoryHint = $"use a smaller --input than {string.Join(",", shape)}";
            int classes = name is "alexnet" or "resnet18" or "resnet34" or "resnet50" ? 1000 : 10;
            var network = ModelZoo.Create(name, classes, inChannels: shape[1]);
            var report = Profiler.Profile(network, Torch.Zeros(shape), parse.GetValue(flops) ? OpsConvention.Flops : OpsConvention.Macs);
            Console.Write(Profiler.FormatTable(report, parse.GetValue(markdown)));   // ends with the summary line
            return 0;
        }));
        return command;
    }

    static int[] ParseShape(string text)
    {
        var parts = text.Split('x', 'X', ',');
        var shape = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], out shape[i]) || shape[i] <= 0)
                throw new ConfigException($"--input '{text}' must look like 1x3x224x224 (positive sizes separated by x)");
        if (shape.Length != 4) throw new ConfigException($"--input '{text}' must have 4 sizes N×C×H×W");
        return shape;
    }
}
