// Package platformclient holds the hand-written helpers of the Go client of polysync-batch:
// [New] to connect, [WatchRun] to follow a run across server restarts, and [ErrorInfo],
// [Reason] and [FieldViolations] to read the rich error details the service attaches to its
// errors. The generated stubs are in package
// github.com/polysync/polysync-batch/clients/go/polysync/platform/v1 (platformv1).
package platformclient
