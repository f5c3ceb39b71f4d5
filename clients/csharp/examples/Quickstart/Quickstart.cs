// Runs the demo pipeline "greet" and follows the run to its end.
using Grpc.Core;
using Grpc.Net.Client;
using Polysync.Platform.V1;

var address = args.Length > 0 ? args[0] : "http://127.0.0.1:50051";
using var channel = GrpcChannel.ForAddress(address);
var platform = new PlatformService.PlatformServiceClient(channel);

var run = (await platform.ExecutePipelineAsync(new ExecutePipelineRequest
{
    Pipeline = "greet",
    Parameters = { ["name"] = "Ada" },
})).Run;
Console.WriteLine($"started {run.RunId}");

// The first event is the current state; the stream ends after the terminal one.
using var watch = platform.WatchPipelineRun(new WatchPipelineRunRequest { RunId = run.RunId });
await foreach (var change in watch.ResponseStream.ReadAllAsync())
{
    run = change.Run;
    Console.WriteLine(run.NativeStatus);
}
Console.WriteLine($"{run.Status} {run.Message}");
