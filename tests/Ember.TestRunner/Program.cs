using System.Diagnostics;
using System.Reflection;
using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Ember.TestRunner;

/// <summary>
/// Runs the tests of Ember.Tests whose full name (Namespace.Class.Method) contains one of the given substrings, in this
/// process, through xunit's own discoverer and executor. vstest starts a separate test host of the machine's own
/// architecture; this runner instead is published self-contained for another one (linux-arm64) and run whole under
/// qemu, so the tests execute as ARM64 code and take the AdvSimd branches.
/// Usage: Ember.TestRunner [--exclude SUBSTRING]... SUBSTRING...
/// Prints a line per test class and every failure, then a closing line in dotnet test's format.
/// Exit code: 0 all passed, 1 a test failed, 2 bad arguments or no test matched.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        var include = new List<string>();
        var exclude = new List<string>();
        for (int i = 0; i < args.Length; i++)
        {
            if (args[i] == "--exclude" && i + 1 < args.Length) exclude.Add(args[++i]);
            else if (args[i].StartsWith('-')) return Usage($"unknown option '{args[i]}'");
            else include.Add(args[i]);
        }
        if (include.Count == 0) return Usage("no test name substring given");

        Console.WriteLine($"Ember.TestRunner: {RuntimeDescription()}");
        var assembly = Assembly.Load(new AssemblyName("Ember.Tests"));
        var clock = Stopwatch.StartNew();
        using var framework = new XunitTestFramework(new DiagnosticSink());
        var found = Discover(framework, assembly);
        var selected = found.Where(t =>
        {
            string name = FullName(t);
            return include.Any(s => name.Contains(s, StringComparison.Ordinal)) && !exclude.Any(s => name.Contains(s, StringComparison.Ordinal));
        }).ToList();
        Console.WriteLine($"discovered {found.Count} test cases in {clock.Elapsed.TotalSeconds:F1} s; {selected.Count} selected");
        if (selected.Count == 0) return Usage("no test matched " + string.Join(" | ", include));

        var results = new ExecutionSink();
        using (var executor = framework.GetExecutor(assembly.GetName()))
            executor.RunTests(selected, results, new FrameworkOptions());
        results.Finished.Wait();

        // The same shape as dotnet test's summary, so .ci/run adds these counts to the others.
        string verdict = results.Failed == 0 ? "Passed!" : "Failed!";
        Console.WriteLine($"{verdict}  - Failed: {results.Failed,5}, Passed: {results.Passed,5}, Skipped: {results.Skipped,5}, " +
                          $"Total: {results.Passed + results.Failed + results.Skipped,5}, Duration: {clock.Elapsed.TotalSeconds:F0} s - Ember.Tests ({RuntimeDescription()})");
        return results.Failed == 0 && results.Passed > 0 ? 0 : 1;
    }

    static int Usage(string problem)
    {
        Console.Error.WriteLine($"Ember.TestRunner: {problem}. Usage: Ember.TestRunner [--exclude SUBSTRING]... SUBSTRING... " +
                                "(runs the Ember.Tests tests whose Namespace.Class.Method contains a SUBSTRING)");
        return 2;
    }

    static string RuntimeDescription() =>
        $"{System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture}, {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription}, " +
        $"{Environment.ProcessorCount} processors";

    static string FullName(ITestCase test) => test.TestMethod.TestClass.Class.Name + "." + test.TestMethod.Method.Name;

    static List<ITestCase> Discover(XunitTestFramework framework, Assembly assembly)
    {
        var sink = new DiscoverySink();
        using (var discoverer = framework.GetDiscoverer(Reflector.Wrap(assembly)))
            discoverer.Find(includeSourceInformation: false, sink, new FrameworkOptions());
        sink.Finished.Wait();
        return sink.TestCases;
    }

    /// <summary>xunit's option bag: nothing set means its defaults (the assembly's own attributes still apply).</summary>
    sealed class FrameworkOptions : ITestFrameworkDiscoveryOptions, ITestFrameworkExecutionOptions
    {
        readonly Dictionary<string, object?> values = [];
        public TValue GetValue<TValue>(string name) => values.TryGetValue(name, out var value) && value is TValue typed ? typed : default!;
        public void SetValue<TValue>(string name, TValue value) => values[name] = value;
    }

    sealed class DiagnosticSink : LongLivedMarshalByRefObject, IMessageSink
    {
        public bool OnMessage(IMessageSinkMessage message)
        {
            if (message is IDiagnosticMessage diagnostic) Console.Error.WriteLine("xunit: " + diagnostic.Message);
            return true;
        }
    }

    sealed class DiscoverySink : LongLivedMarshalByRefObject, IMessageSink
    {
        public readonly List<ITestCase> TestCases = [];
        public readonly ManualResetEventSlim Finished = new();

        public bool OnMessage(IMessageSinkMessage message)
        {
            if (message is ITestCaseDiscoveryMessage discovered) TestCases.Add(discovered.TestCase);
            else if (message is IDiscoveryCompleteMessage) Finished.Set();
            return true;
        }
    }

    sealed class ExecutionSink : LongLivedMarshalByRefObject, IMessageSink
    {
        public int Passed, Failed, Skipped;
        public readonly ManualResetEventSlim Finished = new();

        public bool OnMessage(IMessageSinkMessage message)
        {
            switch (message)
            {
                case ITestPassed: Passed++; break;
                case ITestSkipped skipped: Skipped++; Console.WriteLine($"  skipped {skipped.Test.DisplayName}: {skipped.Reason}"); break;
                case ITestFailed failed:
                    Failed++;
                    Console.WriteLine($"  FAILED {failed.Test.DisplayName}");
                    Report(failed);
                    if (!string.IsNullOrWhiteSpace(failed.Output)) Console.WriteLine("    output: " + failed.Output.Trim());
                    break;
                case ITestClassFinished done:
                    Console.WriteLine($"{done.TestClass.Class.Name}: {done.TestsRun - done.TestsFailed - done.TestsSkipped} passed, " +
                                      $"{done.TestsFailed} failed, {done.TestsSkipped} skipped in {done.ExecutionTime:F1} s");
                    break;
                // A failure outside a test (a fixture's constructor or Dispose, a catastrophic error) fails the run too.
                case IFailureInformation failure:
                    Failed++;
                    Console.WriteLine($"  FAILED ({message.GetType().Name})");
                    Report(failure);
                    break;
                case ITestAssemblyFinished: Finished.Set(); break;
            }
            return true;
        }

        static void Report(IFailureInformation failure)
        {
            for (int i = 0; i < failure.Messages.Length; i++)
            {
                Console.WriteLine($"    {failure.ExceptionTypes[i]}: {failure.Messages[i]}");
                if (i < failure.StackTraces.Length && failure.StackTraces[i] is { } trace)
                    foreach (var line in trace.Split('\n').Take(8)) Console.WriteLine("      " + line.Trim());
            }
        }
    }
}
