package sipgw

import (
	"errors"
	"fmt"
)

// Errors callers branch on.
var (
	// ErrNotServing: Dial was called before Serve was ready or after it
	// returned.
	ErrNotServing = errors.New("sipgw: server not serving")
	// ErrDraining: the server is shutting down and takes no new calls.
	ErrDraining = errors.New("sipgw: server draining")
	// ErrAtCapacity: Config.MaxCalls calls are live.
	ErrAtCapacity = errors.New("sipgw: at MaxCalls")
	// ErrNoAnswer: an outbound call was not answered in time (ring
	// timeout, 408, 480, 487).
	ErrNoAnswer = errors.New("sipgw: no answer")
	// ErrBusy: the callee was busy (486, 600).
	ErrBusy = errors.New("sipgw: busy")
	// ErrRejected: the call was refused with any other final response.
	ErrRejected = errors.New("sipgw: call rejected")
	// ErrMediaUnusable: the callee's SDP answer has no codec we speak.
	ErrMediaUnusable = errors.New("sipgw: no usable media in answer")
)

// DialError is the final response that ended an outbound INVITE. It
// matches ErrBusy, ErrNoAnswer or ErrRejected with errors.Is.
type DialError struct {
	StatusCode int
	Reason     string
}

// Error implements error.
func (e *DialError) Error() string {
	return fmt.Sprintf("sipgw: dial: %d %s", e.StatusCode, e.Reason)
}

// Is classifies the status code (RFC 3261 §21).
func (e *DialError) Is(target error) bool {
	switch target {
	case ErrBusy:
		return e.StatusCode == 486 || e.StatusCode == 600
	case ErrNoAnswer:
		return e.StatusCode == 408 || e.StatusCode == 480 || e.StatusCode == 487
	case ErrRejected:
		return e.StatusCode >= 300
	}
	return false
}
