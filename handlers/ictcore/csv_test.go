package ictcore_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"switchboard/apitest"
	"switchboard/app"
	"switchboard/contactcsv"
	"switchboard/models"
	"switchboard/models/ictcore"
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
	t.Parallel()
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
	t.Parallel()
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

// streamedUpload is a POST /groups/{id}/csv in progress whose body the test feeds step by step, so it
// knows how far the import has come: the importer reads the next batch only after committing the last.
type streamedUpload struct {
	e     *ictEnv
	group int64
	w     *io.PipeWriter
	done  chan struct{}
	resp  *apitest.Response
	err   error // the response breaks the contract
}

// startUpload sends the upload through the whole stack with apitest.Env.Serve, which streams the body
// (Do would read it all before sending). The response is checked against the contract.
func (e *ictEnv) startUpload(t *testing.T, groupID int64) *streamedUpload {
	t.Helper()
	pr, pw := io.Pipe()
	path := fmt.Sprintf("/ictcore/groups/%d/csv", groupID)
	hr := httptest.NewRequestWithContext(contactcsv.WithBatchSize(context.Background(), importBatch), "POST", path, pr)
	hr.Header.Set("Authorization", "Bearer "+e.token)
	hr.Header.Set("Content-Type", "text/csv")
	hr.ContentLength = -1
	u := &streamedUpload{e: e, group: groupID, w: pw, done: make(chan struct{})}
	go func() {
		defer close(u.done)
		u.resp, u.err = e.Serve(hr)
	}()
	// A test that stops early still ends the upload before its store is closed.
	t.Cleanup(func() {
		pw.CloseWithError(errors.New("test ended"))
		<-u.done
	})
	return u
}

// write feeds the upload; it returns once the importer has taken every byte.
func (u *streamedUpload) write(t *testing.T, s string) {
	t.Helper()
	if _, err := io.WriteString(u.w, s); err != nil {
		t.Fatalf("upload write: %v", err)
	}
}

// finish ends the body (with err: as a broken connection) and answers the response.
func (u *streamedUpload) finish(t *testing.T, err error) *apitest.Response {
	t.Helper()
	u.w.CloseWithError(err)
	<-u.done
	if u.err != nil {
		t.Fatal(u.err)
	}
	return u.resp
}

// wait answers the response to an upload the server stopped reading, then ends the body.
func (u *streamedUpload) wait(t *testing.T) *apitest.Response {
	t.Helper()
	<-u.done
	u.w.Close()
	if u.err != nil {
		t.Fatal(u.err)
	}
	return u.resp
}

// midway feeds one full batch and one row more, then waits until the importer has committed that batch
// (its writers run beside the reader, so taking the row does not mean the batch is in).
func (u *streamedUpload) midway(t *testing.T) {
	t.Helper()
	u.write(t, phoneRows(0, importBatch))
	u.write(t, phoneRows(importBatch, 1))
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, rows := u.e.importState(t, u.group); rows >= importBatch {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("midway: the first batch of %d rows was not committed in 30 s", importBatch)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// importBatch is the rows the importer commits at a time in streamed uploads (contactcsv.WithBatchSize;
// the real 5000 would only make the tests slower).
const importBatch = 100

// phoneRows answers n one-column rows with distinct phone numbers, starting at number from.
func phoneRows(from, n int) string {
	var b strings.Builder
	for i := from; i < from+n; i++ {
		fmt.Fprintf(&b, "\"+92300%07d\"\n", i)
	}
	return b.String()
}

// newStreamEnv is an env whose uploads may pause as long as a test needs (the body deadline is the
// server's, not what these tests are about).
func newStreamEnv(t *testing.T, kind string, upload int64) *ictEnv {
	return newEnvWithOptions(t, kind, app.Options{Limits: server.Limits{Upload: upload,
		BodyTimeouts: server.BodyTimeouts{UploadGrace: time.Hour, UploadMax: time.Hour}}})
}

// storeCount counts rows straight from the store, unfinished imports included.
func (e *ictEnv) storeCount(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := e.DB.Raw(query, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// importState answers the state of the group's import and how many contacts it wrote.
func (e *ictEnv) importState(t *testing.T, groupID int64) (string, int64) {
	t.Helper()
	var imp struct {
		State string
		Rows  int64
	}
	if err := e.DB.Raw("SELECT state, rows FROM contact_imports WHERE group_id = ?", groupID).Scan(&imp).Error; err != nil {
		t.Fatalf("import state: %v", err)
	}
	return imp.State, imp.Rows
}

// groupUnlocked checks on Postgres that nobody holds the group's row lock (NOWAIT fails at once if one
// does); on SQLite, a write made meanwhile shows that nobody holds the store's write lock.
func (e *ictEnv) groupUnlocked(t *testing.T, groupID int64) {
	t.Helper()
	if !models.IsPostgres(e.DB) {
		return
	}
	err := e.DB.Transaction(func(tx *gorm.DB) error {
		return tx.Exec("SELECT group_id FROM contact_groups WHERE group_id = ? FOR UPDATE NOWAIT", groupID).Error
	})
	if err != nil {
		t.Fatalf("the group's row is locked during the import: %v", err)
	}
}

// totalCount answers a list's X-Total-Count.
func (e *ictEnv) totalCount(t *testing.T, path string) string {
	t.Helper()
	r := e.call(t, "GET", path, nil)
	if r.Status != 200 {
		t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	return r.Header.Get("X-Total-Count")
}

func (e *ictEnv) contactTotal(t *testing.T, groupID int64) int64 {
	t.Helper()
	var g group
	e.call(t, "GET", fmt.Sprintf("/groups/%d", groupID), nil).JSON(t, &g)
	return g.ContactTotal
}

// TestCSVImportLetsOthersWrite: an import commits batch by batch, so other requests write while it runs
// (on SQLite the store's write lock, on Postgres the group's row lock, is free between batches), and its
// rows stay invisible to every read and write until the last batch is in.
func TestCSVImportLetsOthersWrite(t *testing.T) {
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newStreamEnv(t, kind, 0)
		g := e.createGroup(t, "import")
		u := e.startUpload(t, g)
		u.midway(t)
		if state, rows := e.importState(t, g); state != "running" || rows != importBatch {
			t.Fatalf("midway: import %s with %d rows, want running with %d", state, rows, importBatch)
		}
		e.groupUnlocked(t, g)

		id := e.createContact(t, map[string]any{"first_name": "Meanwhile", "phone": "123"})
		if r := e.call(t, "PUT", fmt.Sprintf("/contacts/%d/link/%d", id, g), nil); r.Status != 200 {
			t.Fatalf("link during the import: %d %s", r.Status, r.Body)
		}
		if n := e.totalCount(t, "/contacts?count=true"); n != "1" {
			t.Fatalf("contacts during the import: %s, want 1 (the imported rows are not done)", n)
		}
		if n := e.totalCount(t, fmt.Sprintf("/groups/%d/contacts?count=true", g)); n != "1" {
			t.Fatalf("group contacts during the import: %s, want 1", n)
		}
		if n := e.contactTotal(t, g); n != 1 {
			t.Fatalf("contact_total during the import: %d, want 1", n)
		}
		if r := e.call(t, "GET", fmt.Sprintf("/groups/%d/csv", g), nil); r.Status != 200 || strings.Count(string(r.Body), "\n") != 1 {
			t.Fatalf("export during the import: %d %q", r.Status, r.Body)
		}
		// An imported row is not there for reads, updates, deletes or links either.
		hidden := e.storeCount(t, "SELECT MIN(contact_id) FROM contacts WHERE import_id IS NOT NULL")
		for _, c := range []struct{ method, path string }{
			{"GET", fmt.Sprintf("/contacts/%d", hidden)},
			{"PUT", fmt.Sprintf("/contacts/%d", hidden)},
			{"DELETE", fmt.Sprintf("/contacts/%d", hidden)},
			{"PUT", fmt.Sprintf("/contacts/%d/link/%d", hidden, g)},
		} {
			var body any
			if c.method == "PUT" && !strings.Contains(c.path, "/link/") {
				body = map[string]any{"first_name": "x"}
			}
			if r := e.call(t, c.method, c.path, body); r.Status != 404 {
				t.Fatalf("%s %s during the import: %d %s, want 404", c.method, c.path, r.Status, r.Body)
			}
		}

		u.write(t, phoneRows(importBatch+1, 99))
		r := u.finish(t, nil)
		var rep importReport
		r.JSON(t, &rep)
		const rows = importBatch + 100
		if r.Status != 200 || rep.Imported != rows || rep.Rejected != 0 {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
		if n := e.totalCount(t, "/contacts?count=true"); n != fmt.Sprint(rows+1) {
			t.Fatalf("contacts after the import: %s, want %d", n, rows+1)
		}
		if n := e.totalCount(t, fmt.Sprintf("/groups/%d/contacts?count=true", g)); n != fmt.Sprint(rows+1) {
			t.Fatalf("group contacts after the import: %s, want %d", n, rows+1)
		}
		if n := e.contactTotal(t, g); n != rows+1 {
			t.Fatalf("contact_total after the import: %d, want %d", n, rows+1)
		}
		if r := e.call(t, "GET", fmt.Sprintf("/contacts/%d", hidden), nil); r.Status != 200 {
			t.Fatalf("an imported contact after the import: %d %s", r.Status, r.Body)
		}
	})
}

// expectNothingLeft checks, straight in the store, that a failed import left no contact and no link.
func (e *ictEnv) expectNothingLeft(t *testing.T, groupID int64, keep int64) {
	t.Helper()
	if n := e.storeCount(t, "SELECT COUNT(*) FROM contacts"); n != keep {
		t.Fatalf("%d contacts in the store, want %d", n, keep)
	}
	if n := e.storeCount(t, "SELECT COUNT(*) FROM contact_links WHERE contact_id IN (SELECT contact_id FROM contacts WHERE import_id IS NOT NULL)"); n != 0 {
		t.Fatalf("%d links of imported contacts left", n)
	}
	if n := e.storeCount(t, "SELECT COUNT(*) FROM contact_links WHERE group_id = ?", groupID); n != 0 {
		t.Fatalf("%d links left in the group", n)
	}
	if state, _ := e.importState(t, groupID); state != "failed" {
		t.Fatalf("import is %q, want failed", state)
	}
}

// TestCSVImportCutOff: an upload that breaks off, or grows past its limit, after batches were committed
// leaves no contact and no link behind, and its import is failed.
func TestCSVImportCutOff(t *testing.T) {
	apitest.EachKind(t, func(t *testing.T, kind string) {
		t.Run("broken connection", func(t *testing.T) {
			e := newStreamEnv(t, kind, 0)
			g := e.createGroup(t, "import")
			u := e.startUpload(t, g)
			u.midway(t)
			if n := e.storeCount(t, "SELECT COUNT(*) FROM contacts"); n != importBatch {
				t.Fatalf("midway: %d contacts stored, want the first batch's %d", n, importBatch)
			}
			r := u.finish(t, io.ErrUnexpectedEOF)
			if code, _ := errorMessage(t, r); r.Status < 400 || code != r.Status {
				t.Fatalf("cut-off upload answered %d %s", r.Status, r.Body)
			}
			e.expectNothingLeft(t, g, 0)
			if n := e.contactTotal(t, g); n != 0 {
				t.Fatalf("contact_total %d after a failed import", n)
			}
		})
		t.Run("over the limit", func(t *testing.T) {
			e := newStreamEnv(t, kind, int64(len(phoneRows(0, importBatch+1))+10))
			g := e.createGroup(t, "import")
			u := e.startUpload(t, g)
			u.midway(t)
			go io.WriteString(u.w, phoneRows(importBatch+1, 100)) // the importer stops reading at the limit
			r := u.wait(t)
			if code, _ := errorMessage(t, r); r.Status != http.StatusRequestEntityTooLarge || code != 413 {
				t.Fatalf("oversized upload answered %d %s", r.Status, r.Body)
			}
			e.expectNothingLeft(t, g, 0)
		})
	})
}

// TestCSVImportGroupDeleted: a group deleted while its import runs (no longer held up by it) makes the
// import answer 404 in ICTCore's shape, and the import leaves nothing.
func TestCSVImportGroupDeleted(t *testing.T) {
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newStreamEnv(t, kind, 0)
		other := e.createContact(t, map[string]any{"first_name": "Other", "phone": "1"})
		g := e.createGroup(t, "import")
		u := e.startUpload(t, g)
		u.midway(t)
		e.groupUnlocked(t, g)
		if r := e.call(t, "DELETE", fmt.Sprintf("/groups/%d", g), nil); r.Status != 200 {
			t.Fatalf("delete during the import: %d %s", r.Status, r.Body)
		}
		u.write(t, phoneRows(importBatch+1, 10))
		r := u.finish(t, nil)
		code, msg := errorMessage(t, r)
		if r.Status != 404 || code != 404 || !strings.Contains(msg, "not found") {
			t.Fatalf("import into a deleted group: %d %s", r.Status, r.Body)
		}
		e.expectNothingLeft(t, g, 1)
		if r := e.call(t, "GET", fmt.Sprintf("/contacts/%d", other), nil); r.Status != 200 {
			t.Fatalf("another contact after the cleanup: %d %s", r.Status, r.Body)
		}
	})
}

// TestCSVImportSweep: imports a killed process left running are failed and cleaned at start (and before
// each import), without touching others' contacts in their id range, a live import, or a done one.
func TestCSVImportSweep(t *testing.T) {
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		g := e.createGroup(t, "import")
		old, now := time.Now().Add(-time.Hour).Unix(), time.Now().Unix()
		// imported writes an import as the importer leaves it after its batches, with n contacts in the
		// group; between them, contacts of someone else's (also in the group), as concurrent writes put there.
		var others []int64
		imported := func(state string, updated int64, n int) int64 {
			t.Helper()
			var id int64
			err := e.DB.Transaction(func(tx *gorm.DB) error {
				if err := tx.Raw(`INSERT INTO contact_imports (group_id, state, rows, created_at, updated_at)
					VALUES (?, ?, 0, ?, ?) RETURNING import_id`, g, state, updated, updated).Scan(&id).Error; err != nil {
					return err
				}
				insert := func(importID any) (int64, error) {
					var c int64
					if err := tx.Raw(`INSERT INTO contacts (phone, phone_rev, user_id, created_at, updated_at, import_id)
						VALUES ('1000', '', 1, ?, ?, ?) RETURNING contact_id`, now, now, importID).Scan(&c).Error; err != nil {
						return 0, err
					}
					return c, tx.Exec("INSERT INTO contact_links (group_id, contact_id) VALUES (?, ?)", g, c).Error
				}
				var ids []int64
				for i := range n {
					if i > 0 {
						other, err := insert(nil)
						if err != nil {
							return err
						}
						others = append(others, other)
					}
					c, err := insert(id)
					if err != nil {
						return err
					}
					ids = append(ids, c)
				}
				return tx.Exec("UPDATE contact_imports SET rows = ?, first_contact_id = ?, last_contact_id = ? WHERE import_id = ?",
					n, ids[0], ids[n-1], id).Error
			})
			if err != nil {
				t.Fatalf("import fixture: %v", err)
			}
			return id
		}
		stale := imported("running", old, 3)
		halfCleaned := imported("failed", old, 2) // a cleanup the process was killed in
		live := imported("running", now, 2)
		done := imported("done", old, 2)
		if n := e.totalCount(t, "/contacts?count=true"); n != fmt.Sprint(len(others)+2) {
			t.Fatalf("before the sweep %s contacts are visible, want the others and the done import's", n)
		}

		// Start-up sweeps, as after a restart.
		restarted, err := app.Build(context.Background(), app.Options{DB: e.DB, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			BlobDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = restarted.Stop(context.Background()) })
		for _, c := range []struct {
			id        int64
			state     string
			contacts  int64
			rangeLeft bool
		}{{stale, "failed", 0, false}, {halfCleaned, "failed", 0, false}, {live, "running", 2, true}, {done, "done", 2, true}} {
			var imp struct {
				State          string
				FirstContactID *int64
			}
			e.DB.Raw("SELECT state, first_contact_id FROM contact_imports WHERE import_id = ?", c.id).Scan(&imp)
			n := e.storeCount(t, "SELECT COUNT(*) FROM contacts WHERE import_id = ?", c.id)
			links := e.storeCount(t, "SELECT COUNT(*) FROM contact_links WHERE contact_id IN (SELECT contact_id FROM contacts WHERE import_id = ?)", c.id)
			if imp.State != c.state || n != c.contacts || links != c.contacts || (imp.FirstContactID != nil) != c.rangeLeft {
				t.Fatalf("import %d after the sweep: %s, %d contacts, %d links, range %v; want %s, %d", c.id, imp.State, n, links, imp.FirstContactID, c.state, c.contacts)
			}
		}
		for _, id := range others {
			if r := e.call(t, "GET", fmt.Sprintf("/contacts/%d", id), nil); r.Status != 200 {
				t.Fatalf("contact %d, not the import's, after the sweep: %d %s", id, r.Status, r.Body)
			}
		}
		if n := e.totalCount(t, fmt.Sprintf("/groups/%d/contacts?count=true", g)); n != fmt.Sprint(len(others)+2) {
			t.Fatalf("group contacts after the sweep: %s, want the others and the done import's", n)
		}
	})
}

// TestCSVImportSweptWhileRunning: an import a sweep took for abandoned (its heartbeat failed for too long)
// commits no further batch: it answers 503, and the sweep has removed what it wrote.
func TestCSVImportSweptWhileRunning(t *testing.T) {
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newStreamEnv(t, kind, 0)
		g := e.createGroup(t, "import")
		u := e.startUpload(t, g)
		u.midway(t)
		if err := ictcore.SweepImports(context.Background(), e.DB, -time.Hour); err != nil { // everything is stale
			t.Fatal(err)
		}
		u.write(t, phoneRows(importBatch+1, importBatch))
		r := u.finish(t, nil)
		if code, _ := errorMessage(t, r); r.Status != http.StatusServiceUnavailable || code != 503 || r.Header.Get("Retry-After") == "" {
			t.Fatalf("swept import answered %d %s", r.Status, r.Body)
		}
		e.expectNothingLeft(t, g, 0)
	})
}

// TestCSVFormulaRoundTrip: the export guards formula-like cells with a leading ' (phone numbers and
// plain numbers stay as they are), the import removes it, so an export re-imports unchanged. The import
// also skips a byte-order mark and reports an unterminated quote with its line.
func TestCSVFormulaRoundTrip(t *testing.T) {
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		g := e.createGroup(t, "formulas")
		originals := []map[string]any{
			{"phone": "+923001234567", "first_name": `=HYPERLINK("http://evil.example","click")`, "last_name": "@x",
				"custom1": "-1+2", "custom2": "'=x", "custom3": "+1 (555) 010-9999", "description": "=1+2"},
			{"phone": "923330000002", "first_name": "'plain", "last_name": "'+44", "address": "-12.5"},
		}
		for _, c := range originals {
			id := e.createContact(t, c)
			if r := e.call(t, "PUT", fmt.Sprintf("/contacts/%d/link/%d", id, g), nil); r.Status != 200 {
				t.Fatalf("link: %d %s", r.Status, r.Body)
			}
		}
		export := func(g int64) string {
			r := e.call(t, "GET", fmt.Sprintf("/groups/%d/csv", g), nil)
			if r.Status != 200 {
				t.Fatalf("export: %d %s", r.Status, r.Body)
			}
			return string(r.Body)
		}
		out := export(g)
		want := `"+923001234567","'=HYPERLINK(""http://evil.example"",""click"")","'@x","","","'-1+2","''=x","+1 (555) 010-9999","'=1+2"` + "\n" +
			`"923330000002","'plain","'+44","","-12.5","","","",""` + "\n"
		if out != want {
			t.Fatalf("export:\n%s\nwant:\n%s", out, want)
		}

		// The export re-imported, as a spreadsheet might save it: with a byte-order mark, and here with a
		// broken row at the end.
		again := e.createGroup(t, "again")
		r := e.upload(t, fmt.Sprintf("/groups/%d/csv", again), "text/csv", "\xEF\xBB\xBF"+out+`"923330000003","open`+"\n"+`quote,""`+"\n")
		var rep importReport
		r.JSON(t, &rep)
		if r.Status != 200 || rep.Imported != 2 || rep.Rejected != 1 || len(rep.Errors) != 1 ||
			rep.Errors[0].Line != 3 || !strings.Contains(rep.Errors[0].Message, "unterminated quote at line 3") {
			t.Fatalf("re-import: %d %s", r.Status, r.Body)
		}
		r = e.call(t, "GET", fmt.Sprintf("/groups/%d/contacts", again), nil)
		var back []map[string]any
		r.JSON(t, &back)
		if len(back) != len(originals) {
			t.Fatalf("re-imported: %s", r.Body)
		}
		for i, c := range originals {
			for k, v := range c {
				if back[i][k] != v {
					t.Fatalf("re-imported contact %d: %s is %q, want %q", i, k, back[i][k], v)
				}
			}
		}
		if out2 := export(again); out2 != out {
			t.Fatalf("export of the re-import:\n%s\nwant:\n%s", out2, out)
		}
	})
}

// TestCSVImportOversizedRows: a field or a row over the reader's limits is reported as its row's error
// (without being held in memory) and the rows after it are imported.
func TestCSVImportOversizedRows(t *testing.T) {
	apitest.EachKind(t, func(t *testing.T, kind string) {
		e := newEnv(t, kind)
		g := e.createGroup(t, "big")
		wide := strings.Repeat(`"`+strings.Repeat("y", 4000)+`",`, 17) + `"z"` // 17 fields of 4000 bytes: over 64 KiB
		file := strings.Join([]string{
			`"111"`,
			`"222","` + strings.Repeat("x", 5000) + `","","","","","","",""`,
			`"333"`,
			wide,
			`"444"`,
		}, "\n")
		r := e.upload(t, fmt.Sprintf("/groups/%d/csv", g), "text/csv", file)
		var rep importReport
		r.JSON(t, &rep)
		if r.Status != 200 || rep.Imported != 3 || rep.Rejected != 2 || len(rep.Errors) != 2 ||
			rep.Errors[0].Line != 2 || !strings.Contains(rep.Errors[0].Message, "longer than 4096 bytes") ||
			rep.Errors[1].Line != 4 || !strings.Contains(rep.Errors[1].Message, "longer than 65536 bytes") {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
		var got []contact
		e.call(t, "GET", fmt.Sprintf("/groups/%d/contacts", g), nil).JSON(t, &got)
		if len(got) != 3 || got[0].Phone != "111" || got[1].Phone != "333" || got[2].Phone != "444" {
			t.Fatalf("imported: %+v", got)
		}
	})
}
