package webrtcgw

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // the TURN REST API's credential is HMAC-SHA1 by definition
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/pion/webrtc/v4"
)

// turnUser is the user part of ephemeral TURN user names ("expiry:user").
const turnUser = "hotline"

// defaultTURNTTL is how long ephemeral TURN credentials stay valid.
const defaultTURNTTL = 12 * time.Hour

// iceServers are the STUN/TURN servers for a PeerConnection (ours or the
// page's) created at now. STUN URLs go without credentials; TURN URLs get
// the static long-term credentials or, with TURNSecret, ephemeral ones.
//
// Ephemeral credentials follow the TURN REST API
// (draft-uberti-behave-turn-rest-00 §2.2, coturn's use-auth-secret): the
// user name is "<unix expiry>:<user>" and the password is
// base64(HMAC-SHA1(secret, user name)). The TURN server checks both
// without asking us, and a leaked pair expires with the TTL — unlike a
// static password handed to every browser that opens the page.
func (g *Gateway) iceServers(now time.Time) []webrtc.ICEServer {
	var stun, turn []string
	for _, u := range g.cfg.ICEServers {
		if isTURN(u) {
			turn = append(turn, u)
		} else {
			stun = append(stun, u)
		}
	}
	var out []webrtc.ICEServer
	if len(stun) > 0 {
		out = append(out, webrtc.ICEServer{URLs: stun})
	}
	if len(turn) > 0 {
		user, pass := g.turnCredentials(now)
		out = append(out, webrtc.ICEServer{URLs: turn, Username: user, Credential: pass})
	}
	return out
}

// hasTURN reports whether ICEServers lists a TURN server.
func (c *Config) hasTURN() bool {
	for _, u := range c.ICEServers {
		if isTURN(u) {
			return true
		}
	}
	return false
}

func isTURN(url string) bool {
	return strings.HasPrefix(url, "turn:") || strings.HasPrefix(url, "turns:")
}

// turnCredentials returns the TURN user name and password to use at now.
func (g *Gateway) turnCredentials(now time.Time) (user, pass string) {
	if g.cfg.TURNSecret == "" {
		return g.cfg.TURNUsername, g.cfg.TURNCredential
	}
	return TURNRESTCredentials(g.cfg.TURNSecret, turnUser, now.Add(g.cfg.TURNCredentialTTL))
}

// TURNRESTCredentials are the TURN REST API credentials for user, valid
// until expiry, signed with the secret shared with the TURN server.
func TURNRESTCredentials(secret, user string, expiry time.Time) (username, password string) {
	username = strconv.FormatInt(expiry.Unix(), 10) + ":" + user
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return username, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
