using Ember.MpiDriver;

// Runs under mpirun: `mpirun -n 2 dotnet Ember.MpiDriver.dll MODE`. Each scenario prints one line per rank,
// "RESULT <scenario> rank <r> PASS|FAIL <detail>", also appended to $EMBER_MPI_RESULTS/rank<r>.txt when that is set
// (tests/Ember.Tests/Distributed reads those files: mpirun may interleave the ranks' console output mid-line).
return Scenarios.Run(args);
