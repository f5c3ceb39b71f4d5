// Package platformclient holds the hand-written helpers of the Go client of polysync-batch:
// [Connect] to connect (plaintext, TLS with a custom CA, a client certificate, a bearer token or a
// [TokenSource]); [WatchRun] and [WatchRuns] to follow runs across server restarts with the one
// reconnect policy of docs/clients.md; [Execute] to submit and wait; [StreamLogs]; [ListPipelines]
// and [ListRuns] to page; and [ErrorInfo], [Reason], [FieldViolations], [MissingParameters],
// [HelpLinks] and [RetryDelay] to read the rich error details the service attaches to its errors.
// The Reason* constants (reasons.go) are generated from the server's catalogue.
//
// The generated stubs are in package
// github.com/polysync/polysync-batch/clients/go/polysync/platform/v1 (platformv1).
package platformclient
