package main

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/redis/go-redis/v9"

	"hotline/assistant/callbacks"
	"hotline/assistant/outbound"
	"hotline/assistant/redistest"
	"hotline/configs"
)

// clusterPrefix is the hash-tagged prefix the cluster tests run under:
// every key hotline writes maps to the slot of "{hl}".
const clusterPrefix = "{hl}:"

// TestRedisCluster runs hotline on a real three-master Redis Cluster
// (redis-server --cluster-enabled, joined by redis-cli --cluster create):
// the operator imports the cases; a debtor walks the inbound chat flow
// (verification, the debt, payments, a callback booked); a case locks
// after failed verifications; two `hotline serve` instances answer
// health checks, book and list callbacks through the API, log a
// consultant in and carry a presence change from one instance to the
// other (Pub/Sub), and the outbound dialer claims and dials a job; a
// callback is handed to the consultants, taken and reported. Every key
// lands on the one node that serves the slot of the prefix's hash tag.
func TestRedisCluster(t *testing.T) {
	cl := redistest.StartCluster(t, 3)
	env := []string{"HOTLINE_REDIS_URL=" + cl.URL(), "HOTLINE_REDIS_PREFIX=" + clusterPrefix}
	if r := runHotline(t, env, "", "cases", "import", "../../configs/demo-cases.yaml"); r.code != 0 || !strings.Contains(r.stdout, "imported 5 cases") {
		t.Fatalf("import: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}

	t.Run("chat", func(t *testing.T) {
		r := runHotline(t, env, "12345678#\n02011980\n1\n2\n3\n1\n", "chat", "--config", configFile(t, alwaysOpen))
		if r.code != 0 || strings.Contains(r.stderr, "kept in memory") {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		inOrder(t, r.stdout,
			"Tożsamość została potwierdzona",
			"tysiąc czterysta dziewięćdziesiąt dziewięć złotych siedemdziesiąt osiem groszy",
			"tysiąc dwieście trzydzieści cztery złote pięćdziesiąt sześć groszy",
			"Bank Przykładowy S.A.",
			"jeden dwa, jeden zero dziewięć zero, jeden zero jeden cztery, zero zero zero zero, zero siedem jeden dwa, jeden dziewięć osiem jeden, dwa osiem siedem cztery",
			"piętnastego grudnia dwa tysiące dwudziestego szóstego roku",
			"Możemy oddzwonić",
			"[callback ", "case=12345678]")
	})

	t.Run("lockout", func(t *testing.T) {
		// The nodes comma-separated, as other clients write them.
		lockEnv := []string{"HOTLINE_REDIS_URL=redis+cluster://" + strings.Join(cl.Addrs(), ","),
			"HOTLINE_REDIS_PREFIX=" + clusterPrefix, "HOTLINE_VERIFY_MAX_FAILURES=2"}
		// Two wrong dates lock the case; the right one then discloses nothing.
		r := runHotline(t, lockEnv, "55555555#\n01011990\n55555555#\n01011990\n55555555#\n20071965\n1\n", "chat", "--config", configFile(t, alwaysOpen))
		if r.code != 0 {
			t.Fatalf("exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
		}
		inOrder(t, r.stdout, "Obsługa automatyczna dla podanych danych jest teraz niedostępna", "[transfer reason=case_locked")
		if strings.Contains(r.stdout, "złot") {
			t.Errorf("a locked case disclosed an amount:\n%s", r.stdout)
		}
	})

	t.Run("serve", func(t *testing.T) { clusterServe(t, env) })
	t.Run("callback handed to consultants", func(t *testing.T) { clusterHandoff(t, env) })

	t.Run("one slot", func(t *testing.T) {
		ctx := t.Context()
		owner, slot := cl.Owner(ctx, clusterPrefix)
		var all []string
		for _, n := range cl.Nodes {
			keys, err := n.Client().Keys(ctx, "*").Result()
			if err != nil {
				t.Fatal(err)
			}
			if n != owner && len(keys) > 0 {
				t.Errorf("node %s (not serving slot %d) holds %v", n.Addr(), slot, keys)
			}
			all = append(all, keys...)
		}
		for _, want := range []string{"{hl}:case:12345678", "{hl}:cases", "{hl}:sessions", "{hl}:callbacks:all",
			"{hl}:verify:{55555555}:lock", "{hl}:consultants:presence:konsultant", "{hl}:outbound:ledger", "{hl}:audit"} {
			if !slices.Contains(all, want) {
				t.Errorf("no %s on the cluster: %v", want, all)
			}
		}
		sessions := 0
		for _, k := range all {
			if !strings.HasPrefix(k, clusterPrefix) {
				t.Errorf("key %q outside the prefix", k)
			}
			if got, err := owner.Client().ClusterKeySlot(ctx, k).Result(); err != nil || got != int64(slot) {
				t.Errorf("CLUSTER KEYSLOT %s = %d (%v), want %d", k, got, err, slot)
			}
			if strings.HasPrefix(k, "{hl}:session:{chat-") && !strings.HasSuffix(k, ":lines") {
				sessions++
			}
		}
		if sessions != 2 {
			t.Errorf("%d chat sessions stored, want 2", sessions)
		}
		t.Logf("%d keys, all in slot %d on %s", len(all), slot, owner.Addr())
	})
}

// clusterServe: two `hotline serve` instances on the cluster.
func clusterServe(t *testing.T, env []string) {
	trunk := startTrunkSpy(t)
	env = append(env, "HOTLINE_CONSOLE_COOKIE_SECURE=false",
		"HOTLINE_CONSULTANTS_HOURS="+openWindow, "HOTLINE_CALLBACKS_HOURS="+openWindow,
		"HOTLINE_OUTBOUND_ENABLED=true", "HOTLINE_OUTBOUND_TARGET=sip:{phone}@127.0.0.1:"+strconv.Itoa(trunk.port()),
		"HOTLINE_OUTBOUND_WINDOW="+openWindow, "HOTLINE_OUTBOUND_POLL=100ms", "HOTLINE_OUTBOUND_LEASE=30s")
	a, b := startServe(t, env...), startServe(t, env...)
	for _, s := range []*served{a, b} {
		for _, path := range []string{"/healthz", "/readyz"} {
			if code, body := api(t, s.http, http.MethodGet, path, "", ""); code != http.StatusOK {
				t.Fatalf("%s %s = %d %s\n%s", s.http, path, code, body, s.stderr)
			}
		}
	}

	// A callback booked on A is listed by B.
	slot := time.Now().Add(2 * time.Hour).Truncate(time.Hour).Format(time.RFC3339)
	code, body := api(t, a.http, http.MethodPost, "/api/v1/callbacks", "application/json",
		`{"phone":"+48601234567","case_number":"12345678","at":"`+slot+`"}`)
	var cb callbacks.Callback
	if err := json.Unmarshal(body, &cb); err != nil || code != http.StatusCreated || cb.ID == "" {
		t.Fatalf("POST /api/v1/callbacks: %d %s\n%s", code, body, a.stderr)
	}
	listed := false
	for _, c := range callbackList(t, b.http) {
		listed = listed || c.ID == cb.ID && c.Status == callbacks.StatusScheduled
	}
	if !listed {
		t.Fatalf("GET /api/v1/callbacks on B lacks %s: %+v", cb.ID, callbackList(t, b.http))
	}

	// A consultant logged in on A; their console socket on B hears the
	// presence they set through A (Pub/Sub across the cluster).
	con := consoleLogin(t, a.http, "konsultant", "demo-konsultant")
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Second)
	defer cancel()
	ws, _, err := websocket.Dial(ctx, "ws://"+b.http+"/console/ws?csrf="+con.csrf, &websocket.DialOptions{HTTPClient: con.c})
	if err != nil {
		t.Fatalf("console socket on B: %v", err)
	}
	defer ws.CloseNow()
	if _, first, err := ws.Read(ctx); err != nil || !strings.Contains(string(first), `"type":"queue"`) {
		t.Fatalf("console socket on B: %s %v", first, err) // registered once it has sent the queue
	}
	for _, st := range []string{"available", "away"} {
		if code, b := con.do(http.MethodPost, "/console/api/presence", `{"state":"`+st+`"}`); code != http.StatusOK {
			t.Fatalf("presence %s on A: %d %s", st, code, b)
		}
		for {
			_, m, err := ws.Read(ctx)
			if err != nil {
				t.Fatalf("no presence %s on B's socket: %v\n%s", st, err, b.stderr)
			}
			var msg struct {
				Type     string
				Presence struct{ State string }
			}
			if json.Unmarshal(m, &msg) == nil && msg.Type == "presence" && msg.Presence.State == st {
				break
			}
		}
	}
	onB := *con
	onB.base = "http://" + b.http
	if code, me := onB.do(http.MethodGet, "/console/api/me", ""); code != http.StatusOK || !strings.Contains(string(me), `"state":"away"`) {
		t.Fatalf("/console/api/me on B: %d %s", code, me)
	}

	// The dialer of one instance claims the job and dials the trunk.
	code, body = api(t, a.http, http.MethodPost, "/api/v1/calls/outbound", "application/json", `{"case_number":"22222222"}`)
	var job struct {
		AttemptID string `json:"attempt_id"`
	}
	if err := json.Unmarshal(body, &job); err != nil || code != http.StatusAccepted {
		t.Fatalf("POST /api/v1/calls/outbound: %d %s", code, body)
	}
	poll(t, 15*time.Second, "the dial in the ledger", func() bool {
		for _, row := range ledger(t, b.http) {
			if row["event"] == outbound.EventDial && strings.HasPrefix(row["attempt_id"], job.AttemptID) {
				return true
			}
		}
		return false
	})
	poll(t, 10*time.Second, "the INVITE at the trunk", func() bool { return trunk.packets.Load() > 0 })

	// A campaign of two cases, one call at a time (the campaign's
	// semaphore), dials one of them; then it is paused.
	code, body = api(t, b.http, http.MethodPost, "/api/v1/campaigns", "application/json",
		`{"name":"klaster","case_numbers":["11111111","21212121"],"concurrency":1}`)
	var camp struct{ ID, Status string }
	if err := json.Unmarshal(body, &camp); err != nil || code != http.StatusCreated || camp.ID == "" {
		t.Fatalf("POST /api/v1/campaigns: %d %s", code, body)
	}
	poll(t, 15*time.Second, "a dial of the campaign", func() bool {
		return len(ledgerOf(ledgerOf(ledger(t, a.http), "campaign_id", camp.ID), "event", outbound.EventDial)) == 1
	})
	if code, body := api(t, a.http, http.MethodPost, "/api/v1/campaigns/"+camp.ID+"/pause", "", ""); code != http.StatusOK {
		t.Fatalf("pause: %d %s", code, body)
	}
	getJSON(t, b.http, "/api/v1/campaigns/"+camp.ID, &camp)
	if camp.Status != "paused" {
		t.Fatalf("campaign after the pause: %+v", camp)
	}
	// Nothing failed quietly on the way (a refused script is logged, not
	// always answered with an error status).
	for _, s := range []*served{a, b} {
		logs := s.stderr.String()
		for _, bad := range []string{"level=ERROR", "CROSSSLOT", "MOVED", "non local key", "same slot",
			`level=WARN msg="outbound`, `level=WARN msg="consultants`, `msg="console: board`, `msg="console: heartbeat`} {
			if strings.Contains(logs, bad) {
				t.Errorf("%s in the log of %s:\n%s", bad, s.http, logs)
			}
		}
	}
}

// clusterHandoff: with outbound.callbacks_to: consultants (in process,
// on a clock the test moves), a callback booked through the API is handed
// to the consultants at its slot, taken and reported as not answered: the
// hand-off, take and settle scripts run on the cluster.
func clusterHandoff(t *testing.T, env []string) {
	// The dialer stays off: the serve test's job, released at its stop,
	// would be dialled here (rightly).
	clk := newFakeClock(time.Now())
	p := startInProcess(t, clk, append(env,
		"HOTLINE_OUTBOUND_CALLBACKS_TO=consultants", "HOTLINE_OUTBOUND_WINDOW="+openWindow,
		"HOTLINE_OUTBOUND_POLL=100ms", "HOTLINE_OUTBOUND_LEASE=30s",
		"HOTLINE_CALLBACKS_HOURS="+openWindow, "HOTLINE_CONSOLE_COOKIE_SECURE=false")...)
	if _, ok := p.a.rdb.(*redis.ClusterClient); !ok {
		t.Fatalf("the app's client is %T, not a cluster client", p.a.rdb)
	}
	cb := bookCallback(t, p)
	con := consoleLogin(t, p.http, "konsultant", "demo-konsultant")
	clk.Set(cb.At)
	// The callback the chat booked (an earlier slot) may be listed too.
	poll(t, 10*time.Second, "the callback in the consultant's list", func() bool {
		return slices.ContainsFunc(con.tasks(), func(k outbound.Task) bool { return k.ID == cb.ID })
	})
	if code, b := con.do(http.MethodPost, "/console/api/callbacks/"+cb.ID+"/take", ""); code != http.StatusOK || !strings.Contains(string(b), `"taken_by":"konsultant"`) {
		t.Fatalf("take: %d %s", code, b)
	}
	if code, b := con.do(http.MethodPost, "/console/api/callbacks/"+cb.ID+"/report", `{"outcome":"no-answer"}`); code != http.StatusOK {
		t.Fatalf("report: %d %s", code, b)
	}
	got, err := p.a.cbs.Get(t.Context(), cb.ID)
	if err != nil || got.Status != callbacks.StatusRetry || got.Attempts != 1 {
		t.Fatalf("callback after the report: %+v %v", got, err)
	}
	rows := ledgerOf(ledger(t, p.http), "callback_id", cb.ID)
	if len(rows) != 2 || rows[0]["event"] != outbound.EventDial || rows[0]["detail"] != "consultant konsultant" ||
		rows[1]["outcome"] != string(outbound.OutcomeNoAnswer) {
		t.Fatalf("ledger rows of the callback: %v", rows)
	}
}

// TestRedisURLNodeList: nodes listed comma-separated in the host part
// become the cluster's seed addresses, password and all.
func TestRedisURLNodeList(t *testing.T) {
	c, err := newRedisClient(configs.RedisConfig{URL: "redis+cluster://:pw@n1:6379,n2:6380,n3:6381?read_timeout=2s",
		DialTimeout: time.Second, OpTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	o := c.(*redis.ClusterClient).Options()
	if got := strings.Join(o.Addrs, " "); got != "n1:6379 n2:6380 n3:6381" || o.Password != "pw" {
		t.Fatalf("addrs %q password %q", got, o.Password)
	}
	s, err := newRedisClient(configs.RedisConfig{URL: "redis+sentinel://s1:26379,s2:26379/0?master_name=hotline",
		DialTimeout: time.Second, OpTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
}

// TestUnreachableRedisFailsCleanly: a Redis that does not answer at start
// is an error message and exit code 1, not a crash.
func TestUnreachableRedisFailsCleanly(t *testing.T) {
	srv := redistest.StartServer(t)
	srv.Kill() // a port that nothing listens on any more
	r := runHotline(t, []string{"HOTLINE_REDIS_URL=" + srv.URL()}, "", "cases", "import", "../../configs/demo-cases.yaml")
	if r.code != 1 || strings.Contains(r.stderr, "panic") || !strings.Contains(r.stderr, "hotline: redis:") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
}

// inOrder fails unless every want occurs in out, in this order.
func inOrder(t *testing.T, out string, wants ...string) {
	t.Helper()
	rest := out
	for _, w := range wants {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Fatalf("output lacks %q (in order)\n%s", w, out)
		}
		rest = rest[i+len(w):]
	}
}
