using Ember.Cli.Commands;

return EmberCommand.Run(args);
