package sipgw

import (
	"context"
	"fmt"

	"hotline/telephony"
)

// transfer hands a call to a consultant. REFER (sip_refer.go: REFER with
// NOTIFY tracking, on the call's dialog) and bridge (sip_bridge.go: Dial
// the consultant and cross-connect the two legs' media) replace this
// stub; until then the handler is told transfer is not available and
// keeps the call.
func (s *Server) transfer(_ context.Context, _ *call, _ telephony.TransferRequest) error {
	return fmt.Errorf("sipgw: transfer: %w", telephony.ErrNotSupported)
}
