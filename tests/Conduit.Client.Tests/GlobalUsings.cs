global using Conduit.Protocol;
global using Xunit;
global using TaskStatus = Conduit.Protocol.TaskStatus;
