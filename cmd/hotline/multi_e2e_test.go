package main

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"hotline/assistant/callbacks"
)

// callbackKeys: after the debt, 3 (callback) and 1 (the first slot offered).
var callbackKeys = pause(noticesPlay) + rfc4733Keys(debtorKeys) + pause(listenToDebt) + rfc4733Keys("31") + pause(6*time.Second)

// TestTwoInstancesShareOneRedis: two `hotline serve` processes on one
// redis-server (a prefix of their own); a debtor calls each, and each
// books a callback. An API request to either instance lists both calls
// and both callbacks: nothing of a call lives only in the instance that
// carried it.
func TestTwoInstancesShareOneRedis(t *testing.T) {
	needTool(t, "sipp")
	t.Parallel() // its own instances and key prefix; the time is the callers'
	_, prefix := realRedisWithDemoCases(t)
	env := []string{"HOTLINE_REDIS_URL=redis://127.0.0.1:6379/0", "HOTLINE_REDIS_PREFIX=" + prefix,
		"HOTLINE_CALLBACKS_HOURS=mon-sun 00:00-24:00; hol 00:00-24:00"}
	a, b := startInstance(t, env...), startInstance(t, env...)
	done := []<-chan error{
		startSipp(t, a.sip, callerScenario(t, callbackKeys, 2), "-rtp_echo"),
		startSipp(t, b.sip, callerScenario(t, callbackKeys, 2), "-rtp_echo"),
	}
	for _, d := range done {
		if err := <-d; err != nil {
			t.Fatalf("%v\n--- a:\n%s\n--- b:\n%s", err, a.logs, b.logs)
		}
	}
	for name, in := range map[string]*instance{"a": a, "b": b} {
		poll(t, 15*time.Second, "both calls ended on "+name, func() bool { return len(in.calls(t, "ended")) == 2 })
		cs := in.calls(t, "ended")
		if cs[0].ID == cs[1].ID {
			t.Fatalf("%s: one call twice: %+v", name, cs)
		}
		for _, c := range cs {
			if c.Verification != "verified" || c.Termination != "caller_hung_up" {
				t.Errorf("%s sees %+v", name, c)
			}
		}
		// Each call's full record, by id, from either instance.
		for _, c := range cs {
			if code, body := in.get(t, "/api/v1/calls/"+c.ID); code != http.StatusOK {
				t.Errorf("%s: /api/v1/calls/%s = %d %s", name, c.ID, code, body)
			}
		}
		code, body := in.get(t, "/api/v1/callbacks")
		var out struct{ Callbacks []callbacks.Callback }
		if code != http.StatusOK || json.Unmarshal([]byte(body), &out) != nil {
			t.Fatalf("%s: /api/v1/callbacks = %d %s", name, code, body)
		}
		calls := map[string]bool{}
		for _, cb := range out.Callbacks {
			calls[cb.CallID] = true
		}
		if len(out.Callbacks) != 2 || !calls[cs[0].ID] || !calls[cs[1].ID] {
			t.Errorf("%s: callbacks %+v, want one for each of %s and %s", name, out.Callbacks, cs[0].ID, cs[1].ID)
		}
	}
}
