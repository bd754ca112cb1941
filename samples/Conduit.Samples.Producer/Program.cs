// A producer: enqueues --count tasks ("job 1", "job 2", ...) on --queue in one batch, prints their ids, exits.
//   dotnet run --project samples/Conduit.Samples.Producer -- --server 127.0.0.1:4053 --queue samples --count 10
// Against a node with TLS and API keys, add --tls-cert client.pfx --tls-ca ca.pem and a producer key in CONDUIT_API_KEY
// (or --api-key); --namespace NS for a queue outside namespace default.
using Conduit.Client;
using Conduit.Client.Hosting;
using Conduit.Samples;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

const string program = "Conduit.Samples.Producer";
var usage = SampleArguments.Usage(program, "tasks to enqueue (default 10)");
if (SampleArguments.Parse(args, defaultCount: 10, usage) is not { } arguments) return 2;

var builder = Host.CreateApplicationBuilder();
if (!arguments.TryAddConduitClient(builder.Services, usage)) return 2;
using var host = builder.Build();
var client = host.Services.GetRequiredService<ConduitClient>();

try
{
    var jobs = Enumerable.Range(1, arguments.Count).Select(i => $"job {i}").ToArray();
    var results = await client.EnqueueBatchAsync(arguments.Queue, jobs.Select(job => EnqueueOptions.Spec(job)));
    for (var i = 0; i < jobs.Length; i++) Console.WriteLine($"enqueued {results[i].TaskId} {jobs[i]}");
    Console.WriteLine($"enqueued {results.Count} tasks on queue {arguments.Queue} in namespace {arguments.Namespace}");
    return 0;
}
catch (ConduitException e)
{
    Console.Error.WriteLine($"refused ({e.Code}): {e.Message}");
    return 1;
}
catch (ConduitTimeoutException e)
{
    Console.Error.WriteLine(e.Message);
    return 3;
}
