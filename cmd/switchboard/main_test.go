package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"switchboard/auth"
	"switchboard/models"
	"switchboard/models/collect"
	"switchboard/models/platform"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestVersionAndUnknownCommand(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), []string{"switchboard", "version"}, env(nil), &out); err != nil || strings.TrimSpace(out.String()) != version {
		t.Fatalf("version: %v %q", err, out.String())
	}
	if err := run(context.Background(), []string{"switchboard", "frobnicate"}, env(nil), &out); err == nil {
		t.Fatal("unknown command accepted")
	}
}

// TestServeAndShutdown starts the real server on the embedded store, waits until it answers, then cancels
// its context as SIGTERM would and expects a clean return.
func TestServeAndShutdown(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	dir := t.TempDir()
	vars := map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(dir, "sb.db"), "BLOB_DIR": filepath.Join(dir, "blobs"), "LISTEN_ADDR": addr}

	var out bytes.Buffer
	if err := run(context.Background(), []string{"switchboard", "migrate"}, env(vars), &out); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var serveOut bytes.Buffer
	go func() { done <- run(ctx, []string{"switchboard", "serve"}, env(vars), &serveOut) }()
	// Generous: a loaded CI machine can take long to start; a server that gave up is reported at once.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		select {
		case err := <-done:
			t.Fatalf("serve ended before it was ready: %v\n%s", err, serveOut.String())
		default:
		}
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("server never became ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	if !strings.Contains(serveOut.String(), "created user admin with password") {
		t.Fatalf("first start did not print the generated admin password")
	}
}

// TestKeyAdd: `key add` prints a key once, stores only its hash, and refuses a name in force, a bad scope
// and bad usage.
func TestKeyAdd(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "sb.db")}
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"switchboard", "key", "add", "ops"}, env(vars), &out); err != nil {
		t.Fatalf("key add: %v", err)
	}
	key := regexp.MustCompile(`sb_[A-Za-z0-9_-]{43}`).FindString(out.String())
	if key == "" || !strings.Contains(out.String(), "scope admin") {
		t.Fatalf("no admin key printed: %q", out.String())
	}
	db, err := models.Open(vars["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer models.Close(db)
	if k, err := platform.AuthenticateKey(ctx, db, key); err != nil || k.Name != "ops" || k.Scope != platform.ScopeAdmin {
		t.Fatalf("the printed key does not authenticate: %+v %v", k, err)
	}
	out.Reset()
	if err := run(ctx, []string{"switchboard", "key", "add", "crm", "events"}, env(vars), &out); err != nil || !strings.Contains(out.String(), "scope events") {
		t.Fatalf("key add events: %v %q", err, out.String())
	}
	for _, args := range [][]string{{"key", "add", "ops"}, {"key", "add", "x", "root"}, {"key", "add"}, {"key", "list"}} {
		if err := run(ctx, append([]string{"switchboard"}, args...), env(vars), io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// TestCollectAdd: `collect add-database` and `collect add-operator` make what the Collect! login accepts,
// with a generated password printed once or SWITCHBOARD_OPERATOR_PASSWORD, and refuse duplicates, unknown
// databases, bad names and bad usage.
func TestCollectAdd(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "sb.db")}
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"switchboard", "collect", "add-database", "cv_demodb"}, env(vars), &out); err != nil ||
		!strings.Contains(out.String(), "Collect! database cv_demodb (id 1)") {
		t.Fatalf("add-database: %v %q", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"switchboard", "collect", "add-operator", "cv_demodb", "OWN", "Owner Of The Company"}, env(vars), &out); err != nil {
		t.Fatalf("add-operator: %v", err)
	}
	m := regexp.MustCompile(`password for OWN: (\S+) \(shown once\)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no generated password printed: %q", out.String())
	}
	vars["SWITCHBOARD_OPERATOR_PASSWORD"] = "sal-secret"
	out.Reset()
	if err := run(ctx, []string{"switchboard", "collect", "add-operator", "cv_demodb", "SAL"}, env(vars), &out); err != nil ||
		strings.Contains(out.String(), "password for") {
		t.Fatalf("add-operator with a set password: %v %q", err, out.String())
	}

	db, err := models.Open(vars["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer models.Close(db)
	sessions := collect.NewSessions(db, auth.NewGuard(auth.GuardConfig{}), nil)
	for _, login := range []struct{ opID, pw, name string }{{"OWN", m[1], "Owner Of The Company"}, {"SAL", "sal-secret", ""}} {
		op, _, err := sessions.Login(ctx, "cv_demodb", login.opID, login.pw, "")
		if err != nil || op.OpName != login.name || !op.Active {
			t.Fatalf("login %s: %+v %v", login.opID, op, err)
		}
	}
	for _, args := range [][]string{
		{"collect", "add-database", "cv_demodb"},         // taken
		{"collect", "add-database", "demodb"},            // not cv_…
		{"collect", "add-operator", "cv_nodb", "X"},      // no such database
		{"collect", "add-operator", "cv_demodb", "OWN"},  // taken in the database
		{"collect", "add-database"}, {"collect", "list"}, // usage
		{"collect", "add-operator", "cv_demodb", "A", "B", "C"},
	} {
		if err := run(ctx, append([]string{"switchboard"}, args...), env(vars), io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// TestDemo: `demo` seeds the Collect! seed's examples (OWN/own logs in to cv_masterdb, two debtors with a
// contact each, the seed's form and plan REV), and a second run adds nothing.
func TestDemo(t *testing.T) {
	vars := map[string]string{"DATABASE_URL": "sqlite:" + filepath.Join(t.TempDir(), "sb.db")}
	ctx := context.Background()
	var out bytes.Buffer
	if err := run(ctx, []string{"switchboard", "demo"}, env(vars), &out); err != nil || !strings.Contains(out.String(), "operator OWN of cv_masterdb") {
		t.Fatalf("demo: %v %q", err, out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"switchboard", "demo"}, env(vars), &out); err != nil || strings.Contains(out.String(), "Collect!") || strings.Contains(out.String(), "debtor") {
		t.Fatalf("demo again: %v %q", err, out.String())
	}
	db, err := models.Open(vars["DATABASE_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer models.Close(db)
	if _, _, err := collect.NewSessions(db, auth.NewGuard(auth.GuardConfig{}), nil).Login(ctx, "cv_masterdb", "OWN", "own", ""); err != nil {
		t.Fatalf("OWN cannot log in: %v", err)
	}
	d, err := collect.FindDatabase(ctx, db, "cv_masterdb")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := collect.FindPlan(ctx, db, d.Scope(), "REV"); err != nil {
		t.Fatalf("plan REV: %v", err)
	}
	if f, err := collect.GetForm(ctx, db, d.Scope(), "35d01ff2-775d-ccb4-8f53-25d36f517384"); err != nil || len(f.Buttons) != 2 {
		t.Fatalf("the seed's form: %+v %v", f, err)
	}
	for name, want := range map[string]int64{"debtor": 2, "contact": 2} {
		def, err := collect.FindRecordDef(ctx, db, d.Scope(), name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		page, err := collect.ListRows(ctx, db, d.Scope(), def, collect.RowQuery{})
		if err != nil || page.NumRecords != want {
			t.Fatalf("%s rows: %d %v, want %d", name, page.NumRecords, err, want)
		}
	}
}
