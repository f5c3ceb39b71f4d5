package platformclient

import (
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

// Help returns the links of the google.rpc.Help details of err: hints on how to fix it.
func Help(err error) []*errdetails.Help_Link {
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
