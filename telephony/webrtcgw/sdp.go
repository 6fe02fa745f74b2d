package webrtcgw

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// maxOfferSize bounds an SDP offer: a browser's is 2–6 kB.
const maxOfferSize = 64 << 10

// checkOffer accepts an SDP offer only if it parses (RFC 8866) and has
// an audio stream that can carry PCMU: we speak nothing else, and pion
// would otherwise answer with a rejected (port 0) stream and a silent call.
func checkOffer(offer string) error {
	if len(offer) == 0 || len(offer) > maxOfferSize {
		return fmt.Errorf("%w: size %d", ErrBadOffer, len(offer))
	}
	var sd sdp.SessionDescription
	if err := sd.UnmarshalString(offer); err != nil {
		return fmt.Errorf("%w: %w", ErrBadOffer, err)
	}
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media == "audio" && md.MediaName.Port.Value != 0 && offersPCMU(md) {
			return nil
		}
	}
	return fmt.Errorf("%w: no PCMU audio stream", ErrBadOffer)
}

// offersPCMU: the format list has static PT 0 (RFC 3551 §6: PCMU even
// without an rtpmap) or a dynamic PT mapped to PCMU/8000.
func offersPCMU(md *sdp.MediaDescription) bool {
	formats := map[string]bool{}
	for _, f := range md.MediaName.Formats {
		formats[f] = true
	}
	if formats["0"] {
		return true
	}
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		pt, enc, ok := strings.Cut(a.Value, " ")
		if _, err := strconv.Atoi(pt); err != nil || !ok || !formats[pt] {
			continue
		}
		if strings.HasPrefix(strings.ToUpper(enc), "PCMU/8000") {
			return true
		}
	}
	return false
}
