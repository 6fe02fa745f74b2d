package outbound

import (
	"bytes"
	"encoding/csv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"hotline/assistant/redistest"
)

func TestLedgerByCaseAndCSV(t *testing.T) {
	redistest.Each(t, func(t *testing.T, rdb redis.UniversalClient, prefix string) {
		ctx := t.Context()
		l := NewLedger(rdb, prefix)
		base := wt(2026, 3, 3, 10, 0)
		add := func(min int, e Entry) {
			e.At = base.Add(time.Duration(min) * time.Minute)
			if err := l.Append(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		add(0, Entry{Event: EventDial, AttemptID: "a-1", CaseNumber: "111", Phone: "+48600000001"})
		add(1, Entry{Event: EventOutcome, AttemptID: "a-1", CaseNumber: "111", Phone: "+48600000001", Outcome: string(OutcomeBusy), Detail: "SIP 486 Busy Here"})
		add(2, Entry{Event: EventRefused, AttemptID: "b-1", CaseNumber: "=cmd()", Phone: "+48600000002", Outcome: string(OutcomeRefused), Rule: RuleDNC})
		add(60, Entry{Event: EventDial, AttemptID: "c-1", Phone: "+48600000003", CallbackID: "cb1"})

		es, err := l.ByCase(ctx, "111", 0)
		if err != nil || len(es) != 2 || es[1].Outcome != string(OutcomeBusy) || !es[1].At.Equal(base.Add(time.Minute)) || es[0].ID == "" {
			t.Fatalf("by case: %+v %v", es, err)
		}
		if es, _ := l.ByCase(ctx, "111", 1); len(es) != 1 {
			t.Fatalf("limit: %d", len(es))
		}

		tests := []struct {
			name     string
			from, to time.Time
			attempts []string
		}{
			{"all", time.Time{}, time.Time{}, []string{"a-1", "a-1", "b-1", "c-1"}},
			{"from inclusive", base.Add(time.Minute), time.Time{}, []string{"a-1", "b-1", "c-1"}},
			{"to exclusive", time.Time{}, base.Add(2 * time.Minute), []string{"a-1", "a-1"}},
			{"window", base.Add(2 * time.Minute), base.Add(61 * time.Minute), []string{"b-1", "c-1"}},
			{"empty", base.Add(-time.Hour), base.Add(-time.Minute), nil},
		}
		for _, tc := range tests {
			var buf bytes.Buffer
			if err := l.WriteCSV(ctx, &buf, tc.from, tc.to); err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(&buf).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(tc.attempts)+1 || len(rows[0]) != len(CSVHeader) || rows[0][0] != "id" {
				t.Fatalf("%s: rows %q", tc.name, rows)
			}
			for i, a := range tc.attempts {
				if rows[i+1][3] != a {
					t.Errorf("%s: row %d attempt %q, want %q", tc.name, i+1, rows[i+1][3], a)
				}
			}
			if tc.name == "all" {
				if rows[3][4] != "'=cmd()" || rows[3][5] != "+48600000002" || rows[3][9] != RuleDNC {
					t.Errorf("csv row %q", rows[3])
				}
				if rows[2][8] != string(OutcomeBusy) || rows[2][10] != "SIP 486 Busy Here" {
					t.Errorf("csv row %q", rows[2])
				}
			}
		}
	})
}
