// Package apitest runs Switchboard end to end in tests: a fresh store per test (SQLite always, Postgres
// when it answers), the full HTTP stack built as production builds it, and every response checked against
// its contract with kin-openapi.
package apitest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/models"
	"switchboard/scratchdb"
)

// DefaultPostgresURL is the development machine's Postgres (DESIGN section 9).
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

func init() { auth.HashCost = bcrypt.MinCost } // tests hash many passwords

// Kinds answers the stores every test runs on: "sqlite" always, "postgres" when available.
func Kinds(t testing.TB) []string {
	kinds := []string{"sqlite"}
	if err := pgReachable(); err == nil {
		kinds = append(kinds, "postgres")
	} else if os.Getenv("REQUIRE_POSTGRES") == "1" {
		t.Fatalf("REQUIRE_POSTGRES=1 but Postgres is unreachable: %v", err)
	}
	return kinds
}

// NewDB answers a fresh, migrated store of the given kind for one test: a SQLite file in the test's temp
// dir, or a database on the Postgres server that no other test uses meanwhile. Either starts as a copy of a
// template the test binary migrates once, so a test pays for a file copy, or for resetting a database a
// finished test used (a new copy of the template when none is free), not for the migrations. Tests may call
// it in parallel.
func NewDB(t testing.TB, kind string) *gorm.DB {
	t.Helper()
	return openStore(t, kind, newStoreURL(t, kind))
}

// newStoreURL answers the URL of a fresh migrated store of the given kind, dropped when the test ends.
func newStoreURL(t testing.TB, kind string) string {
	t.Helper()
	var dsn string
	switch kind {
	case "sqlite":
		image, err := sqliteTemplate()
		if err != nil {
			t.Fatalf("sqlite template: %v", err)
		}
		path := filepath.Join(t.TempDir(), "test.db")
		if err := os.WriteFile(path, image, 0o600); err != nil {
			t.Fatalf("sqlite copy: %v", err)
		}
		dsn = "sqlite:" + path
	case "postgres":
		if !pg.main {
			t.Fatal("apitest: a package that uses Postgres stores needs TestMain calling apitest.Main, which drops its databases")
		}
		d, err := pg.take()
		if err != nil {
			t.Fatalf("postgres: %v", err)
		}
		dsn = d.url
		// Registered before Close's cleanup, so it runs after it, once the test's connections are gone.
		t.Cleanup(func() {
			if err := pg.give(d); err != nil {
				t.Errorf("drop test database: %v", err)
			}
		})
	default:
		t.Fatalf("unknown store kind %q", kind)
	}
	return dsn
}

// openStore opens the store at dsn on a connection pool of its own, closed when the test ends.
func openStore(t testing.TB, kind, dsn string) *gorm.DB {
	t.Helper()
	db, err := models.Open(dsn)
	if err != nil {
		t.Fatalf("open %s: %v", kind, err)
	}
	t.Cleanup(func() { _ = models.Close(db) })
	return db
}

// EmptyStoreURL answers the DATABASE_URL of a fresh store of the given kind with nothing migrated, for
// tests of Migrate itself and of whole processes: a SQLite file in the test's temp dir, or a database of
// its own on the Postgres server, dropped when the test ends.
func EmptyStoreURL(t testing.TB, kind string) string {
	t.Helper()
	switch kind {
	case "sqlite":
		return "sqlite:" + filepath.Join(t.TempDir(), "empty.db")
	case "postgres":
		url, drop, err := scratchdb.CreateDatabase(context.Background(), pgRoot(), "sb_test_")
		if err != nil {
			t.Fatalf("postgres: %v", err)
		}
		t.Cleanup(func() {
			if err := drop(); err != nil {
				t.Errorf("drop test database: %v", err)
			}
		})
		return url
	}
	t.Fatalf("unknown store kind %q", kind)
	return ""
}

// sqliteTmpl is the bytes of a migrated SQLite store, built on first use. Held in memory, so there is no
// template file to remove at the end, and packages without Main get it too.
var sqliteTmpl struct {
	once  sync.Once
	image []byte
	err   error
}

func sqliteTemplate() ([]byte, error) {
	sqliteTmpl.once.Do(func() { sqliteTmpl.image, sqliteTmpl.err = buildSQLiteTemplate() })
	return sqliteTmpl.image, sqliteTmpl.err
}

func buildSQLiteTemplate() (image []byte, err error) {
	dir, err := os.MkdirTemp("", "apitest-sqlite-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "template.db")
	db, err := models.Open("sqlite:" + path)
	if err != nil {
		return nil, err
	}
	closed := false
	defer func() {
		if !closed {
			_ = models.Close(db)
		}
	}()
	ctx := context.Background()
	if _, err := models.Migrate(ctx, db); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	// Move every page from the WAL into the main file and empty the WAL, so the main file alone is the
	// whole migrated store and can be copied.
	var busy, logFrames, checkpointed int
	if err := db.WithContext(ctx).Raw("PRAGMA wal_checkpoint(TRUNCATE)").Row().Scan(&busy, &logFrames, &checkpointed); err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	if busy != 0 {
		return nil, errors.New("checkpoint: a reader kept the WAL busy")
	}
	closed = true
	if err := models.Close(db); err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path + "-wal"); err == nil && fi.Size() > 0 {
		return nil, fmt.Errorf("checkpoint left %d bytes of WAL", fi.Size())
	}
	return os.ReadFile(path)
}

// pg is the test binary's Postgres state: whether the server answers; the template database, migrated
// on first use; and the copies of it that tests have handed back, reset, for the next ones to take.
var pg pgState

type pgState struct {
	main bool // Main is running: only then are the databases dropped at the end

	reachOnce sync.Once
	reachErr  error

	tmplOnce sync.Once
	tmplURL  string
	tmplDrop func() error
	reset    *scratchdb.Reset // nil: copies are dropped after one test
	tmplErr  error

	mu   sync.Mutex
	free []pgCopy
}

type pgCopy struct {
	url  string
	drop func() error
}

func pgRoot() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

func pgReachable() error {
	pg.reachOnce.Do(func() { pg.reachErr = scratchdb.Ping(context.Background(), pgRoot()) })
	return pg.reachErr
}

// template creates and migrates the template once. Its error is not "unreachable": a migration that
// fails on Postgres fails the tests instead of skipping them.
func (p *pgState) template() (string, error) {
	p.tmplOnce.Do(func() {
		ctx := context.Background()
		url, drop, err := scratchdb.CreateDatabase(ctx, pgRoot(), "sb_tmpl_")
		if err != nil {
			p.tmplErr = err
			return
		}
		p.tmplDrop = drop
		if err := migrateAndClose(ctx, url); err != nil {
			p.tmplErr = err
			return
		}
		// Without a Reset (foreign keys in a cycle) every test copies the template afresh: slower, not wrong.
		p.reset, _ = scratchdb.NewReset(ctx, url)
		p.tmplURL = url
	})
	return p.tmplURL, p.tmplErr
}

// take answers a database in the template's state, used by no other test: one handed back, or a new copy.
// Copies are reused because making and dropping one costs more than migrating (PG15: ~150 ms a copy, and
// each DROP DATABASE forces a checkpoint), while resetting one costs a few milliseconds.
func (p *pgState) take() (pgCopy, error) {
	tmpl, err := p.template()
	if err != nil {
		return pgCopy{}, fmt.Errorf("template: %w", err)
	}
	p.mu.Lock()
	if n := len(p.free); n > 0 {
		d := p.free[n-1]
		p.free = p.free[:n-1]
		p.mu.Unlock()
		return d, nil
	}
	p.mu.Unlock()
	url, drop, err := scratchdb.CopyDatabase(context.Background(), pgRoot(), tmpl, "sb_test_")
	if err != nil {
		return pgCopy{}, fmt.Errorf("copy template: %w", err)
	}
	return pgCopy{url, drop}, nil
}

// give takes back a test's database once its connections are closed: reset to the template's state for
// the next test, or dropped (WITH FORCE) when it cannot be.
func (p *pgState) give(d pgCopy) error {
	if p.reset != nil && p.reset.Apply(context.Background(), d.url) == nil {
		p.mu.Lock()
		p.free = append(p.free, d)
		p.mu.Unlock()
		return nil
	}
	return d.drop()
}

// migrateAndClose migrates the database at url and closes every connection to it: Postgres copies only
// a database nobody is connected to.
func migrateAndClose(ctx context.Context, url string) error {
	db, err := models.Open(url)
	if err != nil {
		return err
	}
	_, err = models.Migrate(ctx, db)
	if cerr := models.Close(db); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return nil
}

// Main runs a package's tests, then drops its Postgres databases: the copies tests handed back and the
// template. Use it from TestMain.
func Main(m *testing.M) int {
	pg.main = true
	code := m.Run()
	drops := make([]func() error, 0, len(pg.free)+1)
	for _, d := range pg.free {
		drops = append(drops, d.drop)
	}
	if pg.tmplDrop != nil {
		drops = append(drops, pg.tmplDrop)
	}
	// At once: each DROP DATABASE waits for a checkpoint, and concurrent ones can share it.
	errs := make([]error, len(drops))
	var wg sync.WaitGroup
	for i, drop := range drops {
		wg.Go(func() { errs[i] = drop() })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintln(os.Stderr, "apitest: drop test databases:", err)
		code = max(code, 1)
	}
	return code
}

// EachKind runs fn as a subtest once per store kind (SQLite, and Postgres when it answers).
func EachKind(t *testing.T, fn func(t *testing.T, kind string)) {
	for _, kind := range Kinds(t) {
		// Each kind has its own store, so the kinds run side by side.
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			fn(t, kind)
		})
	}
}
