using System.Text.RegularExpressions;
using Google.Rpc;
using Grpc.Core;
using RpcBadRequest = Google.Rpc.BadRequest;
using RpcErrorInfo = Google.Rpc.ErrorInfo;

namespace Polysync.Platform.Client;

/// <summary>
/// Reads the rich error details (google.rpc.ErrorInfo, BadRequest, Help, RetryInfo) the Polysync
/// platform service attaches to every error status. Compare reasons with <see cref="Reasons"/>.
/// </summary>
public static class Errors
{
    private static readonly Regex ParameterField = new(@"^parameters\[(.+)\]$", RegexOptions.Compiled);

    /// <summary>The ErrorInfo reason, e.g. <see cref="Reasons.RunNotFound"/>; "" when there is none.</summary>
    public static string Reason(RpcException error) => ErrorInfo(error)?.Reason ?? "";

    /// <summary>The google.rpc.ErrorInfo (reason, domain, metadata), or null.</summary>
    public static RpcErrorInfo? ErrorInfo(RpcException error) => error.GetRpcStatus()?.GetDetail<RpcErrorInfo>();

    /// <summary>The BadRequest of a refused call, or null.</summary>
    public static RpcBadRequest? BadRequest(RpcException error) => error.GetRpcStatus()?.GetDetail<RpcBadRequest>();

    /// <summary>Each bad field (Field, Description) of a refused call; empty when none.</summary>
    public static IReadOnlyList<RpcBadRequest.Types.FieldViolation> FieldViolations(RpcException error) =>
        BadRequest(error)?.FieldViolations.ToList() ?? new List<RpcBadRequest.Types.FieldViolation>();

    /// <summary>
    /// The pipeline parameters a refused ExecutePipeline lacked (reason
    /// <see cref="Reasons.MissingParameters"/>), e.g. ["name"] for field "parameters[name]".
    /// </summary>
    public static IReadOnlyList<string> MissingParameters(RpcException error) =>
        FieldViolations(error).Select(v => ParameterField.Match(v.Field))
            .Where(m => m.Success).Select(m => m.Groups[1].Value).ToList();

    /// <summary>The troubleshooting hints (Description, Url); empty when none.</summary>
    public static IReadOnlyList<Help.Types.Link> HelpLinks(RpcException error) =>
        error.GetRpcStatus()?.GetDetail<Help>()?.Links.ToList() ?? new List<Help.Types.Link>();

    /// <summary>RetryInfo's delay (sent with <see cref="Reasons.AwsThrottled"/>), or null.</summary>
    public static TimeSpan? RetryDelay(RpcException error) =>
        error.GetRpcStatus()?.GetDetail<RetryInfo>()?.RetryDelay?.ToTimeSpan();
}
