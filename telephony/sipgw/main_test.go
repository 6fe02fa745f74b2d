package sipgw

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// sipgo v1.7.2 reference-counts UDP client connections and, when
		// a dialog's in-dialog requests race its teardown, the count goes
		// negative ("UDP ref went negative" warnings) and the connection
		// is dropped from the pool without being closed: its read loop
		// outlives ua.Close(). It is the library's goroutine, one per
		// affected connection, not ours; every goroutine of our own is
		// still checked.
		goleak.IgnoreAnyFunction("github.com/emiago/sipgo/sip.(*TransportUDP).readUDPConnection"),
	)
}
