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
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
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
const httpRounds = 8

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
	PeakRSSMB   float64      // VmHWM at the end (copy: psql's own peak RSS)
	LinkSeconds float64      `json:",omitempty"` // copy: linking the copied rows to a group afterwards, in SQL
	SetupRSSMB  float64      // VmHWM before the import started
	Pages       []pageTiming `json:",omitempty"` // http mode: list latency over the imported rows
	Notes       []string     `json:",omitempty"` // what a check found wrong (headers, counts)
}

// pageTiming is the median latency of one list request, repeated, over the imported rows.
type pageTiming struct {
	Name string
	Ms   float64
}

// store is a fresh, migrated store of one child.
type store struct {
	kind string
	url  string // models.Open's URL (Postgres: the bench database with search_path set to the schema)
	db   *gorm.DB
}

// child runs one measurement and prints its result as one JSON line on stdout.
func child(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "bench -child: want http, profile, import, writers, sends, campaign, pacing, prepare, events, sockets, collect or share")
		return 2
	}
	kind := args[0]
	if kind == "share" { // a node on the parent's store, not a store of its own
		return shareNode(args[1:])
	}
	if kind == "sockets-client" { // the clients of the sockets part, no store
		return socketsClient(args[1:])
	}
	fs := flag.NewFlagSet("bench -child "+kind, flag.ContinueOnError)
	kindOfStore := fs.String("store", "sqlite", "sqlite or postgres")
	dsn := fs.String("dsn", "", "bench database URL (postgres)")
	tmp := fs.String("tmp", os.TempDir(), "directory for SQLite files")
	requests := fs.Int("requests", 20000, "")
	warmup := fs.Int("warmup", 2000, "")
	workers := fs.Int("workers", 8, "")
	rows := fs.Int("rows", 0, "")
	conns := fs.Int("conns", 0, "collect: operator WebSockets")
	mode := fs.String("mode", "http", "http, direct or copy")
	file := fs.String("file", "", "CSV file (import, writers)")
	secs := fs.Float64("secs", 5, "profile: seconds per handler; writers: seconds of each idle phase")
	profileDir := fs.String("profile-dir", os.TempDir(), "")
	if err := fs.Parse(args[1:]); err != nil {
		return 2
	}
	ctx := context.Background()
	st, cleanup, err := openStore(ctx, *kindOfStore, *dsn, *tmp)
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench -child %s: store %s: %v\n", kind, *kindOfStore, err)
		return 1
	}
	defer cleanup()
	var out any
	switch kind {
	case "http":
		out, err = benchHTTP(ctx, st, *requests, *warmup, *workers)
	case "profile":
		out, err = benchProfile(ctx, st, *warmup, *workers, time.Duration(*secs*float64(time.Second)), *profileDir)
	case "import":
		switch *mode {
		case "direct":
			out, err = benchDirect(ctx, st, *rows)
		case "copy":
			out, err = benchCopy(ctx, st, *rows, *file)
		default:
			out, err = benchImport(ctx, st, *rows, *file)
		}
	case "writers":
		out, err = benchWriters(ctx, st, *rows, *file, *workers, time.Duration(*secs*float64(time.Second)))
	case "pacing":
		out, err = benchPacing(ctx, st)
	case "events":
		out, err = benchEvents(ctx, st, *rows, *workers, *mode)
	case "sockets":
		out, err = benchSockets(ctx, st, *mode, *rows)
	case "prepare":
		out, err = benchPrepare(ctx, st, *rows)
	case "collect":
		out, err = benchCollect(ctx, st, *rows, *conns, *requests, *warmup, *workers)
	case "campaign", "sends":
		// BENCH_CPUPROFILE=FILE profiles the child (a look inside the figure; the bench prints none).
		if f := os.Getenv("BENCH_CPUPROFILE"); f != "" {
			stop, perr := startCPUProfile(f + "-" + kind + "-" + st.kind)
			if perr != nil {
				err = perr
				break
			}
			defer stop()
		}
		if kind == "campaign" {
			out, err = benchCampaign(ctx, st, *rows)
		} else {
			out, err = benchSends(ctx, st, *rows, *workers)
		}
	default:
		err = fmt.Errorf("unknown child %q", kind)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "bench -child %s %s: %v\n", kind, *kindOfStore, err)
		return 1
	}
	b, _ := json.Marshal(out)
	fmt.Println(string(b))
	return 0
}

// openStore answers a fresh, migrated store: a SQLite file under tmp, or a schema of its own in the
// bench database, removed by cleanup.
func openStore(ctx context.Context, kind, dsn, tmp string) (*store, func(), error) {
	var (
		u     string
		after func()
	)
	switch kind {
	case "sqlite":
		dir, err := os.MkdirTemp(tmp, "sqlite-")
		if err != nil {
			return nil, nil, err
		}
		u, after = "sqlite:"+filepath.Join(dir, "bench.db"), func() { os.RemoveAll(dir) }
	case "postgres":
		schemaURL, drop, err := scratchdb.CreateSchema(ctx, dsn, "b_")
		if err != nil {
			return nil, nil, err
		}
		u, after = schemaURL, func() { _ = drop() }
	default:
		return nil, nil, fmt.Errorf("unknown store %q", kind)
	}
	db, err := models.Open(u)
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
	return &store{kind: kind, url: u, db: db}, cleanup, nil
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

// httpPair is the full server with one contact in it, and a bare echo server answering that contact's
// exact bytes on the same path.
type httpPair struct {
	full, bare *httptest.Server
	path       string
	token      string
	body       []byte
}

func (p *httpPair) close() { p.full.Close(); p.bare.Close() }

func newHTTPPair(ctx context.Context, db *gorm.DB) (*httpPair, error) {
	full, err := fullServer(ctx, db)
	if err != nil {
		return nil, err
	}
	c := &apiClient{base: full.URL, http: &http.Client{}}
	if err := c.login(); err != nil {
		full.Close()
		return nil, err
	}
	var created struct {
		ContactID int64 `json:"contact_id"`
	}
	if err := c.do("POST", "/ictcore/contacts", "application/json",
		strings.NewReader(`{"first_name":"Ada","last_name":"Lovelace","phone":"923330000001","email":"ada@example.com"}`), &created); err != nil {
		full.Close()
		return nil, err
	}
	path := "/ictcore/contacts/" + strconv.FormatInt(created.ContactID, 10)
	// The bare handler answers exactly what the full one does for this contact.
	var body []byte
	if err := c.do("GET", path, "", nil, &body); err != nil {
		full.Close()
		return nil, err
	}
	c.http.CloseIdleConnections()
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/ictcore/contacts/:contact_id", bareHandler(body))
	return &httpPair{full: full, bare: httptest.NewServer(e), path: path, token: c.token, body: body}, nil
}

// bareHandler is the baseline: an echo route that answers fixed bytes (its own name, so a profile tells
// it apart from the load generator, which lives in package main too).
func bareHandler(body []byte) echo.HandlerFunc {
	return func(c echo.Context) error { return c.JSONBlob(http.StatusOK, body) }
}

func benchHTTP(ctx context.Context, st *store, requests, warmup, workers int) (*httpResult, error) {
	p, err := newHTTPPair(ctx, st.db)
	if err != nil {
		return nil, err
	}
	defer p.close()
	bl, fl := newLoader(p.bare.URL+p.path, p.token, workers), newLoader(p.full.URL+p.path, p.token, workers)
	defer bl.close()
	defer fl.close()
	bareStats, fullStats, err := compare(bl, fl, warmup, requests, httpRounds)
	if err != nil {
		return nil, err
	}
	return &httpResult{Store: st.kind, BodyBytes: len(p.body), Bare: bareStats, Full: fullStats}, nil
}

// serveWithGroup starts the full stack on the store, logs in as the admin and creates a group to import
// into; the caller closes the server.
func serveWithGroup(ctx context.Context, st *store, group string) (*httptest.Server, *apiClient, int64, error) {
	srv, err := fullServer(ctx, st.db)
	if err != nil {
		return nil, nil, 0, err
	}
	c := &apiClient{base: srv.URL, http: &http.Client{}}
	if err := c.login(); err != nil {
		srv.Close()
		return nil, nil, 0, err
	}
	groupID, err := c.createGroup(group)
	if err != nil {
		srv.Close()
		return nil, nil, 0, err
	}
	return srv, c, groupID, nil
}

// benchImport posts the CSV file through the full stack; the body streams from disk.
func benchImport(ctx context.Context, st *store, rows int, file string) (*importResult, error) {
	srv, c, groupID, err := serveWithGroup(ctx, st, "bench")
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	setup := vmHWM()
	runtime.GC()

	start := time.Now()
	size, err := c.importFile(groupID, file, rows)
	if err != nil {
		return nil, err
	}
	el := time.Since(start)
	if err := checkTotal(ctx, st.db, groupID, rows); err != nil {
		return nil, err
	}
	peak := vmHWM()
	pages, notes, err := timePages(c, groupID, rows)
	if err != nil {
		return nil, err
	}
	return &importResult{Store: st.kind, Mode: "http", Rows: rows, FileMB: float64(size) / (1 << 20),
		Seconds: el.Seconds(), RowsPerSec: float64(rows) / el.Seconds(), PeakRSSMB: peak, SetupRSSMB: setup, Pages: pages, Notes: notes}, nil
}

// benchDirect is the store path of the import without HTTP, CSV or validation: the same rows, generated
// batch by batch (never all in memory), through ictcore.ImportGroupContacts as contactcsv calls it.
func benchDirect(ctx context.Context, st *store, rows int) (*importResult, error) {
	db := st.db
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
	return &importResult{Store: st.kind, Mode: "direct", Rows: rows,
		Seconds: el.Seconds(), RowsPerSec: float64(rows) / el.Seconds(), PeakRSSMB: vmHWM(), SetupRSSMB: setup}, nil
}

// copyColumns is the CSV file's column order, as psql's \copy is told it.
const copyColumns = "phone,first_name,last_name,email,address,custom1,custom2,custom3,description"

// benchCopy is the store's own limit for the import (Postgres): psql's \copy of the same CSV file into the
// contacts table of a freshly migrated schema, so the same table with the same indexes. The file has nine
// columns; the table's NOT NULL columns without a default get one for this table only (user_id: the
// admin, created_at and updated_at: now, constants as the import uses), and phone_rev, which the import
// fills with the phone reversed and whose index every row updates, becomes a stored generated column
// reverse(phone) with the same index, so the baseline pays the same index maintenance, not a cheaper one
// on a constant. (A trigger would do the same at a higher cost per row, a staging table with a second
// pass at twice the writes: both would flatter the import.) Links to a group are not part of the baseline:
// they are the import's extra work, timed apart (LinkSeconds) for information.
func benchCopy(ctx context.Context, st *store, rows int, file string) (*importResult, error) {
	if st.kind != "postgres" {
		return nil, fmt.Errorf("copy: Postgres only")
	}
	db := st.db.WithContext(ctx)
	admin, err := identity.FindUserByLogin(ctx, db, "admin")
	if err != nil {
		return nil, err
	}
	before, err := contactIndexes(db)
	if err != nil {
		return nil, err
	}
	now := time.Now().Unix()
	for _, q := range []string{
		fmt.Sprintf("ALTER TABLE contacts ALTER COLUMN user_id SET DEFAULT %d", admin.ID),
		fmt.Sprintf("ALTER TABLE contacts ALTER COLUMN created_at SET DEFAULT %d", now),
		fmt.Sprintf("ALTER TABLE contacts ALTER COLUMN updated_at SET DEFAULT %d", now),
		"ALTER TABLE contacts DROP COLUMN phone_rev", // drops its index too
		"ALTER TABLE contacts ADD COLUMN phone_rev varchar(32) NOT NULL GENERATED ALWAYS AS (reverse(phone)) STORED",
		`CREATE INDEX idx_contacts_phone_rev ON contacts (phone_rev COLLATE "C")`,
	} {
		if err := db.Exec(q).Error; err != nil {
			return nil, fmt.Errorf("copy: %s: %w", q, err)
		}
	}
	after, err := contactIndexes(db)
	if err != nil {
		return nil, err
	}
	if strings.Join(before, "\n") != strings.Join(after, "\n") {
		return nil, fmt.Errorf("copy: the baseline table's indexes differ from the migrated ones:\n%s\nagainst\n%s",
			strings.Join(after, "\n"), strings.Join(before, "\n"))
	}
	connURL, schema, err := psqlURL(st.url)
	if err != nil {
		return nil, err
	}
	fi, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	copyCmd := fmt.Sprintf(`\copy contacts(%s) FROM '%s' WITH (FORMAT csv)`, copyColumns, strings.ReplaceAll(file, "'", "''"))
	cmd := exec.CommandContext(ctx, "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", connURL, "-c", copyCmd)
	cmd.Env = append(os.Environ(), "PGOPTIONS=-c search_path="+schema)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("psql \\copy: %w: %s", err, bytes.TrimSpace(out.Bytes()))
	}
	el := time.Since(start)
	var n int64
	if err := db.Raw("SELECT count(*) FROM contacts").Scan(&n).Error; err != nil {
		return nil, err
	}
	if n != int64(rows) {
		return nil, fmt.Errorf("psql \\copy: %d rows in contacts, want %d", n, rows)
	}
	var rss float64
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = float64(ru.Maxrss) / 1024
	}
	// For information: the group links the import also writes (one row per contact, in the same
	// table and indexes), added in SQL alone, so the import can be compared with the same work done in SQL.
	g := &ictcore.Group{Name: "bench", UserID: admin.ID}
	if err := ictcore.CreateGroup(ctx, st.db, g); err != nil {
		return nil, err
	}
	start = time.Now()
	if err := db.Exec("INSERT INTO contact_links (group_id, contact_id) SELECT ?, contact_id FROM contacts", g.ID).Error; err != nil {
		return nil, fmt.Errorf("copy: links: %w", err)
	}
	links := time.Since(start)
	return &importResult{Store: st.kind, Mode: "copy", Rows: rows, FileMB: float64(fi.Size()) / (1 << 20),
		Seconds: el.Seconds(), RowsPerSec: float64(rows) / el.Seconds(), PeakRSSMB: rss, LinkSeconds: links.Seconds()}, nil
}

// contactIndexes lists the definitions of the contacts table's indexes in the current schema.
func contactIndexes(db *gorm.DB) ([]string, error) {
	var defs []string
	err := db.Raw(`SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'contacts' ORDER BY indexname`).Scan(&defs).Error
	return defs, err
}

// psqlURL turns the store's URL (pgx's search_path parameter, which libpq refuses) into one psql accepts
// and the schema to put in PGOPTIONS.
func psqlURL(raw string) (string, string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", err
	}
	q := u.Query()
	schema := q.Get("search_path")
	if schema == "" {
		return "", "", fmt.Errorf("copy: the store's URL names no search_path")
	}
	q.Del("search_path")
	u.RawQuery = q.Encode()
	return u.String(), schema, nil
}

func checkTotal(ctx context.Context, db *gorm.DB, groupID int64, rows int) error {
	g, err := ictcore.GetGroup(ctx, db, ictcore.AnyOwner, groupID)
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
	base   string
	http   *http.Client
	token  string
	header http.Header // sent with every request (Collect!'s x-collect-database)
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

func (c *apiClient) createGroup(name string) (int64, error) {
	var g struct {
		GroupID int64 `json:"group_id"`
	}
	err := c.do("POST", "/ictcore/groups", "application/json", strings.NewReader(fmt.Sprintf(`{"name":%q}`, name)), &g)
	return g.GroupID, err
}

// importFile posts a CSV file to the group, streamed from disk with its Content-Length as a browser
// upload has, checks the report, and answers the file's size.
func (c *apiClient) importFile(groupID int64, file string, rows int) (int64, error) {
	f, err := os.Open(file)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	var rep struct {
		Imported int64 `json:"imported"`
		Rejected int64 `json:"rejected"`
	}
	if err := c.doLen("POST", fmt.Sprintf("/ictcore/groups/%d/csv", groupID), "text/csv", f, fi.Size(), &rep); err != nil {
		return 0, err
	}
	if rep.Imported != int64(rows) || rep.Rejected != 0 {
		return 0, fmt.Errorf("import report: imported %d, rejected %d, want %d and 0", rep.Imported, rep.Rejected, rows)
	}
	return fi.Size(), nil
}

func (c *apiClient) do(method, path, ct string, body io.Reader, out any) error {
	return c.doLen(method, path, ct, body, -1, out)
}

// doLen sends a request (size ≥ 0 sets Content-Length, as a file upload would) and decodes a 200 answer
// into out, or copies it when out is a *[]byte.
func (c *apiClient) doLen(method, path, ct string, body io.Reader, size int64, out any) error {
	_, err := c.send(method, path, ct, body, size, out)
	return err
}

// send is doLen that also answers the response's headers.
func (c *apiClient) send(method, path, ct string, body io.Reader, size int64, out any) (http.Header, error) {
	req, err := http.NewRequest(method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if size >= 0 {
		req.ContentLength = size
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for k, v := range c.header {
		req.Header[k] = v
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.Header, fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(b))
	}
	if raw, ok := out.(*[]byte); ok {
		*raw = b // the exact bytes, trailing newline included
		return resp.Header, nil
	}
	return resp.Header, json.Unmarshal(b, out)
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
