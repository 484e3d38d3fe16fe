package ictcore_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/server"
)

type importReport struct {
	GroupID  int64 `json:"group_id"`
	Imported int64 `json:"imported"`
	Rejected int64 `json:"rejected"`
	Errors   []struct {
		Line    int64  `json:"line"`
		Message string `json:"message"`
	} `json:"errors"`
}

func (e *ictEnv) upload(t testing.TB, path, contentType, body string) *apitest.Response {
	t.Helper()
	return e.Do(t, apitest.Request{Method: "POST", Path: "/ictcore" + path, Body: strings.NewReader(body),
		Header: apitest.Headers("Authorization", "Bearer "+e.token, "Content-Type", contentType)})
}

func TestCSVImportExport(t *testing.T) {
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		g := e.createGroup(t, "import")
		file := strings.Join([]string{
			`"923330000000","Valid","Contact","email@domain.com","street address","c1","c2","c3","say ""hi"""`,
			`"923331111111"`,
			``,
			`"1","too","few"`,
			"\"2\",\"bad \xff utf8\",\"\",\"\",\"\",\"\",\"\",\"\",\"\"",
			`"abc","x","","","","","","",""`,
			`"3","x","","not-an-email","","","","",""`,
			`"","no phone","","e@x.org","","","","",""`,
		}, "\n")
		r := e.upload(t, fmt.Sprintf("/groups/%d/csv", g), "text/csv", file)
		var rep importReport
		r.JSON(t, &rep)
		if r.Status != 200 || rep.Imported != 3 || rep.Rejected != 4 || len(rep.Errors) != 4 {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
		wantLines := []int64{4, 5, 6, 7}
		for i, re := range rep.Errors {
			if re.Line != wantLines[i] {
				t.Fatalf("error %d on line %d, want %d: %s", i, re.Line, wantLines[i], re.Message)
			}
		}
		var found []contact
		e.call(t, "GET", "/contacts?phone=31111111", nil).JSON(t, &found) // imported rows are searchable by phone
		if len(found) != 1 || found[0].Phone != "923331111111" {
			t.Fatalf("phone search over imported rows: %+v", found)
		}
		var grp group
		e.call(t, "GET", fmt.Sprintf("/groups/%d", g), nil).JSON(t, &grp)
		if grp.ContactTotal != 3 {
			t.Fatalf("contact_total %d, want 3", grp.ContactTotal)
		}

		r = e.call(t, "GET", fmt.Sprintf("/groups/%d/csv", g), nil)
		want := `"923330000000","Valid","Contact","email@domain.com","street address","c1","c2","c3","say ""hi"""` + "\n" +
			`"923331111111","","","","","","","",""` + "\n" +
			`"","no phone","","e@x.org","","","","",""` + "\n"
		if r.Status != 200 || string(r.Body) != want || r.Header.Get("Content-Type") != "text/csv" {
			t.Fatalf("export: %d %q", r.Status, r.Body)
		}
		if cd := r.Header.Get("Content-Disposition"); cd != fmt.Sprintf(`attachment; filename="group_%d.csv"`, g) {
			t.Fatalf("Content-Disposition %q", cd)
		}

		r = e.call(t, "GET", "/groups/sample/csv", nil)
		if r.Status != 200 || !strings.HasPrefix(string(r.Body), `"923330000000","Valid"`) {
			t.Fatalf("sample: %d %s", r.Status, r.Body)
		}
	})
}

func TestCSVImportErrors(t *testing.T) {
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnvWithOptions(t, kind, app.Options{Limits: server.Limits{Body: 1 << 20, Upload: 1 << 10}})
		g := e.createGroup(t, "import")
		path := fmt.Sprintf("/groups/%d/csv", g)
		big := strings.Repeat(`"123","name","","","","","","",""`+"\n", 100) // 3.3 KB, over the 1 KiB limit
		for _, tc := range []struct {
			name, path, contentType, body string
			wantStatus                    int
		}{
			{"wrong content type", path, "application/json", `"1"`, 415},
			{"empty file", path, "text/csv", "", 412},
			{"blank lines only", path, "text/csv", "\n\n", 412},
			{"too large", path, "text/csv", big, 413},
			{"unknown group", "/groups/999/csv", "text/csv", `"1"`, 404},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := e.upload(t, tc.path, tc.contentType, tc.body)
				if code, _ := errorMessage(t, r); r.Status != tc.wantStatus || code != tc.wantStatus {
					t.Fatalf("got %d %s, want %d", r.Status, r.Body, tc.wantStatus)
				}
			})
		}
		// A client announcing a 2 GB upload is refused before a byte of it is read.
		r := e.Do(t, apitest.Request{Method: "POST", Path: "/ictcore" + path, Body: strings.NewReader(`"1"`), DeclaredLength: 2 << 30,
			Header: apitest.Headers("Authorization", "Bearer "+e.token, "Content-Type", "text/csv")})
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("2 GB announced: %d %s", r.Status, r.Body)
		}
		// A body without Content-Length that grows past the limit mid-stream: nothing is written.
		req := apitest.Request{Method: "POST", Path: "/ictcore" + path, Body: strings.NewReader(big), Chunked: true,
			Header: apitest.Headers("Authorization", "Bearer "+e.token, "Content-Type", "text/csv")}
		r = e.Do(t, req)
		if r.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("streamed oversize: %d %s", r.Status, r.Body)
		}
		var list []contact
		e.call(t, "GET", "/contacts", nil).JSON(t, &list)
		if len(list) != 0 {
			t.Fatalf("oversized uploads left %d contacts behind", len(list))
		}
	})
}
