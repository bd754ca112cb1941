// A worker: handles the tasks of --queue with PrintingHandler (4 at a time) until --count tasks are done, or until
// Ctrl-C when --count is 0. Ctrl-C stops polling and lets running handlers finish.
//   dotnet run --project samples/Conduit.Samples.Worker -- --server 127.0.0.1:4053 --queue samples
// Against a node with TLS and API keys, add --tls-cert client.pfx --tls-ca ca.pem and a worker key in CONDUIT_API_KEY
// (or --api-key); --namespace NS for a queue outside namespace default.
using Conduit.Client.Hosting;
using Conduit.Client.Worker;
using Conduit.Samples;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

const string program = "Conduit.Samples.Worker";
var usage = SampleArguments.Usage(program, "stop after this many tasks (default 0: run until Ctrl-C)");
if (SampleArguments.Parse(args, defaultCount: 0, usage) is not { } arguments) return 2;

var builder = Host.CreateApplicationBuilder();
builder.Services.AddSingleton(new WorkQuota(arguments.Count));
if (!arguments.TryAddConduitClient(builder.Services, usage)) return 2;
builder.Services.AddConduitWorker<PrintingHandler>(arguments.Queue, new ConduitWorkerOptions { MaxConcurrency = 4 });
using var host = builder.Build();
await host.RunAsync();
return 0;
