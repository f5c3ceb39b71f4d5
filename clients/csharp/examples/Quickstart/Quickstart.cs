// Runs the demo pipeline "greet" and follows the run to its end. Against a server with TLS and
// caller auth: an https:// address, POLYSYNC_CA_FILE (the CA to trust), POLYSYNC_TOKEN (a bearer
// token) and, for mutual TLS, POLYSYNC_CLIENT_CERT and POLYSYNC_CLIENT_KEY (PEM files).
using Grpc.Core;
using Polysync.Platform.Client;
using Polysync.Platform.V1;

var address = args.Length > 0 ? args[0] : "http://127.0.0.1:50051";
string? FileOf(string variable) =>
    Environment.GetEnvironmentVariable(variable) is { Length: > 0 } path ? File.ReadAllText(path) : null;
using var client = PlatformClient.Connect(address, new ConnectOptions
{
    TrustedCaPem = FileOf("POLYSYNC_CA_FILE"),
    ClientCertificatePem = FileOf("POLYSYNC_CLIENT_CERT"),
    ClientKeyPem = FileOf("POLYSYNC_CLIENT_KEY"),
    BearerToken = Environment.GetEnvironmentVariable("POLYSYNC_TOKEN") is { Length: > 0 } token ? token : null,
});

PipelineRun run;
try
{
    run = (await client.Stub.ExecutePipelineAsync(new ExecutePipelineRequest
    {
        Pipeline = "greet",
        Parameters = { ["name"] = "Ada" },
    }, deadline: DateTime.UtcNow.AddSeconds(30))).Run;
}
catch (RpcException e)
{
    Console.Error.WriteLine($"execute failed: {e.StatusCode} {Errors.Reason(e)}: {e.Status.Detail}");
    throw;
}
Console.WriteLine($"started {run.RunId}");

// Each new state until the run is terminal; reconnects with backoff if the server restarts.
await foreach (var change in client.WatchRunAsync(run.RunId, timeout: TimeSpan.FromMinutes(5)))
{
    run = change.Run;
    if (!change.Heartbeat)
    {
        Console.WriteLine(run.NativeStatus + (change.StaleSince is null ? "" : " (stale)"));
    }
}
Console.WriteLine($"{run.Status} {run.Message}");
