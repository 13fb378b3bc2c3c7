using Ember.MpiDriver;

// Runs under mpirun: `mpirun -n 2 dotnet Ember.MpiDriver.dll MODE`. Each scenario prints one line per rank,
// "RESULT <scenario> rank <r> PASS|FAIL <detail>", which tests/Ember.Tests/Distributed reads.
return Scenarios.Run(args);
