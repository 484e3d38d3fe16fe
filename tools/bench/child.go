package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"gorm.io/gorm"

	"switchboard/app"
	"switchboard/models"
	"switchboard/models/ictcore"
	"switchboard/models/identity"
	"switchboard/scratchdb"
	"switchboard/server"
)

const adminPassword = "bench-password"

// httpRounds: bare and full alternate this many times; each figure pools its rounds.
const httpRounds = 4

// batchSize matches contactcsv's insert batch, so the direct baseline does the same statements.
const batchSize = 5000

type httpResult struct {
	Store     string
	BodyBytes int
	Bare      loadStats
	Full      loadStats
}

type importResult struct {
	Store, Mode string
	Rows        int
	FileMB      float64
	Seconds     float64
	RowsPerSec  float64
	PeakRSSMB   float64      // VmHWM at the end
	SetupRSSMB  float64      // VmHWM before the import started
	Pages       []pageTiming `json:",omitempty"` // http mode: list latency over the imported rows
}

// pageTiming is the median latency of one list request, repeated, over the imported rows.
type pageTiming struct {
	Name string
	Ms   float64
}

// child runs one measurement and prints its result as one JSON line on stdout.
func child(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "bench -child: want http or import")
		return 2
	}
	kind := args[0]
	fs := flag.NewFlagSet("bench -child "+kind, flag.ContinueOnError)
	store := fs.String("store", "sqlite", "sqlite or postgres")
	dsn := fs.String("dsn", "", "bench database URL (postgres)")
	tmp := fs.String("tmp", os.TempDir(), "directory for SQLite files")
	requests := fs.Int("requests", 20000, "")
	warmup := fs.Int("warmup", 2000, "")
	workers := fs.Int("workers", 8, "")
	rows := fs.Int("rows", 0, "")
	mode := fs.String("mode", "http", "http or direct")
	file := fs.String("file", "", "CSV file (http mode)")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	ctx := context.Background()
	db, cleanup, err := openStore(ctx, *store, *dsn, *tmp)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench -child %s: store %s: %v\n", kind, *store, err)
		return 1
	}
	defer cleanup()
	var out any
	switch kind {
	case "http":
		out, err = benchHTTP(ctx, db, *store, *requests, *warmup, *workers)
	case "import":
		if *mode == "direct" {
			out, err = benchDirect(ctx, db, *store, *rows)
		} else {
			out, err = benchImport(ctx, db, *store, *rows, *file)
		}
	default:
		err = fmt.Errorf("unknown child %q", kind)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench -child %s %s: %v\n", kind, *store, err)
		return 1
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	return 0
}

// openStore answers a fresh, migrated store: a SQLite file under tmp, or a schema of its own in the
// bench database, removed by cleanup.
func openStore(ctx context.Context, kind, dsn, tmp string) (*gorm.DB, func(), error) {
	var (
		url   string
		after func()
	)
	switch kind {
	case "sqlite":
		dir, err := os.MkdirTemp(tmp, "sqlite-")
		if err != nil {
			return nil, nil, err
		}
		url, after = "sqlite:"+filepath.Join(dir, "bench.db"), func() { os.RemoveAll(dir) }
	case "postgres":
		schemaURL, drop, err := scratchdb.CreateSchema(ctx, dsn, "b_")
		if err != nil {
			return nil, nil, err
		}
		url, after = schemaURL, func() { _ = drop() }
	default:
		return nil, nil, fmt.Errorf("unknown store %q", kind)
	}
	db, err := models.Open(url)
	if err != nil {
		after()
		return nil, nil, err
	}
	cleanup := func() { _ = models.Close(db); after() }
	if _, err := models.Migrate(ctx, db); err != nil {
		cleanup()
		return nil, nil, err
	}
	if err := app.EnsureAdmin(ctx, db, adminPassword, io.Discard); err != nil {
		cleanup()
		return nil, nil, err
	}
	return db, cleanup, nil
}

// fullServer serves app.Build as production does; the logger is the production default (text, info) but
// writes to io.Discard, so formatting each request line is counted and terminal speed is not.
func fullServer(ctx context.Context, db *gorm.DB) (*httptest.Server, error) {
	h, err := app.Build(ctx, app.Options{
		DB:     db,
		Log:    slog.New(slog.NewTextHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelInfo})),
		Limits: server.Limits{Upload: 1 << 30},
	})
	if err != nil {
		return nil, err
	}
	return httptest.NewServer(h), nil
}

func benchHTTP(ctx context.Context, db *gorm.DB, store string, requests, warmup, workers int) (*httpResult, error) {
	full, err := fullServer(ctx, db)
	if err != nil {
		return nil, err
	}
	defer full.Close()
	c := &apiClient{base: full.URL, http: &http.Client{}}
	if err := c.login(); err != nil {
		return nil, err
	}
	var created struct {
		ContactID int64 `json:"contact_id"`
	}
	if err := c.do("POST", "/ictcore/contacts", "application/json",
		strings.NewReader(`{"first_name":"Ada","last_name":"Lovelace","phone":"923330000001","email":"ada@example.com"}`), &created); err != nil {
		return nil, err
	}
	path := "/ictcore/contacts/" + strconv.FormatInt(created.ContactID, 10)
	// The bare handler answers exactly what the full one does for this contact.
	var body []byte
	if err := c.do("GET", path, "", nil, &body); err != nil {
		return nil, err
	}
	c.http.CloseIdleConnections()

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/ictcore/contacts/:contact_id", func(c echo.Context) error {
		return c.JSONBlob(http.StatusOK, body)
	})
	bare := httptest.NewServer(e)
	defer bare.Close()
	bl, fl := newLoader(bare.URL+path, c.token, workers), newLoader(full.URL+path, c.token, workers)
	defer bl.close()
	defer fl.close()
	bareStats, fullStats, err := compare(bl, fl, warmup, requests, httpRounds)
	if err != nil {
		return nil, err
	}
	return &httpResult{Store: store, BodyBytes: len(body), Bare: bareStats, Full: fullStats}, nil
}

// benchImport posts the CSV file through the full stack; the body streams from disk.
func benchImport(ctx context.Context, db *gorm.DB, store string, rows int, file string) (*importResult, error) {
	srv, err := fullServer(ctx, db)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	c := &apiClient{base: srv.URL, http: &http.Client{}}
	if err := c.login(); err != nil {
		return nil, err
	}
	var g struct {
		GroupID int64 `json:"group_id"`
	}
	if err := c.do("POST", "/ictcore/groups", "application/json", strings.NewReader(`{"name":"bench"}`), &g); err != nil {
		return nil, err
	}
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	setup := vmHWM()
	runtime.GC()

	start := time.Now()
	var rep struct {
		Imported int64 `json:"imported"`
		Rejected int64 `json:"rejected"`
	}
	if err := c.doLen("POST", fmt.Sprintf("/ictcore/groups/%d/csv", g.GroupID), "text/csv", f, st.Size(), &rep); err != nil {
		return nil, err
	}
	el := time.Since(start)

	if rep.Imported != int64(rows) || rep.Rejected != 0 {
		return nil, fmt.Errorf("import report: imported %d, rejected %d, want %d and 0", rep.Imported, rep.Rejected, rows)
	}
	if err := checkTotal(ctx, db, g.GroupID, rows); err != nil {
		return nil, err
	}
	peak := vmHWM()
	pages, err := timePages(c, g.GroupID, rows)
	if err != nil {
		return nil, err
	}
	return &importResult{Store: store, Mode: "http", Rows: rows, FileMB: float64(st.Size()) / (1 << 20),
		Seconds: el.Seconds(), RowsPerSec: float64(rows) / el.Seconds(), PeakRSSMB: peak, SetupRSSMB: setup, Pages: pages}, nil
}

// benchDirect is the baseline: the same rows, generated batch by batch (never all in memory), through
// the same bulk insert Import uses, in one transaction, with no HTTP, CSV or validation.
func benchDirect(ctx context.Context, db *gorm.DB, store string, rows int) (*importResult, error) {
	admin, err := identity.FindUserByLogin(ctx, db, "admin")
	if err != nil {
		return nil, err
	}
	g := &ictcore.Group{Name: "bench", UserID: admin.ID}
	if err := ictcore.CreateGroup(ctx, db, g); err != nil {
		return nil, err
	}
	setup := vmHWM()
	runtime.GC()

	start := time.Now()
	now := time.Now().Unix()
	batch := make([]ictcore.Contact, 0, batchSize)
	done := 0
	// next generates the same rows the CSV file holds, a batch at a time (never all in memory).
	next := func() ([]ictcore.Contact, error) {
		batch = batch[:0]
		for ; done < rows && len(batch) < batchSize; done++ {
			r := rowFields(done)
			batch = append(batch, ictcore.Contact{
				Phone: r[0], FirstName: r[1], LastName: r[2], Email: r[3], Address: r[4],
				Custom1: r[5], Custom2: r[6], Custom3: r[7], Description: r[8],
				UserID: admin.ID, CreatedAt: now, UpdatedAt: now,
			})
		}
		return batch, nil
	}
	_, err = ictcore.ImportGroupContacts(ctx, db, g.ID, next)
	el := time.Since(start)
	if err != nil {
		return nil, err
	}
	if err := checkTotal(ctx, db, g.ID, rows); err != nil {
		return nil, err
	}
	return &importResult{Store: store, Mode: "direct", Rows: rows,
		Seconds: el.Seconds(), RowsPerSec: float64(rows) / el.Seconds(), PeakRSSMB: vmHWM(), SetupRSSMB: setup}, nil
}

func checkTotal(ctx context.Context, db *gorm.DB, groupID int64, rows int) error {
	g, err := ictcore.GetGroup(ctx, db, groupID)
	if err != nil {
		return err
	}
	if g.ContactTotal != int64(rows) {
		return fmt.Errorf("group %d has %d contacts, want %d", groupID, g.ContactTotal, rows)
	}
	return nil
}

// rowFields is generated row i, in CSV column order; the CSV file and the direct baseline share it.
func rowFields(i int) [9]string {
	n := strconv.Itoa(i)
	return [9]string{
		fmt.Sprintf("92333%07d", i), "First" + n, "Last" + n, "user" + n + "@example.com", n + " Main Street",
		"c1-" + n, "c2-" + n, "c3-" + n, "bench row " + n,
	}
}

// writeCSV writes n generated rows, every field quoted, no header (ICTCore's format).
func writeCSV(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	for i := range n {
		for j, v := range rowFields(i) {
			if j > 0 {
				w.WriteByte(',')
			}
			w.WriteByte('"')
			w.WriteString(v) // generated values hold no quote
			w.WriteByte('"')
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	// Flushed to disk now, so its write-back does not compete with the first measurement's writes.
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// apiClient speaks to the ICTCore API of a bench server.
type apiClient struct {
	base  string
	http  *http.Client
	token string
}

func (c *apiClient) login() error {
	var out struct {
		Token string `json:"token"`
	}
	body := fmt.Sprintf(`{"username":"admin","password":%q}`, adminPassword)
	if err := c.do("POST", "/ictcore/authenticate", "application/json", strings.NewReader(body), &out); err != nil {
		return fmt.Errorf("authenticate: %w", err)
	}
	c.token = out.Token
	return nil
}

func (c *apiClient) do(method, path, ct string, body io.Reader, out any) error {
	return c.doLen(method, path, ct, body, -1, out)
}

// doLen sends a request (size ≥ 0 sets Content-Length, as a file upload would) and decodes a 200 answer
// into out, or copies it when out is a *[]byte.
func (c *apiClient) doLen(method, path, ct string, body io.Reader, size int64, out any) error {
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return err
	}
	if size >= 0 {
		req.ContentLength = size
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = b // the exact bytes, trailing newline included
		return nil
	}
	return json.Unmarshal(b, out)
}

// vmHWM is this process's peak resident set size in MB, from /proc/self/status.
func vmHWM() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err != nil {
				return -1
			}
			return kb / 1024
		}
	}
	return -1
}

// redact keeps a URL's scheme and host, never a password.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Scheme + "://" + u.Host
}

// timePages measures list pages over the imported rows: the first page is the baseline, then a page near
// the end by offset and by keyset (after_contact_id), on /contacts and on the group's contacts.
func timePages(c *apiClient, groupID int64, rows int) ([]pageTiming, error) {
	deep := rows - rows/100 // 99% of the way in
	queries := []struct{ name, path string }{
		{"first page", "/ictcore/contacts?limit=100"},
		{"offset 99%", fmt.Sprintf("/ictcore/contacts?limit=100&offset=%d", deep)},
		{"keyset 99%", fmt.Sprintf("/ictcore/contacts?limit=100&after_contact_id=%d", deep)},
		{"group keyset 99%", fmt.Sprintf("/ictcore/groups/%d/contacts?limit=100&after_contact_id=%d", groupID, deep)},
		{"phone suffix filter", "/ictcore/contacts?limit=100&phone=0000042"},
	}
	var out []pageTiming
	for _, q := range queries {
		var ms []float64
		for i := 0; i < 11; i++ {
			var raw []byte
			start := time.Now()
			if err := c.do("GET", q.path, "", nil, &raw); err != nil {
				return nil, err
			}
			ms = append(ms, float64(time.Since(start).Microseconds())/1000)
		}
		sort.Float64s(ms)
		out = append(out, pageTiming{Name: q.name, Ms: ms[len(ms)/2]})
	}
	return out, nil
}
