package platformclient

import (
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"
)

// The Domain and Reason* constants are in reasons.go, generated from the server's catalogue.

// ErrorInfo returns the google.rpc.ErrorInfo among the status details of err, or nil when err
// is not a gRPC status error (wrapped ones count) or carries none.
func ErrorInfo(err error) *errdetails.ErrorInfo {
	for _, d := range details(err) {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			return info
		}
	}
	return nil
}

// Reason returns the google.rpc.ErrorInfo reason of err, e.g. [ReasonRunNotFound], or "" when
// it has none.
func Reason(err error) string {
	return ErrorInfo(err).GetReason()
}

// FieldViolations returns the field violations of the google.rpc.BadRequest details of err
// (for MISSING_PARAMETERS, one per missing parameter, field "parameters[<name>]").
func FieldViolations(err error) []*errdetails.BadRequest_FieldViolation {
	var out []*errdetails.BadRequest_FieldViolation
	for _, d := range details(err) {
		if br, ok := d.(*errdetails.BadRequest); ok {
			out = append(out, br.GetFieldViolations()...)
		}
	}
	return out
}

// HelpLinks returns the links of the google.rpc.Help details of err: hints on how to fix it.
func HelpLinks(err error) []*errdetails.Help_Link {
	var out []*errdetails.Help_Link
	for _, d := range details(err) {
		if h, ok := d.(*errdetails.Help); ok {
			out = append(out, h.GetLinks()...)
		}
	}
	return out
}

func details(err error) []any {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return nil
	}
	return st.Details()
}

// MissingParameters returns the names of the pipeline parameters a MISSING_PARAMETERS error
// lists (its field violations "parameters[<name>]"), e.g. ["name"] for greet without a name.
func MissingParameters(err error) []string {
	var names []string
	for _, v := range FieldViolations(err) {
		if name, ok := strings.CutPrefix(v.GetField(), "parameters["); ok && strings.HasSuffix(name, "]") {
			names = append(names, strings.TrimSuffix(name, "]"))
		}
	}
	return names
}

// RetryDelay returns the delay of the google.rpc.RetryInfo details of err (sent with
// RESOURCE_EXHAUSTED / AWS_THROTTLED), and whether there was one.
func RetryDelay(err error) (time.Duration, bool) {
	for _, d := range details(err) {
		if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
			return ri.GetRetryDelay().AsDuration(), true
		}
	}
	return 0, false
}
