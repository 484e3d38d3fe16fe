package platform_test

import (
	"fmt"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/server"
)

// csvFile is n numbers of the default region, after a header: even rows national, odd rows E.164 with a
// second column the import ignores.
func csvFile(n int) *strings.Builder {
	var b strings.Builder
	b.WriteString("number,name\n")
	for i := range n {
		if i%2 == 0 {
			fmt.Fprintf(&b, "0300%07d,\n", i)
		} else {
			fmt.Fprintf(&b, "+92300%07d,\"name, %d\"\n", i, i)
		}
	}
	return &b
}

func (e *env) upload(t *testing.T, listID int64, ctype, body string, chunked bool) *apitest.Response {
	t.Helper()
	return e.Do(t, apitest.Request{Method: "POST", Path: fmt.Sprintf("/platform/dnc-lists/%d/numbers/csv", listID),
		Body: strings.NewReader(body), Header: apitest.Headers("X-API-Key", e.key, "Content-Type", ctype), Chunked: chunked})
}

func (e *env) countNumbers(t *testing.T, listID int64) int64 {
	t.Helper()
	var n int64
	if err := e.DB.Raw("SELECT count(*) FROM dnc_numbers WHERE list_id = ?", listID).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

type importReport struct{ Rows, Added, Duplicates int64 }

func TestDncCsvImport(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		id := e.createList(t, "registry", true)
		const rows = 20000
		file := csvFile(rows)

		// A bad row near the end: the whole file is refused, naming the line, and nothing is added.
		bad := file.String() + "+923001234567\n12ab\n" + "+923001234568\n"
		expectProblem(t, e.upload(t, id, "text/csv", bad, true), 400, fmt.Sprintf(`line %d: number "12ab" is not a valid phone number`, rows+3))
		if n := e.countNumbers(t, id); n != 0 {
			t.Fatalf("a refused import added %d numbers", n)
		}

		e.call(t, "POST", fmt.Sprintf("/dnc-lists/%d/numbers", id), map[string]any{"numbers": []string{"+923000000004"}}) // row 5 of the file
		r := e.upload(t, id, "text/csv; charset=utf-8", file.String()+"03000000002\n", false)                             // row 3 again
		var rep importReport
		r.JSON(t, &rep)
		if r.Status != 200 || rep.Rows != rows+1 || rep.Added != rows-1 || rep.Duplicates != 2 {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
		if n := e.countNumbers(t, id); n != rows {
			t.Fatalf("list holds %d numbers, want %d", n, rows)
		}
		// Stored in E.164 whatever the file's form: a national row and an E.164 one.
		for _, query := range []string{"number=%2B923000019998", "number=03000019999"} {
			var out struct{ Lists []struct{ ID int64 } }
			e.call(t, "GET", "/dnc/lookup?"+query, nil).JSON(t, &out)
			if len(out.Lists) != 1 || out.Lists[0].ID != id {
				t.Fatalf("lookup %s after import: %+v", query, out)
			}
		}
		// A line longer than 64 KiB is a bad row too, read past without holding it.
		long := "+923001234570\n+923001234571," + strings.Repeat("x", 70<<10) + "\n"
		expectProblem(t, e.upload(t, id, "text/csv", long, true), 400, "line 2: ")
		// Again, as text/plain: every number a duplicate.
		r = e.upload(t, id, "text/plain", file.String(), true)
		r.JSON(t, &rep)
		if r.Status != 200 || rep.Rows != rows || rep.Added != 0 || rep.Duplicates != rows {
			t.Fatalf("import again as text/plain: %d %s", r.Status, r.Body)
		}
	})
}

func TestDncCsvImportErrors(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnvWithOptions(t, kind, app.Options{Limits: server.Limits{Upload: 4096}})
		id := e.createList(t, "l", false)

		// No header, a byte-order mark, a spreadsheet's text guard, quotes, CR LF, a blank line.
		r := e.upload(t, id, "text/csv", "\ufeff'+923001234567\r\n\"0300 1234568\",x\r\n\r\n03001234569\n", false)
		var rep importReport
		r.JSON(t, &rep)
		if r.Status != 200 || rep.Rows != 3 || rep.Added != 3 {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}

		big := csvFile(400).String() // over the 4 KiB limit
		cases := []struct {
			name, ctype, body string
			chunked           bool
			status            int
			detail            string
		}{
			{"declared larger than the limit", "text/csv", big, false, 413, "upload is larger than 4096 bytes"},
			{"streamed past the limit", "text/csv", big, true, 413, "larger than 4096 bytes"},
			{"JSON", "application/json", `{"numbers":["+923001234570"]}`, false, 415, "is not accepted here"},
			{"empty", "text/csv", "", true, 400, "no numbers"},
			{"header only", "text/csv", "phone\n", false, 400, "no numbers"},
			{"a header that is not the first line", "text/csv", "+923001234570\nnumber\n", false, 400, `line 2: number "number"`},
			{"empty first field", "text/csv", "+923001234570\n,x\n", false, 400, "line 2: no number in the first column"},
			{"unterminated quote", "text/csv", "+923001234570\n\"0300\n", false, 400, "line 2: unterminated quote"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				expectProblem(t, e.upload(t, id, tc.ctype, tc.body, tc.chunked), tc.status, tc.detail)
				if n := e.countNumbers(t, id); n != 3 {
					t.Fatalf("a refused import changed the list: %d numbers", n)
				}
			})
		}
		expectProblem(t, e.upload(t, 999, "text/csv", "+923001234570\n", false), 404, "do-not-call list 999 not found")
	})
}
