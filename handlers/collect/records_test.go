package collect_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/models/collect"
)

// records is one database's operator session and its definitions, as the data tests use them.
type records struct {
	e              *env
	database, tok  string
	debtor, contct *collect.RecordDef
}

// defineDebtor defines the seed's debtor and its contact sub-record in d (as the platform API does).
func (e *env) defineDebtor(t *testing.T, d *collect.Database) (*collect.RecordDef, *collect.RecordDef) {
	t.Helper()
	str := func(s string) *string { return &s }
	ctx := context.Background()
	debtor, err := collect.CreateRecordDef(ctx, e.DB, d.Scope(), collect.RecordDefInput{Name: "debtor", RowIDField: "de_rowid",
		Fields: []collect.FieldInput{{Name: "de_name", Type: "text"}, {Name: "de_type", Type: "text", Default: str("RET")},
			{Name: "de_status", Type: "text", Default: str("NEW")}, {Name: "de_owing", Type: "number"},
			{Name: "de_listed_date", Type: "date"}}})
	if err != nil {
		t.Fatal(err)
	}
	contact, err := collect.CreateRecordDef(ctx, e.DB, d.Scope(), collect.RecordDefInput{Name: "contact", RowIDField: "co_rowid",
		Fields: []collect.FieldInput{{Name: "co_debtor", Type: "number"}, {Name: "co_type", Type: "text", Default: str("5")},
			{Name: "co_description", Type: "text"}, {Name: "co_date", Type: "date"}, {Name: "co_time", Type: "time"}},
		Parent: "debtor", ParentField: "co_debtor"})
	if err != nil {
		t.Fatal(err)
	}
	return debtor, contact
}

// setup makes database name with operator OWN, the debtor and contact definitions, and logs in.
func (e *env) setup(t *testing.T, name string) *records {
	t.Helper()
	d := e.addDatabase(t, name)
	e.addOperator(t, d, "OWN", "Owner", "own", true)
	debtor, contact := e.defineDebtor(t, d)
	return &records{e: e, database: name, tok: e.login(t, name, "OWN", "own").Result.AccessToken, debtor: debtor, contct: contact}
}

// do sends a request to a data path (under /collect/api/v1/collect/data) with the session's database and token.
func (r *records) do(t *testing.T, method, path, body string) *apitest.Response {
	t.Helper()
	h := apitest.Headers("x-collect-database", r.database, "Authorization", "Bearer "+r.tok)
	req := apitest.Request{Method: method, Path: "/collect/api/v1/collect/data" + path, Header: h}
	if body != "" {
		req.Body = strings.NewReader(body)
		h.Set("Content-Type", "application/json")
	}
	return r.e.Do(t, req)
}

// result is RecordResult (and RecordDeleted without data).
type result struct {
	Status int `json:"status"`
	Type   struct {
		RecID string `json:"recId"`
		RowID string `json:"rowId"`
	} `json:"type"`
	Data map[string]string `json:"data"`
}

// list is RecordList.
type list struct {
	Status int `json:"status"`
	Type   struct {
		RecID      string `json:"recId"`
		RowID      string `json:"rowId"`
		NumRecords int64  `json:"numRecords"`
		NumPages   int64  `json:"numPages"`
	} `json:"type"`
	Data []map[string]string `json:"data"`
}

// create posts one record and answers it, failing unless the answer is a 200.
func (r *records) create(t *testing.T, record string, mode int, data string) result {
	t.Helper()
	resp := r.do(t, "POST", "/"+record, `{"business-logic":`+strconv.Itoa(mode)+`,"data":`+data+`}`)
	var out result
	resp.JSON(t, &out)
	if resp.Status != 200 || out.Status != 200 || out.Type.RecID != record {
		t.Fatalf("create %s %s: %d %s", record, data, resp.Status, resp.Body)
	}
	return out
}

// list gets a list path with a query and answers it, failing unless it is a 200.
func (r *records) list(t *testing.T, path string, q url.Values) list {
	t.Helper()
	resp := r.do(t, "GET", path+"?"+q.Encode(), "")
	var out list
	resp.JSON(t, &out)
	if resp.Status != 200 || out.Status != 200 {
		t.Fatalf("list %s?%s: %d %s", path, q.Encode(), resp.Status, resp.Body)
	}
	return out
}

// column answers field f of every row of a list.
func column(l list, f string) string {
	var out []string
	for _, d := range l.Data {
		out = append(out, d[f])
	}
	return strings.Join(out, ",")
}

func TestRecordCreateReadUpdateDelete(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		r := e.setup(t, "cv_demodb")

		// 4 (full logic): pre-logic fills the definition's defaults; the answer carries the new rowid.
		full := r.create(t, "debtor", 4, `{"de_name":"Smith","de_owing":"120.50"}`)
		id := full.Data["de_rowid"]
		if full.Type.RowID != "de_rowid" || id == "" || full.Data["de_type"] != "RET" || full.Data["de_status"] != "NEW" ||
			full.Data["de_owing"] != "120.50" || full.Data["de_name"] != "Smith" || full.Data["de_listed_date"] != "" {
			t.Fatalf("full logic: %+v", full)
		}
		// 0 (insert only) and 3 (post-logic only): no defaults, a field left out is blank (0 for a number).
		for _, mode := range []int{0, 3} {
			got := r.create(t, "debtor", mode, `{"de_name":"Jones"}`)
			if got.Data["de_type"] != "" || got.Data["de_status"] != "" || got.Data["de_owing"] != "0" || got.Data["de_rowid"] == "" {
				t.Fatalf("mode %d: %+v", mode, got)
			}
		}
		// 2 (pre-logic only) fills defaults; a value sent wins over a default.
		if got := r.create(t, "debtor", 2, `{"de_status":"ACT"}`); got.Data["de_type"] != "RET" || got.Data["de_status"] != "ACT" {
			t.Fatalf("pre-logic only: %+v", got)
		}
		// 1 (staging) answers the virtual record and stores nothing.
		before := r.list(t, "/debtor", nil).Type.NumRecords
		staged := r.create(t, "debtor", 1, `{"de_name":"Virtual"}`)
		if _, has := staged.Data["de_rowid"]; has || staged.Data["de_status"] != "NEW" || staged.Data["de_name"] != "Virtual" {
			t.Fatalf("staging: %+v", staged)
		}
		if after := r.list(t, "/debtor", nil).Type.NumRecords; after != before || before != 4 {
			t.Fatalf("staging stored a record: %d records before, %d after", before, after)
		}

		// Read one, all fields or some (the rowid always).
		var got result
		resp := r.do(t, "GET", "/debtor/"+id, "")
		resp.JSON(t, &got)
		if resp.Status != 200 || got.Data["de_name"] != "Smith" || got.Data["de_owing"] != "120.50" || len(got.Data) != 6 {
			t.Fatalf("get: %d %s", resp.Status, resp.Body)
		}
		resp = r.do(t, "GET", "/debtor/"+id+"?fields=de_name", "")
		got = result{}
		resp.JSON(t, &got)
		if resp.Status != 200 || len(got.Data) != 2 || got.Data["de_rowid"] != id || got.Data["de_name"] != "Smith" {
			t.Fatalf("get with fields: %d %s", resp.Status, resp.Body)
		}

		// Update changes only the fields sent and answers the whole record.
		resp = r.do(t, "PATCH", "/debtor/"+id, `{"data":{"de_status":"PAID","de_owing":"0"}}`)
		got = result{}
		resp.JSON(t, &got)
		if resp.Status != 200 || got.Data["de_status"] != "PAID" || got.Data["de_owing"] != "0" || got.Data["de_name"] != "Smith" ||
			got.Data["de_type"] != "RET" || got.Data["de_rowid"] != id {
			t.Fatalf("update: %d %s", resp.Status, resp.Body)
		}
		if l := r.list(t, "/debtor", url.Values{"filter": {"de_status='PAID'"}}); column(l, "de_rowid") != id {
			t.Fatalf("the update is not what a filter finds: %+v", l)
		}

		contact := r.create(t, "contact", 0, `{}`).Data["co_rowid"]
		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			msg                      string
		}{
			{"unknown record (list)", "GET", "/client", "", 404, "record client not found"},
			{"unknown record (get)", "GET", "/client/1", "", 404, "record client not found"},
			{"unknown record (create)", "POST", "/client", `{"business-logic":0,"data":{}}`, 404, "record client not found"},
			{"missing record", "GET", "/debtor/999999", "", 404, "debtor 999999 not found"},
			{"a contact's rowid is not a debtor", "GET", "/debtor/" + contact, "", 404, "debtor " + contact + " not found"},
			{"unknown field to read", "GET", "/debtor/" + id + "?fields=de_nope", "", 400, "unknown field de_nope"},
			{"unknown field in data", "POST", "/debtor", `{"business-logic":0,"data":{"de_foo":"x"}}`, 400, "unknown field de_foo for record debtor"},
			{"rowid in data", "POST", "/debtor", `{"business-logic":0,"data":{"de_rowid":"7"}}`, 400, "de_rowid is the rowid field"},
			{"not a number", "POST", "/debtor", `{"business-logic":0,"data":{"de_owing":"12,5"}}`, 400, "not a number"},
			{"not a date", "POST", "/debtor", `{"business-logic":0,"data":{"de_listed_date":"2023-02-30"}}`, 400, "not a date"},
			{"unknown mode", "POST", "/debtor", `{"business-logic":5,"data":{}}`, 400, "business-logic"},
			{"value not a string", "POST", "/debtor", `{"business-logic":0,"data":{"de_owing":12}}`, 400, ""},
			{"update the rowid", "PATCH", "/debtor/" + id, `{"data":{"de_rowid":"9"}}`, 400, "de_rowid is the rowid field"},
			{"update an unknown field", "PATCH", "/debtor/" + id, `{"data":{"de_foo":"x"}}`, 400, "unknown field de_foo"},
			{"update a bad time", "PATCH", "/debtor/" + id, `{"data":{"de_listed_date":"yesterday"}}`, 400, "not a date"},
			{"update the vendor's trailing comma", "PATCH", "/debtor/" + id, `{"data":{"de_type":"RET","de_status":"NEW",}}`, 400, ""},
			{"update a missing record", "PATCH", "/debtor/999999", `{"data":{"de_type":"X"}}`, 404, "debtor 999999 not found"},
			{"delete a missing record", "DELETE", "/debtor/999999", "", 404, "debtor 999999 not found"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				expectError(t, r.do(t, tc.method, tc.path, tc.body), tc.status, tc.msg)
			})
		}
		// A failed update changed nothing.
		got = result{}
		if r.do(t, "GET", "/debtor/"+id, "").JSON(t, &got); got.Data["de_status"] != "PAID" || got.Data["de_listed_date"] != "" {
			t.Fatalf("after failed updates: %+v", got)
		}

		// Delete answers the type only; the record is gone.
		resp = r.do(t, "DELETE", "/debtor/"+id, "")
		got = result{}
		resp.JSON(t, &got)
		if resp.Status != 200 || got.Status != 200 || got.Type.RecID != "debtor" || got.Type.RowID != "de_rowid" || got.Data != nil {
			t.Fatalf("delete: %d %s", resp.Status, resp.Body)
		}
		expectError(t, r.do(t, "GET", "/debtor/"+id, ""), 404, "not found")
		if n := r.list(t, "/debtor", nil).Type.NumRecords; n != 3 {
			t.Fatalf("after delete: %d records, want 3", n)
		}
	})
}

func TestRecordList(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		r := e.setup(t, "cv_demodb")
		ids := map[string]string{}
		for _, d := range []struct{ name, status, owing, date string }{
			{"Adams", "NEW", "100", "2023-01-12"},
			{"baker", "ACT", "20", "2023-03-01"},
			{"Clark, Jr", "ACT", "3.5", "2022-12-31"},
			{"O'Neil", "NEW", "-7", ""},
			{"Davis", "PAID", "1000", "2023-01-12"},
			{"50% off", "NEW", "0", "2024-06-30"},
			{"Evans", "ACT", "20", "2023-02-01"},
		} {
			data := `{"de_name":` + strconv.Quote(d.name) + `,"de_status":"` + d.status + `","de_owing":"` + d.owing +
				`","de_listed_date":"` + d.date + `"}`
			ids[d.name] = r.create(t, "debtor", 4, data).Data["de_rowid"]
		}
		names := func(l list) string { return column(l, "de_name") }
		for _, tc := range []struct {
			name   string
			q      url.Values
			want   string
			total  int64
			pages  int64
			fields int // fields of each row (0: don't check)
		}{
			{"all, rowid order", nil, "Adams,baker,Clark, Jr,O'Neil,Davis,50% off,Evans", 7, 1, 6},
			{"eq without operator", url.Values{"filter": {"de_status='ACT'"}}, "baker,Clark, Jr,Evans", 3, 1, 0},
			{"eq", url.Values{"filter": {"de_status__eq='NEW'"}}, "Adams,O'Neil,50% off", 3, 1, 0},
			{"ne", url.Values{"filter": {"de_status__ne='ACT'"}}, "Adams,O'Neil,Davis,50% off", 4, 1, 0},
			{"gt compares numbers as numbers", url.Values{"filter": {"de_owing__gt=20"}}, "Adams,Davis", 2, 1, 0},
			{"gte with a quoted decimal", url.Values{"filter": {"de_owing__gte='3.5'"}}, "Adams,baker,Clark, Jr,Davis,Evans", 5, 1, 0},
			{"lt negative", url.Values{"filter": {"de_owing__lt=0"}}, "O'Neil", 1, 1, 0},
			{"lte", url.Values{"filter": {"de_owing__lte=0"}}, "O'Neil,50% off", 2, 1, 0},
			{"dates compare in time order", url.Values{"filter": {"de_listed_date__gte='2023-01-12',de_listed_date__lt='2023-03-01'"}}, "Adams,Davis,Evans", 3, 1, 0},
			{"like ignores case", url.Values{"filter": {"de_name__like='%a%'"}}, "Adams,baker,Clark, Jr,Davis,Evans", 5, 1, 0},
			{"like prefix", url.Values{"filter": {"de_name__like='b%'"}}, "baker", 1, 1, 0},
			{"nlike twice (the vendor's example)", url.Values{"filter": {"de_name__nlike='%a%',de_name__nlike='%''%'"}}, "50% off", 1, 1, 0},
			{"a quote and a comma inside quotes", url.Values{"filter": {"de_name='O''Neil',de_status='NEW'"}}, "O'Neil", 1, 1, 0},
			{"comma inside quotes", url.Values{"filter": {"de_name='Clark, Jr'"}}, "Clark, Jr", 1, 1, 0},
			{"several conditions are AND", url.Values{"filter": {"de_status='ACT',de_owing=20"}}, "baker,Evans", 2, 1, 0},
			{"the rowid", url.Values{"filter": {"de_rowid__gt=" + ids["Davis"]}}, "50% off,Evans", 2, 1, 0},
			{"an injection is only a value", url.Values{"filter": {"de_name='x'' OR ''1''=''1'"}}, "", 0, 0, 0},
			{"empty text", url.Values{"filter": {"de_type=''"}}, "", 0, 0, 0},
			{"fields", url.Values{"fields": {"de_name,de_owing"}, "filter": {"de_name='Adams'"}}, "Adams", 1, 1, 3},
			{"sort descending number", url.Values{"sort": {"-de_owing"}}, "Davis,Adams,baker,Evans,Clark, Jr,50% off,O'Neil", 7, 1, 0},
			{"sort text then number", url.Values{"sort": {"de_status,-de_owing"}}, "baker,Evans,Clark, Jr,Adams,50% off,O'Neil,Davis", 7, 1, 0},
			{"sort rowid descending", url.Values{"sort": {"-de_rowid"}, "limit": {"2"}}, "Evans,50% off", 7, 4, 0},
			{"page 2 of 3", url.Values{"limit": {"3"}, "page": {"2"}}, "O'Neil,Davis,50% off", 7, 3, 0},
			{"last page", url.Values{"limit": {"3"}, "page": {"3"}}, "Evans", 7, 3, 0},
			{"past the end", url.Values{"limit": {"3"}, "page": {"4"}}, "", 7, 3, 0},
			{"filtered pages", url.Values{"filter": {"de_status='NEW'"}, "limit": {"2"}, "page": {"2"}, "sort": {"de_name"}}, "O'Neil", 3, 2, 0},
			{"filtered, rowid descending", url.Values{"filter": {"de_status='ACT'"}, "sort": {"-de_rowid"}}, "Evans,Clark, Jr,baker", 3, 1, 0},
			{"two conditions sorted on a third field", url.Values{"filter": {"de_owing__gte='3.5',de_name__like='%a%'"}, "sort": {"-de_owing"}}, "Davis,Adams,baker,Evans,Clark, Jr", 5, 1, 0},
			{"filtered, two sort fields, page 2", url.Values{"filter": {"de_owing__gte='3.5'"}, "sort": {"de_status,-de_owing"}, "limit": {"2"}, "page": {"2"}}, "Clark, Jr,Adams", 5, 3, 0},
		} {
			t.Run(tc.name, func(t *testing.T) {
				l := r.list(t, "/debtor", tc.q)
				if got := names(l); got != tc.want || l.Type.NumRecords != tc.total || l.Type.NumPages != tc.pages ||
					l.Type.RecID != "debtor" || l.Type.RowID != "de_rowid" {
					t.Fatalf("got %q (%d records, %d pages), want %q (%d, %d)", got, l.Type.NumRecords, l.Type.NumPages, tc.want, tc.total, tc.pages)
				}
				for _, d := range l.Data {
					if d["de_rowid"] != ids[d["de_name"]] || (tc.fields > 0 && len(d) != tc.fields) {
						t.Fatalf("row %v (want rowid %s, %d fields)", d, ids[d["de_name"]], tc.fields)
					}
				}
			})
		}
		for _, tc := range []struct {
			name string
			q    url.Values
			msg  string
		}{
			{"unknown field", url.Values{"filter": {"de_nope='x'"}}, "unknown field de_nope for record debtor"},
			{"unknown operator", url.Values{"filter": {"de_name__near='x'"}}, "unknown operator near"},
			{"unquoted text", url.Values{"filter": {"de_name=Adams"}}, "neither quoted"},
			{"unterminated quote", url.Values{"filter": {"de_name='Adams"}}, "unterminated"},
			{"no value", url.Values{"filter": {"de_name"}}, "want <field>__<op>=<value>"},
			{"trailing comma", url.Values{"filter": {"de_name='Adams',"}}, "comma"},
			{"not a number", url.Values{"filter": {"de_owing__gt='lots'"}}, "not a number"},
			{"not a date", url.Values{"filter": {"de_listed_date='soon'"}}, "not a date"},
			{"like on the rowid", url.Values{"filter": {"de_rowid__like='1%'"}}, "does not apply"},
			{"unknown sort field", url.Values{"sort": {"-de_nope"}}, "sort: unknown field de_nope"},
			{"unknown fields", url.Values{"fields": {"de_name,co_type"}}, "fields: unknown field co_type"},
			{"limit over 1000", url.Values{"limit": {"1001"}}, "limit"},
			{"page 0", url.Values{"page": {"0"}}, "page"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				expectError(t, r.do(t, "GET", "/debtor?"+tc.q.Encode(), ""), 400, tc.msg)
			})
		}
	})
}

func TestSubRecords(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		r := e.setup(t, "cv_demodb")
		d1 := r.create(t, "debtor", 4, `{"de_name":"One"}`).Data["de_rowid"]
		d2 := r.create(t, "debtor", 4, `{"de_name":"Two"}`).Data["de_rowid"]
		var contacts []string
		for _, c := range []struct{ debtor, desc, date string }{{d1, "Review file...", "2023-01-12"}, {d1, "Call back", "2023-01-13"}, {d2, "Letter", "2023-01-12"}} {
			got := r.create(t, "contact", 4, `{"co_debtor":"`+c.debtor+`","co_description":"`+c.desc+`","co_date":"`+c.date+`","co_time":"13:28:21"}`)
			if got.Data["co_type"] != "5" || got.Data["co_time"] != "13:28:21" {
				t.Fatalf("contact: %+v", got)
			}
			contacts = append(contacts, got.Data["co_rowid"])
		}
		// An unlinked contact (0) belongs to no debtor.
		r.create(t, "contact", 0, `{"co_description":"Loose"}`)

		counts := func(id string) map[string]int64 {
			t.Helper()
			var out struct {
				Status int `json:"status"`
				Type   struct {
					RecID, RowID string
				} `json:"type"`
				Data map[string]int64 `json:"data"`
			}
			resp := r.do(t, "GET", "/debtor/"+id+"/counts", "")
			resp.JSON(t, &out)
			if resp.Status != 200 || out.Type.RecID != "debtor" || out.Type.RowID != "de_rowid" {
				t.Fatalf("counts: %d %s", resp.Status, resp.Body)
			}
			return out.Data
		}
		if c := counts(d1); len(c) != 1 || c["contact"] != 2 {
			t.Fatalf("counts of %s: %v", d1, c)
		}
		if c := counts(d2); len(c) != 1 || c["contact"] != 1 {
			t.Fatalf("counts of %s: %v", d2, c)
		}
		l := r.list(t, "/debtor/"+d1+"/contact", nil)
		if column(l, "co_rowid") != contacts[0]+","+contacts[1] || l.Type.RecID != "contact" || l.Type.RowID != "co_rowid" ||
			l.Type.NumRecords != 2 || l.Type.NumPages != 1 || l.Data[0]["co_description"] != "Review file..." {
			t.Fatalf("contacts of %s: %+v", d1, l)
		}
		l = r.list(t, "/debtor/"+d1+"/contact", url.Values{"filter": {"co_date='2023-01-12'"}, "fields": {"co_description"}})
		if column(l, "co_description") != "Review file..." || l.Type.NumRecords != 1 || len(l.Data[0]) != 2 {
			t.Fatalf("filtered contacts: %+v", l)
		}
		l = r.list(t, "/debtor/"+d1+"/contact", url.Values{"sort": {"-co_date"}, "limit": {"1"}, "page": {"2"}})
		if column(l, "co_rowid") != contacts[0] || l.Type.NumPages != 2 {
			t.Fatalf("sorted contacts page 2: %+v", l)
		}
		// A record with no sub-records counts none.
		if c := counts(d2); c["contact"] != 1 {
			t.Fatal(c)
		}

		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			msg                      string
		}{
			{"counts of a missing record", "GET", "/debtor/999999/counts", "", 404, "debtor 999999 not found"},
			{"sub-records of a missing record", "GET", "/debtor/999999/contact", "", 404, "debtor 999999 not found"},
			{"not a sub-record", "GET", "/contact/" + contacts[0] + "/debtor", "", 404, "debtor is not a sub-record of contact"},
			{"unknown sub-record", "GET", "/debtor/" + d1 + "/payment", "", 404, "record payment not found"},
			{"sub-record filter on an unknown field", "GET", "/debtor/" + d1 + "/contact?filter=de_name%3D'x'", "", 400, "unknown field de_name for record contact"},
			{"a contact of a missing debtor", "POST", "/contact", `{"business-logic":4,"data":{"co_debtor":"999999"}}`, 409, "debtor 999999 (co_debtor) does not exist"},
			{"a contact linked to a contact", "POST", "/contact", `{"business-logic":4,"data":{"co_debtor":"` + contacts[0] + `"}}`, 409, "does not exist"},
			{"staging checks the link too", "POST", "/contact", `{"business-logic":1,"data":{"co_debtor":"999999"}}`, 409, "does not exist"},
			{"move a contact to a missing debtor", "PATCH", "/contact/" + contacts[2], `{"data":{"co_debtor":"999999"}}`, 409, "does not exist"},
			{"delete a debtor with contacts", "DELETE", "/debtor/" + d1, "", 409, "still has contact records"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				expectError(t, r.do(t, tc.method, tc.path, tc.body), tc.status, tc.msg)
			})
		}

		// Moving a contact moves its count; the last contact gone, its debtor can be deleted.
		if resp := r.do(t, "PATCH", "/contact/"+contacts[2], `{"data":{"co_debtor":"`+d1+`"}}`); resp.Status != 200 {
			t.Fatalf("move: %d %s", resp.Status, resp.Body)
		}
		if c1, c2 := counts(d1), counts(d2); c1["contact"] != 3 || c2["contact"] != 0 {
			t.Fatalf("after the move: %v %v", c1, c2)
		}
		if resp := r.do(t, "DELETE", "/debtor/"+d2, ""); resp.Status != 200 {
			t.Fatalf("delete a debtor without contacts: %d %s", resp.Status, resp.Body)
		}
	})
}

// TestRecordIsolation: an operator of database A never reads or changes B's rows, by any route or filter,
// though both databases define the same records.
func TestRecordIsolation(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		a, b := e.setup(t, "cv_a"), e.setup(t, "cv_b")
		aDebtor := a.create(t, "debtor", 4, `{"de_name":"Alpha"}`).Data["de_rowid"]
		bDebtor := b.create(t, "debtor", 4, `{"de_name":"Bravo","de_owing":"5"}`).Data["de_rowid"]
		bContact := b.create(t, "contact", 4, `{"co_debtor":"`+bDebtor+`","co_description":"B only"}`).Data["co_rowid"]
		// A record only B defines.
		bd, err := collect.FindDatabase(context.Background(), e.DB, "cv_b")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := collect.CreateRecordDef(context.Background(), e.DB, bd.Scope(), collect.RecordDefInput{Name: "client",
			RowIDField: "cl_rowid", Fields: []collect.FieldInput{{Name: "cl_name", Type: "text"}}}); err != nil {
			t.Fatal(err)
		}
		b.create(t, "client", 0, `{"cl_name":"B's client"}`)

		// Lists and filters only see A's own rows, whatever the filter says.
		for _, q := range []url.Values{nil, {"filter": {"de_rowid=" + bDebtor}}, {"filter": {"de_name__like='%'"}},
			{"filter": {"de_rowid__gte=1"}}, {"sort": {"-de_owing"}}} {
			if l := a.list(t, "/debtor", q); column(l, "de_name") != strings.Repeat("Alpha", int(l.Type.NumRecords)) || l.Type.NumRecords > 1 {
				t.Fatalf("A lists %v: %+v", q, l)
			}
		}
		if l := a.list(t, "/debtor", url.Values{"filter": {"de_name='Bravo'"}}); l.Type.NumRecords != 0 || len(l.Data) != 0 {
			t.Fatalf("A finds B's debtor: %+v", l)
		}
		for _, tc := range []struct{ name, method, path, body string }{
			{"get", "GET", "/debtor/" + bDebtor, ""},
			{"get a contact", "GET", "/contact/" + bContact, ""},
			{"update", "PATCH", "/debtor/" + bDebtor, `{"data":{"de_name":"Taken"}}`},
			{"delete", "DELETE", "/debtor/" + bContact, ""},
			{"delete a contact", "DELETE", "/contact/" + bContact, ""},
			{"counts", "GET", "/debtor/" + bDebtor + "/counts", ""},
			{"sub-records", "GET", "/debtor/" + bDebtor + "/contact", ""},
			{"B's record", "GET", "/client", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				expectError(t, a.do(t, tc.method, tc.path, tc.body), 404, "not found")
			})
		}
		// A cannot link its contact to B's debtor.
		expectError(t, a.do(t, "POST", "/contact", `{"business-logic":4,"data":{"co_debtor":"`+bDebtor+`"}}`), 409, "does not exist")
		// A's own debtor counts none of B's contacts, even linked to the same rowid number.
		var counts struct {
			Data map[string]int64 `json:"data"`
		}
		if a.do(t, "GET", "/debtor/"+aDebtor+"/counts", "").JSON(t, &counts); counts.Data["contact"] != 0 {
			t.Fatalf("A's counts: %v", counts.Data)
		}
		// B's rows are as they were.
		var got result
		if b.do(t, "GET", "/debtor/"+bDebtor, "").JSON(t, &got); got.Data["de_name"] != "Bravo" {
			t.Fatalf("B's debtor: %+v", got)
		}
		if l := b.list(t, "/debtor/"+bDebtor+"/contact", nil); column(l, "co_rowid") != bContact {
			t.Fatalf("B's contacts: %+v", l)
		}
		// A's token with B's database header is refused outright.
		h := apitest.Headers("x-collect-database", "cv_b", "Authorization", "Bearer "+a.tok)
		if resp := e.Do(t, apitest.Request{Method: http.MethodGet, Path: "/collect/api/v1/collect/data/debtor", Header: h}); resp.Status != 401 {
			t.Fatalf("A's token on B: %d", resp.Status)
		}
	})
}
