using Conduit.Cli;

return await CommandTree.RunAsync(args);
