// Placeholder until the `ember` commands land (train, eval, predict, profile).
Console.Error.WriteLine("ember: the command-line tool is being built; see README.md");
return 1;
