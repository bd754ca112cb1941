global using TaskStatus = Conduit.Protocol.TaskStatus;
