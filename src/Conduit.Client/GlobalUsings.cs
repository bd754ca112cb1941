global using Conduit.Protocol;
global using TaskStatus = Conduit.Protocol.TaskStatus;
