package scratchdb

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
)

func rootURL(t *testing.T) string {
	t.Helper()
	root := os.Getenv("TEST_DATABASE_URL")
	if root == "" {
		root = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	if err := Ping(context.Background(), root); err != nil {
		if os.Getenv("REQUIRE_POSTGRES") == "1" {
			t.Fatalf("REQUIRE_POSTGRES=1 but Postgres is unreachable: %v", err)
		}
		t.Skipf("Postgres is unreachable: %v", err)
	}
	return root
}

// TestCopyDatabase: parallel tests copy one template at the same moment; each copy holds the template's
// tables, and every database is gone once dropped.
func TestCopyDatabase(t *testing.T) {
	root := rootURL(t)
	ctx := context.Background()
	tmplURL, dropTmpl, err := CreateDatabase(ctx, root, "sb_test_")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := dropTmpl(); err != nil {
			t.Error(err)
		}
	}()
	tmpl, err := sql.Open("pgx", tmplURL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tmpl.Exec("CREATE TABLE marker (v int); INSERT INTO marker VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	tmpl.Close() // Postgres copies only a database nobody is connected to

	const copies = 4
	urls := make([]string, copies)
	var wg sync.WaitGroup
	for i := range copies {
		wg.Go(func() {
			url, drop, err := CopyDatabase(ctx, root, tmplURL, "sb_test_")
			if err != nil {
				t.Errorf("copy %d: %v", i, err)
				return
			}
			defer func() {
				if err := drop(); err != nil {
					t.Errorf("drop copy %d: %v", i, err)
				}
			}()
			urls[i] = url
			db, err := sql.Open("pgx", url)
			if err != nil {
				t.Error(err)
				return
			}
			defer db.Close()
			var v int
			if err := db.QueryRow("SELECT v FROM marker").Scan(&v); err != nil || v != 42 {
				t.Errorf("copy %d: marker %d, %v", i, v, err)
			}
		})
	}
	wg.Wait()

	admin, err := admin(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, url := range urls {
		name, err := databaseName(url)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		if err := admin.QueryRow("SELECT count(*) FROM pg_database WHERE datname = $1", name).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s still exists (%d, %v)", name, n, err)
		}
	}
}

func TestPrefixIsChecked(t *testing.T) {
	_, _, err := CopyDatabase(context.Background(), "postgres://127.0.0.1:1/postgres", "postgres://127.0.0.1:1/tmpl", "Bad-Prefix")
	if err == nil || !strings.Contains(err.Error(), "prefix") {
		t.Fatalf("bad prefix: %v", err)
	}
	if _, err := databaseName("postgres://h/x;drop"); err == nil {
		t.Fatal("database name with ; accepted")
	}
}

// TestReset: a used copy comes back to the template's state; one whose schema or seeded rows changed is
// reported as diverged.
func TestReset(t *testing.T) {
	root := rootURL(t)
	ctx := context.Background()
	tmplURL, dropTmpl, err := CreateDatabase(ctx, root, "sb_test_")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := dropTmpl(); err != nil {
			t.Error(err)
		}
	}()
	tmpl, err := sql.Open("pgx", tmplURL)
	if err != nil {
		t.Fatal(err)
	}
	// b_child references a_parent, which sorts first: the DELETEs must follow the foreign key, not the names.
	_, err = tmpl.Exec(`CREATE TABLE a_parent (id serial PRIMARY KEY);
		CREATE TABLE b_child (id serial PRIMARY KEY, parent_id int NOT NULL REFERENCES a_parent);
		CREATE TABLE seeded (v int); INSERT INTO seeded VALUES (1)`)
	tmpl.Close()
	if err != nil {
		t.Fatal(err)
	}
	reset, err := NewReset(ctx, tmplURL)
	if err != nil {
		t.Fatal(err)
	}
	fresh := func() string {
		t.Helper()
		url, drop, err := CopyDatabase(ctx, root, tmplURL, "sb_test_")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := drop(); err != nil {
				t.Error(err)
			}
		})
		return url
	}
	use := func(url, sqlText string) {
		t.Helper()
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec(sqlText); err != nil {
			t.Fatal(err)
		}
	}
	url := fresh()
	use(url, `INSERT INTO a_parent DEFAULT VALUES; INSERT INTO a_parent DEFAULT VALUES; INSERT INTO b_child (parent_id) VALUES (2)`)
	if err := reset.Apply(ctx, url); err != nil {
		t.Fatalf("reset after inserts: %v", err)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	var parents, children, seeded, next int
	err = db.QueryRow(`SELECT (SELECT count(*) FROM a_parent), (SELECT count(*) FROM b_child), (SELECT count(*) FROM seeded),
		(SELECT nextval('a_parent_id_seq'))`).Scan(&parents, &children, &seeded, &next)
	db.Close()
	if err != nil || parents != 0 || children != 0 || seeded != 1 || next != 1 {
		t.Fatalf("after reset: parents %d children %d seeded %d next id %d (%v), want 0 0 1 1", parents, children, seeded, next, err)
	}

	// A copy whose schema or seeded rows changed cannot be reset: each change on a copy of its own.
	for _, change := range []string{"CREATE TABLE extra (v int)", "ALTER TABLE a_parent ADD COLUMN x int", "CREATE INDEX ON a_parent (id)", "DELETE FROM seeded"} {
		url := fresh()
		use(url, change)
		if err := reset.Apply(ctx, url); !errors.Is(err, ErrDiverged) {
			t.Errorf("after %q: %v, want ErrDiverged", change, err)
		}
	}
}
