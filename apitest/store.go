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

// NewDB answers a fresh, migrated store of the given kind, removed when the test ends: a SQLite file in
// the test's temp dir, or a database of its own on the Postgres server. Either is a copy of a template the
// test binary migrates once, so a test pays for a file or database copy, not for the migrations. Tests may
// call it in parallel.
func NewDB(t testing.TB, kind string) *gorm.DB {
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
			t.Fatal("apitest: a package that uses Postgres stores needs TestMain calling apitest.Main, which drops its template database")
		}
		tmpl, err := pgTemplate()
		if err != nil {
			t.Fatalf("postgres template: %v", err)
		}
		var drop func() error
		if dsn, drop, err = scratchdb.CopyDatabase(context.Background(), pgRoot(), tmpl, "sb_test_"); err != nil {
			t.Fatalf("postgres copy: %v", err)
		}
		// Registered before Close's cleanup, so it runs after it; FORCE ends whatever a test left open.
		t.Cleanup(func() {
			if err := drop(); err != nil {
				t.Errorf("drop test database: %v", err)
			}
		})
	default:
		t.Fatalf("unknown store kind %q", kind)
	}
	db, err := models.Open(dsn)
	if err != nil {
		t.Fatalf("open %s: %v", kind, err)
	}
	t.Cleanup(func() { _ = models.Close(db) })
	return db
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

// pg is the test binary's Postgres state: whether the server answers, and the migrated template database
// every test database is copied from, created on first use and dropped by Main.
var pg struct {
	main bool // Main is running: only then is the template dropped at the end

	reachOnce sync.Once
	reachErr  error

	tmplOnce sync.Once
	tmplURL  string
	tmplDrop func() error
	tmplErr  error
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

// pgTemplate answers the URL of the migrated template. Its error is not "unreachable": a migration that
// fails on Postgres fails the tests instead of skipping them.
func pgTemplate() (string, error) {
	pg.tmplOnce.Do(func() {
		ctx := context.Background()
		url, drop, err := scratchdb.CreateDatabase(ctx, pgRoot(), "sb_tmpl_")
		if err != nil {
			pg.tmplErr = err
			return
		}
		pg.tmplDrop = drop
		if err := migrateAndClose(ctx, url); err != nil {
			pg.tmplErr = err
			return
		}
		pg.tmplURL = url
	})
	return pg.tmplURL, pg.tmplErr
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

// Main runs a package's tests and drops its Postgres template database afterwards (each test's own
// database is dropped when the test ends). Use it from TestMain.
func Main(m *testing.M) int {
	pg.main = true
	code := m.Run()
	if pg.tmplDrop != nil {
		if err := pg.tmplDrop(); err != nil {
			fmt.Fprintln(os.Stderr, "apitest: drop template database:", err)
			if code == 0 {
				code = 1
			}
		}
	}
	return code
}

// EachKind runs fn as a subtest once per store kind (SQLite, and Postgres when it answers).
func EachKind(t *testing.T, fn func(t *testing.T, kind string)) {
	for _, kind := range Kinds(t) {
		t.Run(kind, func(t *testing.T) { fn(t, kind) })
	}
}
