package outbound

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"hotline/assistant/httpapi"
)

const apiToken = "test-token-0123456789"

type apiRig struct {
	*rig
	e     *echo.Echo
	woken int
}

func newAPIRig(t *testing.T) *apiRig {
	t.Helper()
	r := newRig(t, nil, WorkerConfig{})
	// The production server: its error handler writes {"error": …}.
	a := &apiRig{rig: r, e: httpapi.New(slog.New(slog.DiscardHandler)).Echo()}
	api := &API{Gate: r.gate, Scheduler: r.sched, Campaigns: r.camps, Ledger: r.ledger, Phones: r.phones,
		Wake: func() { a.woken++ }, Now: r.clk.Now, Location: warsaw}
	api.Mount(a.e, httpapi.BearerAuth([]string{apiToken}))
	return a
}

func (a *apiRig) do(method, path, ctype, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Authorization", "Bearer "+apiToken)
	rec := httptest.NewRecorder()
	a.e.ServeHTTP(rec, req)
	return rec
}

// stored counts everything the API could have stored.
func (a *apiRig) stored() int64 {
	ctx := a.t.Context()
	n, _ := a.sched.rdb.DBSize(ctx).Result()
	return n
}

func TestAPIDialNow(t *testing.T) {
	const jsonCT = "application/json"
	tests := []struct {
		name   string
		ctype  string
		body   string
		dnc    bool
		code   int
		rule   string
		fields []string
	}{
		{"phone", jsonCT, `{"case_number":"777","to":"+48600700700"}`, false, 202, "", nil},
		{"sip target", jsonCT, `{"case_number":"777","to":"sip:+48600700700@trunk.example:5060"}`, false, 202, "", nil},
		{"phone from the case", jsonCT, `{"case_number":"777"}`, false, 202, "", nil},
		{"do not call", jsonCT, `{"case_number":"777","to":"+48600700700"}`, true, 409, RuleDNC, nil},
		{"unknown case, no phone", jsonCT, `{"case_number":"1"}`, false, 400, "", []string{"to"}},
		{"bad phone", jsonCT, `{"case_number":"777","to":"600700700"}`, false, 400, "", []string{"to"}},
		{"bad sip", jsonCT, `{"case_number":"777","to":"sip:bob@example"}`, false, 400, "", []string{"to"}},
		{"missing case", jsonCT, `{"to":"+48600700700"}`, false, 400, "", []string{"case_number"}},
		{"both bad", jsonCT, `{"case_number":"a b","to":"x"}`, false, 400, "", []string{"case_number", "to"}},
		{"unknown field", jsonCT, `{"case_number":"777","to":"+48600700700","x":1}`, false, 400, "", []string{"body"}},
		{"wrong type", jsonCT, `{"case_number":777}`, false, 400, "", []string{"body"}},
		{"not json", jsonCT, `case_number=777`, false, 400, "", []string{"body"}},
		{"trailing", jsonCT, `{"case_number":"777"} {}`, false, 400, "", []string{"body"}},
		{"wrong content type", "text/plain", `{"case_number":"777"}`, false, 400, "", []string{"body"}},
		{"huge", jsonCT, `{"case_number":"` + strings.Repeat("7", 2<<20) + `"}`, false, 413, "", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := newAPIRig(t)
			if tc.dnc {
				if err := a.gate.MarkDNC(t.Context(), "+48600700700"); err != nil {
					t.Fatal(err)
				}
			}
			before := a.stored()
			rec := a.do(http.MethodPost, "/api/v1/calls/outbound", tc.ctype, tc.body)
			if rec.Code != tc.code {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.code, rec.Body)
			}
			var body struct {
				AttemptID string       `json:"attempt_id"`
				Error     string       `json:"error"`
				Rule      string       `json:"rule"`
				Fields    []FieldError `json:"fields"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if tc.code != 202 {
				if after := a.stored(); after != before {
					t.Errorf("stored %d keys on a refused request", after-before)
				}
				if body.Error == "" {
					t.Errorf("no error message: %s", rec.Body)
				}
			}
			switch tc.code {
			case 202:
				j, err := a.sched.Get(t.Context(), body.AttemptID)
				if err != nil || j.CaseNumber != "777" || j.Phone != "+48600700700" || !a.dueAt(j.ID).Equal(a.clk.Now().Truncate(1e9)) {
					t.Fatalf("job %+v %v", j, err)
				}
				if strings.Contains(tc.body, "sip:") != (j.Target != "") {
					t.Errorf("target %q", j.Target)
				}
				if a.woken != 1 {
					t.Error("the dialer was not woken")
				}
			case 409:
				if body.Rule != tc.rule {
					t.Errorf("rule %q, want %q", body.Rule, tc.rule)
				}
			case 400:
				var got []string
				for _, f := range body.Fields {
					got = append(got, f.Field)
				}
				if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
					t.Errorf("fields %v, want %v (%s)", got, tc.fields, rec.Body)
				}
			}
		})
	}
}

func TestAPIDialNowOutsideWindow(t *testing.T) {
	a := newAPIRig(t)
	a.clk.Set(wt(2026, 3, 7, 12, 0)) // Saturday
	rec := a.do(http.MethodPost, "/api/v1/calls/outbound", "application/json", `{"case_number":"777"}`)
	if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), `"rule":"calling_window"`) ||
		!strings.Contains(rec.Body.String(), `"retry_at":"2026-03-09T08:00:00+01:00"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if a.stored() != 0 {
		t.Fatal("stored something")
	}
}

func TestAPIAuth(t *testing.T) {
	a := newAPIRig(t)
	for _, p := range []string{"/api/v1/campaigns/x", "/api/v1/ledger.csv"} {
		req := httptest.NewRequest(http.MethodGet, p, nil)
		rec := httptest.NewRecorder()
		a.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			t.Errorf("%s without token: %d", p, rec.Code)
		}
	}
}

func TestAPICampaigns(t *testing.T) {
	a := newAPIRig(t)
	rec := a.do(http.MethodPost, "/api/v1/campaigns", "application/json",
		`{"name":"marzec","case_numbers":["777","778"],"window":"mon-fri 10:00-16:00","concurrency":2}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	var c Campaign
	if err := json.Unmarshal(rec.Body.Bytes(), &c); err != nil || c.Total != 2 || c.Status != CampaignActive || c.Window != "mon-fri 10:00-16:00" || c.Concurrency != 2 {
		t.Fatalf("%+v %v", c, err)
	}
	rec = a.do(http.MethodPost, "/api/v1/campaigns?name=csv&concurrency=1", "text/csv", "case_number,name\n100,Jan\n101,Anna\n\n")
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"total":2`) {
		t.Fatalf("csv: %d %s", rec.Code, rec.Body)
	}
	rec = a.do(http.MethodPost, "/api/v1/campaigns", "text/csv", "200\n201\n")
	if rec.Code != http.StatusCreated || !strings.Contains(rec.Body.String(), `"total":2`) {
		t.Fatalf("headerless csv: %d %s", rec.Code, rec.Body)
	}
	if rec := a.do(http.MethodGet, "/api/v1/campaigns/"+c.ID, "", ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"pending":2`) {
		t.Fatalf("get: %d %s", rec.Code, rec.Body)
	}
	if rec := a.do(http.MethodPost, "/api/v1/campaigns/"+c.ID+"/pause", "", ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"paused"`) {
		t.Fatalf("pause: %d %s", rec.Code, rec.Body)
	}
	if rec := a.do(http.MethodPost, "/api/v1/campaigns/"+c.ID+"/resume", "", ""); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"status":"active"`) {
		t.Fatalf("resume: %d %s", rec.Code, rec.Body)
	}
	for _, p := range []string{"/api/v1/campaigns/nope/pause", "/api/v1/campaigns/nope/resume"} {
		if rec := a.do(http.MethodPost, p, "", ""); rec.Code != 404 {
			t.Errorf("%s: %d", p, rec.Code)
		}
	}
	if rec := a.do(http.MethodGet, "/api/v1/campaigns/nope", "", ""); rec.Code != 404 {
		t.Errorf("get unknown: %d", rec.Code)
	}

	bad := []struct {
		name, ctype, query, body, field string
	}{
		{"no cases", "application/json", "", `{"case_numbers":[]}`, "case_numbers"},
		{"duplicate", "application/json", "", `{"case_numbers":["1","1"]}`, "case_numbers[1]"},
		{"bad case", "application/json", "", `{"case_numbers":["1 2"]}`, "case_numbers[0]"},
		{"bad window", "application/json", "", `{"case_numbers":["1"],"window":"mon-fri 20:00-08:00"}`, "window"},
		{"bad concurrency", "application/json", "", `{"case_numbers":["1"],"concurrency":-1}`, "concurrency"},
		{"unknown field", "application/json", "", `{"case_numbers":["1"],"extra":true}`, "body"},
		{"csv bad row", "text/csv", "", "case_number\n1\n\"unterminated\n", "csv"},
		{"csv bad concurrency", "text/csv", "?concurrency=x", "1\n", "concurrency"},
		{"csv bad start", "text/csv", "?start_at=jutro", "1\n", "start_at"},
		{"xml", "application/xml", "", "<a/>", "body"},
	}
	before := a.stored()
	for _, tc := range bad {
		rec := a.do(http.MethodPost, "/api/v1/campaigns"+tc.query, tc.ctype, tc.body)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"field":"`+tc.field+`"`) {
			t.Errorf("%s: %d %s", tc.name, rec.Code, rec.Body)
		}
	}
	huge := strings.Repeat("123456789\n", 200000)
	if rec := a.do(http.MethodPost, "/api/v1/campaigns", "text/csv", huge); rec.Code != http.StatusRequestEntityTooLarge {
		t.Errorf("huge csv: %d", rec.Code)
	}
	if after := a.stored(); after != before {
		t.Errorf("bad requests stored %d keys", after-before)
	}
}

func TestAPIDNCAndLedger(t *testing.T) {
	a := newAPIRig(t)
	if rec := a.do(http.MethodPost, "/api/v1/dnc/%2B48600100200", "", ""); rec.Code != 204 {
		t.Fatalf("add: %d %s", rec.Code, rec.Body)
	}
	if ok, _ := a.gate.IsDNC(t.Context(), "+48600100200"); !ok {
		t.Fatal("not marked")
	}
	if rec := a.do(http.MethodPost, "/api/v1/dnc/+48600100201", "", ""); rec.Code != 204 {
		t.Fatalf("add with a literal +: %d %s", rec.Code, rec.Body)
	}
	if rec := a.do(http.MethodDelete, "/api/v1/dnc/%2B48600100200", "", ""); rec.Code != 204 {
		t.Fatalf("remove: %d", rec.Code)
	}
	if rec := a.do(http.MethodDelete, "/api/v1/dnc/%2B48600100200", "", ""); rec.Code != 404 {
		t.Fatalf("remove again: %d", rec.Code)
	}
	if rec := a.do(http.MethodPost, "/api/v1/dnc/600100200", "", ""); rec.Code != 400 || !strings.Contains(rec.Body.String(), `"field":"phone"`) {
		t.Fatalf("bad phone: %d %s", rec.Code, rec.Body)
	}

	if err := a.ledger.Append(t.Context(), Entry{At: wt(2026, 3, 3, 10, 0), Event: EventDial, AttemptID: "x-1", CaseNumber: "777", Phone: "+48600700700"}); err != nil {
		t.Fatal(err)
	}
	rec := a.do(http.MethodGet, "/api/v1/ledger.csv?from=2026-03-03&to=2026-03-04", "", "")
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(rec.Body.String(), "id,at,event") || !strings.Contains(rec.Body.String(), ",x-1,777,+48600700700,") {
		t.Fatalf("ledger: %d %q", rec.Code, rec.Body)
	}
	rec = a.do(http.MethodGet, "/api/v1/ledger.csv?from=2026-03-04T00:00:00Z", "", "")
	if rec.Code != 200 || strings.Contains(rec.Body.String(), "x-1") {
		t.Fatalf("ledger from: %d %q", rec.Code, rec.Body)
	}
	for _, q := range []string{"?from=wczoraj", "?to=2026-13-01", "?from=2026-03-04&to=2026-03-03"} {
		if rec := a.do(http.MethodGet, "/api/v1/ledger.csv"+q, "", ""); rec.Code != 400 {
			t.Errorf("%s: %d", q, rec.Code)
		}
	}
}
