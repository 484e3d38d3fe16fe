package collect_test

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/models/collect"
)

// reportResult is ReportResult.
type reportResult struct {
	Status int    `json:"status"`
	JobID  string `json:"jobid"`
	Output []struct {
		Destination string `json:"destination"`
		MediaType   string `json:"mediaType"`
		Content     string `json:"content"`
	} `json:"output"`
}

// defineReport stores a report of database name directly (as the platform API does).
func (e *env) defineReport(t *testing.T, database string, in collect.ReportInput) {
	t.Helper()
	d, err := collect.FindDatabase(context.Background(), e.DB, database)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := collect.CreateReport(context.Background(), e.DB, d.Scope(), in); err != nil {
		t.Fatal(err)
	}
}

// report runs a report with body (a Go value, sent as JSON).
func (r *records) report(t *testing.T, body any) *apitest.Response {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return r.e.post(t, "/api/v1/collect/app/report", r.database, r.tok, string(b))
}

// runReport runs a report and answers its result, failing unless it is a 200.
func (r *records) runReport(t *testing.T, body any) reportResult {
	t.Helper()
	resp := r.report(t, body)
	var out reportResult
	resp.JSON(t, &out)
	if resp.Status != 200 || out.Status != 200 || len(out.JobID) != 36 || strings.ToUpper(out.JobID) != out.JobID {
		t.Fatalf("report %v: %d %s", body, resp.Status, resp.Body)
	}
	return out
}

// wellFormed fails unless s is well-formed XML whose root is an svg element.
func wellFormed(t *testing.T, s string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	root := ""
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("svg is not well-formed XML: %v\n%s", err, s)
		}
		if se, ok := tok.(xml.StartElement); ok && root == "" {
			root = se.Name.Local
		}
	}
	if root != "svg" {
		t.Fatalf("svg root %q", root)
	}
}

func TestRunReport(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		r := e.setup(t, "cv_demodb")
		smith := r.create(t, "debtor", 4, `{"de_name":"Smith, \"Jr\"","de_owing":"120.50"}`).Data["de_rowid"]
		evil := r.create(t, "debtor", 4, `{"de_name":"=HYPERLINK(\"http://x\")","de_owing":"-5"}`).Data["de_rowid"]
		tags := r.create(t, "debtor", 4, `{"de_name":"<b>Tom & Jerry</b>"}`).Data["de_rowid"]
		e.defineReport(t, "cv_demodb", collect.ReportInput{Name: "Debtor Summary", StartOn: "debtor", Title: "Owing <all> & more",
			Columns: []string{"de_rowid", "de_name", "de_owing"}})

		// CSV: the header, one line per row in the order asked (a rowid twice listed once), quoted as RFC
		// 4180 wants, and the formula guard on a cell a spreadsheet would run (a negative number is left alone).
		out := r.runReport(t, map[string]any{"report": "Debtor Summary", "rowid": []string{evil, smith, evil}, "destination": "csv"})
		if len(out.Output) != 1 || out.Output[0].Destination != "csv" || out.Output[0].MediaType != "text/csv" {
			t.Fatalf("csv output: %+v", out)
		}
		want := "de_rowid,de_name,de_owing\r\n" + evil + `,"'=HYPERLINK(""http://x"")",-5` + "\r\n" + smith + `,"Smith, ""Jr""",120.50` + "\r\n"
		if got := out.Output[0].Content; got != want {
			t.Fatalf("csv:\n got %q\nwant %q", got, want)
		}
		// The default destination is csv; starton may repeat the report's record; a rowid may be a number (R14).
		out = r.runReport(t, map[string]any{"report": "Debtor Summary", "starton": "debtor", "rowid": []json.RawMessage{json.RawMessage(smith)}})
		if len(out.Output) != 1 || out.Output[0].Destination != "csv" || !strings.HasSuffix(out.Output[0].Content, smith+`,"Smith, ""Jr""",120.50`+"\r\n") {
			t.Fatalf("default destination: %+v", out)
		}

		// SVG, and CSV after it in the order asked: escaped text, a well-formed document, margins on request.
		out = r.runReport(t, map[string]any{"report": "Debtor Summary", "rowid": []string{tags, smith}, "destination": "SVG,csv,svg",
			"showmargins": true})
		if len(out.Output) != 2 || out.Output[0].Destination != "svg" || out.Output[0].MediaType != "image/svg+xml" ||
			out.Output[1].Destination != "csv" {
			t.Fatalf("svg,csv outputs: %+v", out)
		}
		svg := out.Output[0].Content
		wellFormed(t, svg)
		for _, s := range []string{"&lt;b&gt;Tom &amp; Jerry&lt;/b&gt;", "Owing &lt;all&gt; &amp; more", "Smith, &#34;Jr&#34;", ">120.50<",
			">de_owing<", `class="margins"`} {
			if !strings.Contains(svg, s) {
				t.Fatalf("svg lacks %q:\n%s", s, svg)
			}
		}
		if strings.Contains(svg, "<b>") || strings.Contains(svg, "<all>") {
			t.Fatalf("svg has unescaped text:\n%s", svg)
		}
		if want := "de_rowid,de_name,de_owing\r\n" + tags + ",<b>Tom & Jerry</b>,0\r\n" + smith + `,"Smith, ""Jr""",120.50` + "\r\n"; out.Output[1].Content != want {
			t.Fatalf("csv: %q", out.Output[1].Content)
		}
		out = r.runReport(t, map[string]any{"report": "Debtor Summary", "rowid": []string{smith}, "destination": "svg"})
		if strings.Contains(out.Output[0].Content, "margins") {
			t.Fatalf("margins without showmargins:\n%s", out.Output[0].Content)
		}

		// A script alone (never executed: a column list), and a script prepended to the report: its title
		// replaces the report's and its columns come first.
		out = r.runReport(t, map[string]any{"script": "# owing only\ntitle: Just names\nfields: de_name, de_status\n\nfields: de_rowid,de_name",
			"starton": "debtor", "rowid": []string{smith}, "destination": "csv,svg"})
		if got := out.Output[0].Content; got != "de_name,de_status,de_rowid\r\n"+`"Smith, ""Jr""",NEW,`+smith+"\r\n" {
			t.Fatalf("script alone: %q", got)
		}
		if !strings.Contains(out.Output[1].Content, "Just names") {
			t.Fatalf("script title: %s", out.Output[1].Content)
		}
		out = r.runReport(t, map[string]any{"report": "Debtor Summary", "script": "title: Status first\nfields: de_status,de_owing",
			"rowid": []string{smith}, "destination": "csv,svg"})
		if got := out.Output[0].Content; got != "de_status,de_owing,de_rowid,de_name\r\nNEW,120.50,"+smith+`,"Smith, ""Jr"""`+"\r\n" {
			t.Fatalf("script and report: %q", got)
		}
		if svg := out.Output[1].Content; !strings.Contains(svg, "Status first") || strings.Contains(svg, "Owing") {
			t.Fatalf("script's title: %s", svg)
		}

		// Every documented error.
		contact := r.create(t, "contact", 4, `{"co_debtor":"`+smith+`"}`).Data["co_rowid"]
		report := "Debtor Summary"
		for _, tc := range []struct {
			name   string
			body   map[string]any
			status int
			msg    string
		}{
			{"neither report nor script", map[string]any{"rowid": []string{smith}}, 400, "name a report"},
			{"no rowid", map[string]any{"report": report}, 400, "rowid"},
			{"empty rowid", map[string]any{"report": report, "rowid": []string{}}, 400, "rowid"},
			{"bad rowid", map[string]any{"report": report, "rowid": []string{"12a"}}, 400, "rowid"},
			{"unsupported destination", map[string]any{"report": report, "rowid": []string{smith}, "destination": "csv,printer"}, 400, "destination"},
			{"starton mismatch", map[string]any{"report": report, "starton": "contact", "rowid": []string{contact}}, 400, "starts on debtor"},
			{"script without starton", map[string]any{"script": "fields: de_name", "rowid": []string{smith}}, 400, "Anywhere"},
			{"script code", map[string]any{"script": "fields: de_name\nSELECT * FROM collect_rows", "starton": "debtor",
				"rowid": []string{smith}}, 400, "script line 2"},
			{"script unknown field", map[string]any{"script": "fields: de_name,de_secret", "starton": "debtor", "rowid": []string{smith}}, 400, "unknown field de_secret"},
			{"script without fields", map[string]any{"script": "title: nothing", "starton": "debtor", "rowid": []string{smith}}, 400, "lists no fields"},
			{"unknown websocket", map[string]any{"report": report, "rowid": []string{smith}, "websocket-id": "43tzLWO2RJzlxQPpsw4EOA=="}, 400, "not an open WebSocket"},
			{"extra property", map[string]any{"report": report, "rowid": []string{smith}, "format": "pdf"}, 400, ""},
			{"unknown report", map[string]any{"report": "Nope", "rowid": []string{smith}}, 404, `report "Nope" not found`},
			{"unknown starton", map[string]any{"script": "fields: x", "starton": "client", "rowid": []string{smith}}, 404, "record client not found"},
			{"unknown row", map[string]any{"report": report, "rowid": []string{smith, "999999"}}, 404, "debtor 999999 not found"},
			{"row of another record", map[string]any{"report": report, "rowid": []string{contact}}, 404, "debtor " + contact + " not found"},
		} {
			t.Run(tc.name, func(t *testing.T) { expectError(t, r.report(t, tc.body), tc.status, tc.msg) })
		}
		// Without a token: 401.
		expectError(t, e.post(t, "/api/v1/collect/app/report", "cv_demodb", "", `{"report":"Debtor Summary","rowid":["1"]}`), 401, "not authorized")
	})
}

// TestRunReportIsolation: a report never reads another database's rows or reports.
func TestRunReportIsolation(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		a, b := e.setup(t, "cv_a"), e.setup(t, "cv_b")
		aDebtor := a.create(t, "debtor", 4, `{"de_name":"Alpha"}`).Data["de_rowid"]
		bDebtor := b.create(t, "debtor", 4, `{"de_name":"Bravo"}`).Data["de_rowid"]
		e.defineReport(t, "cv_a", collect.ReportInput{Name: "Names", StartOn: "debtor", Columns: []string{"de_name"}})
		e.defineReport(t, "cv_b", collect.ReportInput{Name: "B only", StartOn: "debtor", Columns: []string{"de_rowid", "de_name"}})

		expectError(t, a.report(t, map[string]any{"report": "Names", "rowid": []string{bDebtor}}), 404, "debtor "+bDebtor+" not found")
		expectError(t, a.report(t, map[string]any{"report": "Names", "rowid": []string{aDebtor, bDebtor}}), 404, "not found")
		expectError(t, a.report(t, map[string]any{"script": "fields: de_name", "starton": "debtor", "rowid": []string{bDebtor}}), 404, "not found")
		expectError(t, a.report(t, map[string]any{"report": "B only", "rowid": []string{aDebtor}}), 404, `report "B only" not found`)
		if out := a.runReport(t, map[string]any{"report": "Names", "rowid": []string{aDebtor}}); out.Output[0].Content != "de_name\r\nAlpha\r\n" {
			t.Fatalf("A's report: %q", out.Output[0].Content)
		}
		if out := b.runReport(t, map[string]any{"report": "B only", "rowid": []string{bDebtor}}); out.Output[0].Content != "de_rowid,de_name\r\n"+bDebtor+",Bravo\r\n" {
			t.Fatalf("B's report: %q", out.Output[0].Content)
		}
	})
}
