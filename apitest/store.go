// Package apitest runs Switchboard end to end in tests: a fresh store per test (SQLite always, Postgres
// when it answers), the full HTTP stack built as production builds it, and every response checked against
// its contract with kin-openapi.
package apitest

import (
	"context"
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
	if _, err := pgDatabase(); err == nil {
		kinds = append(kinds, "postgres")
	} else if os.Getenv("REQUIRE_POSTGRES") == "1" {
		t.Fatalf("REQUIRE_POSTGRES=1 but Postgres is unreachable: %v", err)
	}
	return kinds
}

// NewDB answers a fresh, migrated store of the given kind, removed when the test ends: a SQLite file in
// the test's temp dir, or a schema with a random name in the run's Postgres database.
func NewDB(t testing.TB, kind string) *gorm.DB {
	t.Helper()
	var dsn string
	switch kind {
	case "sqlite":
		dsn = "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	case "postgres":
		if !pg.main {
			t.Fatal("apitest: a package that uses Postgres stores needs TestMain calling apitest.Main, which drops its database")
		}
		base, err := pgDatabase()
		if err != nil {
			t.Fatalf("postgres: %v", err)
		}
		var drop func() error
		if dsn, drop, err = scratchdb.CreateSchema(context.Background(), base, "t_"); err != nil {
			t.Fatalf("create schema: %v", err)
		}
		t.Cleanup(func() { _ = drop() })
	default:
		t.Fatalf("unknown store kind %q", kind)
	}
	db, err := models.Open(dsn)
	if err != nil {
		t.Fatalf("open %s: %v", kind, err)
	}
	t.Cleanup(func() { _ = models.Close(db) })
	if _, err := models.Migrate(context.Background(), db); err != nil {
		t.Fatalf("migrate %s: %v", kind, err)
	}
	return db
}

// pg is the test binary's own Postgres database, created on first use and dropped by Main.
var pg struct {
	main bool // Main is running: only then is the database dropped at the end
	once sync.Once
	url  string
	drop func() error
	err  error
}

func pgDatabase() (string, error) {
	pg.once.Do(func() {
		root := os.Getenv("TEST_DATABASE_URL")
		if root == "" {
			root = DefaultPostgresURL
		}
		pg.url, pg.drop, pg.err = scratchdb.CreateDatabase(context.Background(), root, "sb_test_")
	})
	return pg.url, pg.err
}

// Main runs a package's tests and drops its Postgres database afterwards. Use it from TestMain.
func Main(m *testing.M) int {
	pg.main = true
	code := m.Run()
	if pg.drop != nil {
		if err := pg.drop(); err != nil {
			fmt.Fprintln(os.Stderr, "apitest: drop test database:", err)
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
