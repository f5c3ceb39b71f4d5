using System.Text;
using Polysync.Platform.V1;

namespace Polysync.Platform.Client;

/// <summary>Helpers that read a <see cref="PipelineRun"/> (docs/clients.md).</summary>
public static class Runs
{
    private const string CausePrefix = "FAILURE_CAUSE_";

    /// <summary>
    /// Why a run failed, in words (SPEC §13; the exact text is fixed by clients/explain-failure.json):
    /// "failed: CAUSE after N attempt(s): REASON", then one line per attempt
    /// ("  attempt I: CAUSE, exit code E: REASON (log stream S)") and one per warning
    /// ("  advice: ..."), each ending with a newline. "" for a run that did not fail (a cancelled
    /// run included).
    /// </summary>
    public static string ExplainFailure(PipelineRun run)
    {
        if (run.Status != RunStatus.Failed || run.FailureCause == FailureCause.Cancelled)
        {
            return "";
        }
        var text = new StringBuilder();
        text.Append("failed: ").Append(Cause(run.FailureCause)).Append(" after ").Append(run.Attempts)
            .Append(run.Attempts == 1 ? " attempt" : " attempts");
        if (run.StatusReason.Length > 0)
        {
            text.Append(": ").Append(run.StatusReason);
        }
        text.Append('\n');
        foreach (var attempt in run.AttemptDetails.OrderBy(a => a.Index))
        {
            text.Append("  attempt ").Append(attempt.Index + 1).Append(": ").Append(Cause(attempt.FailureCause))
                .Append(", ").Append(attempt.HasExitCode ? $"exit code {attempt.ExitCode}" : "no exit code");
            var why = attempt.ContainerReason.Length > 0 ? attempt.ContainerReason : attempt.StatusReason;
            if (why.Length > 0)
            {
                text.Append(": ").Append(why);
            }
            if (attempt.LogStreamName.Length > 0)
            {
                text.Append(" (log stream ").Append(attempt.LogStreamName).Append(')');
            }
            text.Append('\n');
        }
        foreach (var warning in run.Warnings)
        {
            text.Append("  advice: ").Append(warning).Append('\n');
        }
        return text.ToString();
    }

    /// <summary>The cause's proto name without its prefix, e.g. "OUT_OF_MEMORY".</summary>
    private static string Cause(FailureCause cause)
    {
        var name = PipelineRun.Descriptor.FindFieldByName("failure_cause").EnumType
            .FindValueByNumber((int)cause)?.Name ?? "FAILURE_CAUSE_UNSPECIFIED";
        return name.StartsWith(CausePrefix, StringComparison.Ordinal) ? name[CausePrefix.Length..] : name;
    }
}
