package cases

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// FuzzParseCSV: ParseCSV never panics; what it accepts re-validates and
// survives a write/parse round trip; what it rejects is an *ImportError
// whose every problem names the file.
func FuzzParseCSV(f *testing.F) {
	header := strings.Join(columns[:], ",")
	f.Add([]byte(csvFile(f, janRow())))
	f.Add([]byte("\uFEFF" + strings.ReplaceAll(csvFile(f, janRow(), with("case_number", "87654321")), "\n", "\r\n")))
	f.Add([]byte(csvFile(f, with("principal", "0.1", "last_payment_date", "", "last_payment_amount", ""))))
	f.Add([]byte(csvFile(f, with("principal", "12,50", "birth_date", "1980-02-30"))))
	f.Add([]byte(csvFile(f, with("creditor", "Bank\nX"))))
	f.Add([]byte(header + "\n1,2,3\n"))
	f.Add([]byte(header + "\n\"12345678\n"))
	f.Add([]byte(header + ",x\n"))
	f.Add([]byte(""))
	opt := testOpts()
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseCSV("f.csv", bytes.NewReader(data), opt)
		if err != nil {
			var ie *ImportError
			if !errors.As(err, &ie) || len(ie.Problems) == 0 || len(ie.Problems) > 50 {
				t.Fatalf("error %v (%T)", err, err)
			}
			for _, p := range ie.Problems {
				if p.File != "f.csv" || p.Msg == "" || p.Line < 0 {
					t.Fatalf("problem %+v", p)
				}
			}
			if got != nil {
				t.Fatal("cases returned with an error")
			}
			return
		}
		if len(got) == 0 {
			t.Fatal("no cases and no error")
		}
		if err := Validate(got, opt); err != nil {
			t.Fatalf("accepted cases do not validate: %v", err)
		}
		for _, c := range got {
			if err := c.Validate(opt); err != nil {
				t.Fatalf("accepted case does not validate: %v", err)
			}
			if b := c.Balance(); b < 0 || b != c.Principal+c.Interest+c.Fees {
				t.Fatalf("balance %d", b)
			}
		}
		var buf bytes.Buffer
		if err := WriteCSV(&buf, got); err != nil {
			t.Fatal(err)
		}
		again, err := ParseCSV("f.csv", &buf, opt)
		if err != nil {
			t.Fatalf("written cases do not parse: %v", err)
		}
		equalCases(t, again, got)
	})
}
