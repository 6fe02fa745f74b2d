package sipgw

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// Static RTP payload types of RFC 3551 §6 that we speak, and the dynamic
// type we offer telephone-event at when we make the offer.
const (
	ptPCMU        uint8 = 0
	ptPCMA        uint8 = 8
	ptOfferDTMF   uint8 = 101
	maxPayloadPT        = 127
	codecPCMU           = "PCMU"
	codecPCMA           = "PCMA"
	telephoneEvnt       = "telephone-event"
	clockRate           = 8000
	// dtmfEventRange is what we decode: digits, * and # and A-D (RFC 4733 §3.2).
	dtmfEventRange = "0-15"
)

// codec is the G.711 variant a call uses and its payload type.
type codec struct {
	Name string // codecPCMU | codecPCMA
	PT   uint8
}

// mediaParams is the outcome of an offer/answer exchange: everything the
// RTP layer needs to talk to the remote party.
type mediaParams struct {
	// Codec is what we send, and the main audio payload type we receive.
	Codec codec
	// Audio lists every G.711 payload type the remote declared (Codec
	// included): a peer may switch between codecs it listed, and decoding
	// either law costs nothing.
	Audio []codec
	// DTMF reports whether telephone-event/8000 was negotiated, at DTMFPT
	// (whatever the offer used: 101, 96, 126 …).
	DTMF   bool
	DTMFPT uint8
	// Remote is where the SDP says to send RTP. It is only the first guess:
	// symmetric RTP latches onto the source of the first packet received.
	// Zero when the SDP names no usable address (c=0.0.0.0, hold).
	Remote netip.AddrPort
	// Direction is the remote party's a=sendrecv|sendonly|recvonly|inactive.
	Direction string
}

// audioCodec reports which G.711 codec pt is, if it is one of them.
func (p mediaParams) audioCodec(pt uint8) (codec, bool) {
	for _, c := range p.Audio {
		if c.PT == pt {
			return c, true
		}
	}
	return codec{}, false
}

// offerError explains why an SDP offer (or answer) cannot be served. It
// carries the SIP Warning code of RFC 3261 §20.43 for the 488 response.
type offerError struct {
	Warning int    // 399 misc, 304 media type not available, 305 incompatible media format
	Reason  string // short, for the Warning header and logs
	Err     error  // underlying parse error, if any
}

func (e *offerError) Error() string {
	if e.Err != nil {
		return "sdp: " + e.Reason + ": " + e.Err.Error()
	}
	return "sdp: " + e.Reason
}

func (e *offerError) Unwrap() error { return e.Err }

// Reasons an offer is refused; tests compare against them.
const (
	reasonNoSDP    = "no SDP body"
	reasonBadSDP   = "malformed SDP"
	reasonNoAudio  = "no usable audio stream"
	reasonNoCodec  = "no common codec (PCMU or PCMA required)"
	reasonNoAddr   = "no connection address"
	warnMisc       = 399
	warnMediaType  = 304
	warnMediaFmt   = 305
	sessionName    = "hotline"
	originUsername = "hotline"
)

// negotiate reads an SDP offer (or an answer to our offer) and picks what
// the call will use: the first RTP/AVP audio stream with a non-zero port,
// PCMU if the remote supports it, else PCMA, and telephone-event/8000 at
// whatever payload type it was given.
func negotiate(body []byte) (mediaParams, error) {
	if len(body) == 0 {
		return mediaParams{}, &offerError{Warning: warnMisc, Reason: reasonNoSDP}
	}
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return mediaParams{}, &offerError{Warning: warnMisc, Reason: reasonBadSDP, Err: err}
	}
	md := firstAudio(&sd)
	if md == nil {
		return mediaParams{}, &offerError{Warning: warnMediaType, Reason: reasonNoAudio}
	}
	var p mediaParams
	rtpmap := rtpmaps(md)
	for _, f := range md.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 8)
		if err != nil || pt > maxPayloadPT {
			continue // RFC 4566 allows non-numeric formats for other protos; not ours
		}
		name, rate, ok := codecName(uint8(pt), rtpmap)
		if !ok || rate != clockRate {
			continue
		}
		switch {
		case strings.EqualFold(name, codecPCMU):
			p.Audio = append(p.Audio, codec{Name: codecPCMU, PT: uint8(pt)})
		case strings.EqualFold(name, codecPCMA):
			p.Audio = append(p.Audio, codec{Name: codecPCMA, PT: uint8(pt)})
		case strings.EqualFold(name, telephoneEvnt) && !p.DTMF:
			p.DTMF, p.DTMFPT = true, uint8(pt)
		}
	}
	// PCMU first: our prompts are rendered and cached as µ-law, and every
	// European trunk that offers PCMA offers PCMU too or takes it.
	i := slices.IndexFunc(p.Audio, func(c codec) bool { return c.Name == codecPCMU })
	if i < 0 {
		i = slices.IndexFunc(p.Audio, func(c codec) bool { return c.Name == codecPCMA })
	}
	if i < 0 {
		return mediaParams{}, &offerError{Warning: warnMediaFmt, Reason: reasonNoCodec}
	}
	p.Codec = p.Audio[i]

	ci := md.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return mediaParams{}, &offerError{Warning: warnMisc, Reason: reasonNoAddr}
	}
	// An unparsable or unspecified address (a host name, 0.0.0.0 for hold
	// per RFC 2543) leaves Remote zero: we then send only after latching.
	if ip, err := netip.ParseAddr(ci.Address.Address); err == nil && !ip.IsUnspecified() {
		p.Remote = netip.AddrPortFrom(ip.Unmap(), uint16(md.MediaName.Port.Value))
	}
	p.Direction = direction(&sd, md)
	return p, nil
}

// firstAudio returns the first audio stream we could use (RTP/AVP, port
// not 0), or nil.
func firstAudio(sd *sdp.SessionDescription) *sdp.MediaDescription {
	for _, md := range sd.MediaDescriptions {
		if md == nil || md.MediaName.Media != "audio" || md.MediaName.Port.Value <= 0 ||
			md.MediaName.Port.Value > 65535 {
			continue
		}
		// Plain RTP only: RTP/SAVP(F) needs SRTP keys we do not have.
		if strings.Join(md.MediaName.Protos, "/") == "RTP/AVP" {
			return md
		}
	}
	return nil
}

// rtpmaps collects a=rtpmap:<pt> <name>/<rate>[/<channels>] of one stream.
func rtpmaps(md *sdp.MediaDescription) map[uint8]string {
	m := make(map[uint8]string)
	for _, a := range md.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		ptStr, enc, ok := strings.Cut(strings.TrimSpace(a.Value), " ")
		pt, err := strconv.ParseUint(ptStr, 10, 8)
		if !ok || err != nil || pt > maxPayloadPT {
			continue
		}
		m[uint8(pt)] = strings.TrimSpace(enc)
	}
	return m
}

// codecName resolves a payload type to its encoding name and clock rate:
// the rtpmap if there is one, else the static table of RFC 3551 §6.
func codecName(pt uint8, rtpmap map[uint8]string) (string, int, bool) {
	if enc, ok := rtpmap[pt]; ok {
		name, rest, ok := strings.Cut(enc, "/")
		if !ok {
			return "", 0, false
		}
		rateStr, _, _ := strings.Cut(rest, "/")
		rate, err := strconv.Atoi(rateStr)
		if err != nil {
			return "", 0, false
		}
		return name, rate, true
	}
	switch pt {
	case ptPCMU:
		return codecPCMU, clockRate, true
	case ptPCMA:
		return codecPCMA, clockRate, true
	}
	return "", 0, false
}

// direction returns the stream's direction attribute (media level wins
// over session level; sendrecv by default, RFC 3264 §5.1).
func direction(sd *sdp.SessionDescription, md *sdp.MediaDescription) string {
	for _, attrs := range [][]sdp.Attribute{md.Attributes, sd.Attributes} {
		for _, a := range attrs {
			switch a.Key {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				return a.Key
			}
		}
	}
	return "sendrecv"
}

// answerDirection mirrors the offerer's direction (RFC 3264 §6.1).
func answerDirection(offered string) string {
	switch offered {
	case "sendonly":
		return "recvonly"
	case "recvonly":
		return "sendonly"
	case "inactive":
		return "inactive"
	}
	return "sendrecv"
}

// localMedia is our side of the SDP: where we receive RTP.
type localMedia struct {
	Addr      netip.Addr // the contact address (c= and o=)
	Port      int        // our RTP port for this call
	SessionID uint64     // o= sess-id, random per call
	Version   uint64     // o= sess-version; bumped when our SDP changes
}

// buildAnswer renders the answer to an offer that negotiate accepted:
// exactly the chosen codec and telephone-event, at the offer's payload
// types (RFC 3264 §6.1).
func buildAnswer(local localMedia, p mediaParams) ([]byte, error) {
	md := audioDescription(local, []codec{p.Codec}, p.DTMF, p.DTMFPT)
	md.WithPropertyAttribute(answerDirection(p.Direction))
	return marshalSession(local, md)
}

// buildOffer renders our offer for an outbound call: PCMU, PCMA and
// telephone-event at 101.
func buildOffer(local localMedia) ([]byte, error) {
	md := audioDescription(local,
		[]codec{{Name: codecPCMU, PT: ptPCMU}, {Name: codecPCMA, PT: ptPCMA}}, true, ptOfferDTMF)
	md.WithPropertyAttribute("sendrecv")
	return marshalSession(local, md)
}

func audioDescription(local localMedia, codecs []codec, dtmf bool, dtmfPT uint8) *sdp.MediaDescription {
	md := &sdp.MediaDescription{
		MediaName: sdp.MediaName{
			Media:  "audio",
			Port:   sdp.RangedPort{Value: local.Port},
			Protos: []string{"RTP", "AVP"},
		},
	}
	for _, c := range codecs {
		md.WithCodec(c.PT, c.Name, clockRate, 0, "")
	}
	if dtmf {
		md.WithCodec(dtmfPT, telephoneEvnt, clockRate, 0, dtmfEventRange)
	}
	md.WithValueAttribute("ptime", "20")
	return md
}

func marshalSession(local localMedia, md *sdp.MediaDescription) ([]byte, error) {
	if !local.Addr.IsValid() {
		return nil, errors.New("sdp: no local address")
	}
	addrType := "IP4"
	if local.Addr.Is6() && !local.Addr.Is4In6() {
		addrType = "IP6"
	}
	host := local.Addr.Unmap().String()
	sd := &sdp.SessionDescription{
		Origin: sdp.Origin{
			Username:       originUsername,
			SessionID:      local.SessionID,
			SessionVersion: local.Version,
			NetworkType:    "IN",
			AddressType:    addrType,
			UnicastAddress: host,
		},
		SessionName: sessionName,
		ConnectionInformation: &sdp.ConnectionInformation{
			NetworkType: "IN",
			AddressType: addrType,
			Address:     &sdp.Address{Address: host},
		},
		TimeDescriptions:  []sdp.TimeDescription{{Timing: sdp.Timing{}}},
		MediaDescriptions: []*sdp.MediaDescription{md},
	}
	b, err := sd.Marshal()
	if err != nil {
		return nil, fmt.Errorf("sdp: marshal: %w", err)
	}
	return b, nil
}
