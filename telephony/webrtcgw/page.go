package webrtcgw

import (
	"embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// web holds the test call page: hand-written HTML, CSS and JS, no CDN
// (the service may run without internet access).
//
//go:embed web/index.html web/call.js web/style.css
var web embed.FS

// pageCSP allows only the page's own files and its own signalling
// (same-origin fetch and WebSocket), no inline script.
const pageCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; media-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// MountPage serves the test call page on grp: GET / (index.html),
// /call.js and /style.css. The page calls the signalling mounted at
// /webrtc (Mount).
func MountPage(grp *echo.Group) {
	for path, file := range map[string]struct{ name, ctype string }{
		"/":          {"web/index.html", "text/html; charset=utf-8"},
		"/call.js":   {"web/call.js", "text/javascript; charset=utf-8"},
		"/style.css": {"web/style.css", "text/css; charset=utf-8"},
	} {
		body, err := web.ReadFile(file.name)
		if err != nil {
			panic("webrtcgw: embedded page missing: " + file.name) // a build defect
		}
		grp.GET(path, func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("Cache-Control", "no-cache")
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("Referrer-Policy", "no-referrer")
			h.Set("Content-Security-Policy", pageCSP)
			// The page needs the microphone, nothing else.
			h.Set("Permissions-Policy", "microphone=(self), camera=(), geolocation=()")
			return c.Blob(http.StatusOK, file.ctype, body)
		})
	}
}
