package models_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"switchboard/apitest"
	"switchboard/models"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

func TestMigrateIsIdempotent(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		db := apitest.NewDB(t, kind) // migrated once already
		n, err := models.Migrate(context.Background(), db)
		if err != nil || n != 0 {
			t.Fatalf("second migrate applied %d: %v", n, err)
		}
	})
}

func TestSettingIsCreatedOnce(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		db := apitest.NewDB(t, kind)
		ctx := context.Background()
		calls := 0
		mk := func() (string, error) { calls++; return "v" + string(rune('0'+calls)), nil }
		a, err := models.GetOrCreateSetting(ctx, db, "k", mk)
		if err != nil {
			t.Fatal(err)
		}
		b, err := models.GetOrCreateSetting(ctx, db, "k", mk)
		if err != nil || a != b || calls != 1 {
			t.Fatalf("got %q then %q after %d calls: %v", a, b, calls, err)
		}
	})
}

func TestOpenRejectsUnknownScheme(t *testing.T) {
	t.Parallel()
	_, err := models.Open("mysql://root:secret@localhost/db")
	if err == nil {
		t.Fatal("mysql URL accepted")
	}
	if got := err.Error(); strings.Contains(got, "secret") {
		t.Fatalf("error leaks the password: %s", got)
	}
}

// TestSQLiteFileIsPrivate: the store file holds password hashes and the token secret.
func TestSQLiteFileIsPrivate(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sb.db")
	db, err := models.Open("sqlite:" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer models.Close(db)
	if _, err := models.Migrate(context.Background(), db); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal"} {
		st, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", name, st.Mode().Perm())
		}
	}
}
