package platformclient

import (
	"fmt"
	"sort"
	"strings"

	platformv1 "github.com/polysync/polysync-batch/clients/go/polysync/platform/v1"
)

// ExplainFailure says why a run failed, in a few lines for people (SPEC §13): the failure cause
// and the run's reason, one line per attempt (its cause, exit code, reason and log stream), then
// the advice of its warnings, each line ending with a newline. It is "" for a run that did not
// fail or was cancelled. The text is fixed by clients/explain-failure.json:
//
//	failed: OUT_OF_MEMORY after 2 attempts: Essential container in task exited
//	  attempt 1: HOST_TERMINATED, no exit code: Host EC2 (instance i-0abc123) terminated. (log stream …)
//	  attempt 2: OUT_OF_MEMORY, exit code 137: OutOfMemoryError: Container killed … (log stream …)
//	  advice: the container ran out of memory: raise memory_mib above what the job definition gives
func ExplainFailure(run *platformv1.PipelineRun) string {
	if run.GetStatus() != platformv1.RunStatus_RUN_STATUS_FAILED ||
		run.GetFailureCause() == platformv1.FailureCause_FAILURE_CAUSE_CANCELLED {
		return ""
	}
	var b strings.Builder
	noun := "attempts"
	if run.GetAttempts() == 1 {
		noun = "attempt"
	}
	fmt.Fprintf(&b, "failed: %s after %d %s%s\n", causeName(run.GetFailureCause()), run.GetAttempts(), noun,
		colon(run.GetStatusReason()))
	attempts := append([]*platformv1.RunAttempt(nil), run.GetAttemptDetails()...)
	sort.SliceStable(attempts, func(i, j int) bool { return attempts[i].GetIndex() < attempts[j].GetIndex() })
	for _, a := range attempts {
		code := "no exit code"
		if a.ExitCode != nil {
			code = fmt.Sprintf("exit code %d", a.GetExitCode())
		}
		why := a.GetContainerReason()
		if why == "" {
			why = a.GetStatusReason()
		}
		fmt.Fprintf(&b, "  attempt %d: %s, %s%s", a.GetIndex()+1, causeName(a.GetFailureCause()), code, colon(why))
		if a.GetLogStreamName() != "" {
			fmt.Fprintf(&b, " (log stream %s)", a.GetLogStreamName())
		}
		b.WriteString("\n")
	}
	for _, w := range run.GetWarnings() {
		fmt.Fprintf(&b, "  advice: %s\n", w)
	}
	return b.String()
}

func causeName(c platformv1.FailureCause) string {
	return strings.TrimPrefix(c.String(), "FAILURE_CAUSE_")
}

func colon(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reason
}
