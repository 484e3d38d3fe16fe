// Package apitest runs Switchboard end to end in tests: a fresh store per test (SQLite always, Postgres
// when it answers), the full HTTP stack built as production builds it, and every response checked against
// its contract with kin-openapi.
package apitest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver for creating and dropping test databases
	"golang.org/x/crypto/bcrypt"
	"gorm.io/gorm"

	"switchboard/auth"
	"switchboard/models"
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

// NewDB answers a fresh, migrated store of the given kind, removed when the test ends.
func NewDB(t testing.TB, kind string) *gorm.DB {
	t.Helper()
	var dsn string
	switch kind {
	case "sqlite":
		dsn = "sqlite:" + filepath.Join(t.TempDir(), "test.db")
	case "postgres":
		base, err := pgDatabase()
		if err != nil {
			t.Fatalf("postgres: %v", err)
		}
		schema := "t_" + randomHex(6)
		if _, err := pg.admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
			t.Fatalf("create schema: %v", err)
		}
		t.Cleanup(func() { _, _ = pg.admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
		dsn = withParam(base, "search_path", schema)
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
	once  sync.Once
	url   string // the test database
	admin *sql.DB
	err   error
	name  string
	root  string // the server's maintenance database, to drop ours from
}

func pgDatabase() (string, error) {
	pg.once.Do(func() {
		root := os.Getenv("TEST_DATABASE_URL")
		if root == "" {
			root = DefaultPostgresURL
		}
		pg.root = root
		rootDB, err := sql.Open("pgx", root)
		if err != nil {
			pg.err = err
			return
		}
		defer rootDB.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		if err := rootDB.PingContext(ctx); err != nil {
			pg.err = err
			return
		}
		pg.name = "sb_test_" + randomHex(6)
		if _, err := rootDB.Exec(`CREATE DATABASE ` + pg.name); err != nil {
			pg.err = err
			return
		}
		pg.url = withDatabase(root, pg.name)
		pg.admin, pg.err = sql.Open("pgx", pg.url)
	})
	if pg.err != nil {
		return "", pg.err
	}
	return pg.url, nil
}

// Main runs a package's tests and drops its Postgres database afterwards. Use it from TestMain.
func Main(m *testing.M) int {
	code := m.Run()
	if pg.name != "" {
		if pg.admin != nil {
			_ = pg.admin.Close()
		}
		if rootDB, err := sql.Open("pgx", pg.root); err == nil {
			if _, err := rootDB.Exec(`DROP DATABASE IF EXISTS ` + pg.name + ` WITH (FORCE)`); err != nil {
				fmt.Fprintln(os.Stderr, "apitest: drop test database:", err)
			}
			_ = rootDB.Close()
		}
	}
	return code
}

func withDatabase(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return raw
	}
	u.Path = "/" + name
	return u.String()
}

func withParam(raw, k, v string) string {
	sep := "?"
	if strings.Contains(raw, "?") {
		sep = "&"
	}
	return raw + sep + k + "=" + url.QueryEscape(v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
