package blob_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"switchboard/apitest"
	"switchboard/blob"
	"switchboard/models"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// fixture is one store under test and ways to look behind its back.
type fixture struct {
	s blob.Store
	// list answers everything the store holds (files with their size and time, or rows), to show that a
	// failed Put changed nothing.
	list func(t *testing.T) []string
	// garbage answers what no current blob owns: temporary files, or rows that are not current and
	// chunks of no current blob.
	garbage func(t *testing.T) []string
	// plant leaves what a process killed two hours ago mid-upload would have left.
	plant func(t *testing.T)
	// corrupt changes one byte of the stored content of key, behind the store's back.
	corrupt func(t *testing.T, key string)
}

// eachStore runs fn on a directory store and on the database store over each store kind.
func eachStore(t *testing.T, fn func(t *testing.T, f fixture)) {
	t.Run("dir", func(t *testing.T) {
		t.Parallel()
		fn(t, dirFixture(t, t.TempDir()))
	})
	t.Run("db", func(t *testing.T) {
		t.Parallel()
		apitest.EachKind(t, func(t *testing.T, kind string) { fn(t, dbFixture(t, apitest.NewDB(t, kind))) })
	})
}

func dirFixture(t *testing.T, root string) fixture {
	s, err := blob.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	walk := func(t *testing.T, keep func(name string) bool) []string {
		var out []string
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !keep(d.Name()) {
				return err
			}
			fi, err := d.Info()
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, path)
			out = append(out, fmt.Sprintf("%s %d %d", rel, fi.Size(), fi.ModTime().UnixNano()))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	return fixture{
		s:       s,
		list:    func(t *testing.T) []string { return walk(t, func(string) bool { return true }) },
		garbage: func(t *testing.T) []string { return walk(t, func(n string) bool { return strings.HasPrefix(n, ".") }) },
		plant: func(t *testing.T) {
			dir := filepath.Join(root, "00")
			if err := os.MkdirAll(dir, 0o750); err != nil {
				t.Fatal(err)
			}
			name := filepath.Join(dir, ".put-killed")
			if err := os.WriteFile(name, []byte("half an upload"), 0o600); err != nil {
				t.Fatal(err)
			}
			old := time.Now().Add(-2 * time.Hour)
			if err := os.Chtimes(name, old, old); err != nil {
				t.Fatal(err)
			}
		},
		corrupt: func(t *testing.T, key string) {
			sum := sha256.Sum256([]byte(key))
			name := filepath.Join(root, fmt.Sprintf("%x", sum[:1]), fmt.Sprintf("%x", sum))
			b, err := os.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			b[len(b)-1] ^= 1
			if err := os.WriteFile(name, b, 0o600); err != nil {
				t.Fatal(err)
			}
		},
	}
}

func dbFixture(t *testing.T, db *gorm.DB) fixture {
	rows := func(t *testing.T, q string) []string {
		var out []string
		if err := db.Raw(q).Scan(&out).Error; err != nil {
			t.Fatal(err)
		}
		return out
	}
	return fixture{
		s: blob.NewDB(db),
		list: func(t *testing.T) []string {
			return append(rows(t, `SELECT 'blob ' || blob_id || ' ' || blob_key || ' ' || state || ' ' || size || ' ' || sha256 || ' ' || updated_at
				FROM blobs ORDER BY blob_id`),
				rows(t, `SELECT 'chunk ' || blob_id || ' ' || seq || ' ' || length(data) FROM blob_chunks ORDER BY blob_id, seq`)...)
		},
		garbage: func(t *testing.T) []string {
			return append(rows(t, `SELECT 'blob ' || blob_id || ' ' || state FROM blobs WHERE state <> 'current'`),
				rows(t, `SELECT 'chunk ' || blob_id || ' ' || seq FROM blob_chunks
					WHERE blob_id NOT IN (SELECT blob_id FROM blobs WHERE state = 'current')`)...)
		},
		plant: func(t *testing.T) {
			old := time.Now().Add(-2 * time.Hour).Unix()
			for _, state := range []string{"writing", "dead"} { // mid-upload, and mid-purge of a replaced blob
				var id int64
				if err := db.Raw(`INSERT INTO blobs (blob_key, state, size, sha256, created_at, updated_at)
					VALUES ('killed', ?, 0, '', ?, ?) RETURNING blob_id`, state, old, old).Scan(&id).Error; err != nil {
					t.Fatal(err)
				}
				for _, seq := range []int{0, 1, 130} { // beyond the first statement of a purge
					if err := db.Exec("INSERT INTO blob_chunks (blob_id, seq, data) VALUES (?, ?, ?)", id, seq, []byte("chunk")).Error; err != nil {
						t.Fatal(err)
					}
				}
			}
		},
		corrupt: func(t *testing.T, key string) {
			res := db.Exec(`UPDATE blob_chunks SET data = ? WHERE seq = 0 AND blob_id =
				(SELECT blob_id FROM blobs WHERE blob_key = ? AND state = 'current')`, []byte("not the content"), key)
			if res.Error != nil || res.RowsAffected != 1 {
				t.Fatalf("corrupt: %d rows, %v", res.RowsAffected, res.Error)
			}
		},
	}
}

// payload is n pseudo-random bytes made as they are read, in reads of uneven length: the same seed
// gives the same bytes, and no test holds a payload in memory.
type payload struct {
	rng  *rand.ChaCha8
	left int64
	step int
}

func newPayload(seed byte, n int64) *payload {
	return &payload{rng: rand.NewChaCha8([32]byte{seed}), left: n, step: 1}
}

func (p *payload) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	p.step = p.step*7919%100_003 + 1 // 1 byte to ~100 KB
	k := int(min(int64(len(b)), p.left, int64(p.step)))
	p.rng.Read(b[:k])
	p.left -= int64(k)
	return k, nil
}

func digest(seed byte, n int64) [sha256.Size]byte {
	h := sha256.New()
	if _, err := io.Copy(h, newPayload(seed, n)); err != nil {
		panic(err)
	}
	return [sha256.Size]byte(h.Sum(nil))
}

// counter counts what is read of r and calls at, once, when the count first reaches atN.
type counter struct {
	r   io.Reader
	n   int64
	atN int64
	at  func()
}

func (c *counter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	if c.at != nil && c.n >= c.atN {
		c.at()
		c.at = nil
	}
	return n, err
}

// sameBytes reads got and want to their ends, in step, and fails at the first difference.
func sameBytes(t *testing.T, got, want io.Reader) {
	t.Helper()
	a, b := make([]byte, 64<<10), make([]byte, 64<<10)
	var off int64
	for {
		n, errA := io.ReadFull(got, a)
		m, errB := io.ReadFull(want, b)
		if n != m || !bytes.Equal(a[:n], b[:m]) {
			t.Fatalf("content differs in the %d bytes from offset %d (got %d bytes, %v)", max(n, m), off, n, errA)
		}
		off += int64(n)
		if errB == io.EOF || errB == io.ErrUnexpectedEOF {
			if errA != errB {
				t.Fatalf("at offset %d: got %v, want %v", off, errA, errB)
			}
			if n, err := got.Read(a); n != 0 || err != io.EOF {
				t.Fatalf("after the end: %d bytes, %v; want io.EOF", n, err)
			}
			return
		}
		if errA != nil || errB != nil {
			t.Fatalf("at offset %d: %v / %v", off, errA, errB)
		}
	}
}

// put stores payload seed of n bytes under key and checks what Put answers.
func put(t *testing.T, s blob.Store, key string, seed byte, n int64) blob.Info {
	t.Helper()
	info, err := s.Put(t.Context(), key, newPayload(seed, n), n)
	if err != nil {
		t.Fatalf("put %q: %v", key, err)
	}
	if info.Size != n || info.SHA256 != digest(seed, n) || info.Modified.IsZero() {
		t.Fatalf("put %q answered %+v", key, info)
	}
	return info
}

// check reads key back: its Stat, its Reader's Info and its bytes must be payload seed of n bytes.
func check(t *testing.T, s blob.Store, key string, seed byte, n int64) {
	t.Helper()
	st, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("stat %q: %v", key, err)
	}
	if st.Size != n || st.SHA256 != digest(seed, n) {
		t.Fatalf("stat %q: %+v, want %d bytes", key, st, n)
	}
	r, err := s.Open(t.Context(), key)
	if err != nil {
		t.Fatalf("open %q: %v", key, err)
	}
	defer r.Close()
	if r.Info() != st {
		t.Fatalf("open %q: %+v, stat %+v", key, r.Info(), st)
	}
	sameBytes(t, r, newPayload(seed, n))
}

const mib = 1 << 20

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, f fixture) {
		// Empty, one byte, exactly two database chunks, several MiB and a part.
		for i, n := range []int64{0, 1, 512 << 10, 5*mib + 12345} {
			key := fmt.Sprintf("ictcore/documents/%d", i)
			put(t, f.s, key, byte(i), n)
			check(t, f.s, key, byte(i), n)
		}
		if g := f.garbage(t); len(g) > 0 {
			t.Fatalf("left behind: %v", g)
		}
	})
}

func TestReplace(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		const key = "ictcore/recordings/7"
		put(t, f.s, key, 1, 3*mib+1)
		put(t, f.s, key, 2, mib+7)
		check(t, f.s, key, 2, mib+7)
		if g := f.garbage(t); len(g) > 0 {
			t.Fatalf("the replaced blob left: %v", g)
		}
		before := f.list(t)
		if len(before) == 0 {
			t.Fatal("list shows nothing")
		}

		// Each failed replace must leave the store exactly as it was.
		failed := func(t *testing.T, err error) {
			t.Helper()
			if err == nil {
				t.Fatal("put succeeded")
			}
			if after := f.list(t); !slices.Equal(after, before) {
				t.Fatalf("failed put changed the store:\nbefore %v\nafter  %v", before, after)
			}
			check(t, f.s, key, 2, mib+7)
		}
		t.Run("reader fails", func(t *testing.T) {
			// io.ErrUnexpectedEOF, as net/http answers for a body cut short: not the end of the upload.
			r := io.MultiReader(newPayload(3, 700<<10), iotest.ErrReader(io.ErrUnexpectedEOF))
			_, err := f.s.Put(ctx, key, r, 10*mib)
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("err = %v, want the reader's", err)
			}
			failed(t, err)
		})
		t.Run("too large", func(t *testing.T) {
			const limit = 2*mib + 3
			c := &counter{r: newPayload(3, 4*mib)}
			_, err := f.s.Put(ctx, key, c, limit)
			if models.KindOf(err) != models.TooLarge {
				t.Errorf("err = %v (kind %v), want TooLarge", err, models.KindOf(err))
			}
			if c.n > limit+1 {
				t.Errorf("read %d bytes of the body, want at most %d", c.n, limit+1)
			}
			failed(t, err)
		})
		t.Run("context canceled", func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			c := &counter{r: newPayload(3, 4*mib), atN: 600 << 10, at: cancel}
			_, err := f.s.Put(cctx, key, c, 10*mib)
			if !errors.Is(err, context.Canceled) || models.KindOf(err) != models.Canceled {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			if c.n > 2*mib {
				t.Errorf("read %d bytes after the cancel", c.n)
			}
			failed(t, err)
		})
		t.Run("context canceled with the last bytes", func(t *testing.T) {
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			// The last Read cancels and answers the last bytes with io.EOF: nothing more is read after it.
			c := &counter{r: iotest.DataErrReader(newPayload(3, mib)), atN: mib, at: cancel}
			_, err := f.s.Put(cctx, key, c, 10*mib)
			if !errors.Is(err, context.Canceled) {
				t.Errorf("err = %v, want context.Canceled", err)
			}
			failed(t, err)
		})
		// Exactly max bytes is not too large.
		put(t, f.s, key, 4, 2*mib+3)
		check(t, f.s, key, 4, 2*mib+3)
	})
}

func TestConcurrentPuts(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, f fixture) {
		const key, puts, n = "k", 6, 300 << 10
		var wg sync.WaitGroup
		errs := make([]error, puts)
		for i := range puts {
			wg.Go(func() { _, errs[i] = f.s.Put(t.Context(), key, newPayload(byte(10+i), n), n) })
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		st, err := f.s.Stat(t.Context(), key)
		if err != nil {
			t.Fatal(err)
		}
		winner := -1
		for i := range puts {
			if st.SHA256 == digest(byte(10+i), n) {
				winner = i
			}
		}
		if winner < 0 {
			t.Fatalf("the blob is none of the puts: %+v", st)
		}
		check(t, f.s, key, byte(10+winner), n)
		if g := f.garbage(t); len(g) > 0 {
			t.Fatalf("left behind: %v", g)
		}
	})
}

func TestDeleteAndNotFound(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		notFound := func(t *testing.T, key string) {
			t.Helper()
			if _, err := f.s.Stat(ctx, key); models.KindOf(err) != models.NotFound {
				t.Errorf("stat: %v, want NotFound", err)
			}
			if _, err := f.s.Open(ctx, key); models.KindOf(err) != models.NotFound {
				t.Errorf("open: %v, want NotFound", err)
			}
		}
		notFound(t, "missing")
		if err := f.s.Delete(ctx, "missing"); err != nil {
			t.Fatalf("delete of a missing key: %v", err)
		}
		put(t, f.s, "a", 1, mib)
		put(t, f.s, "b", 2, 10)
		if err := f.s.Delete(ctx, "a"); err != nil {
			t.Fatal(err)
		}
		notFound(t, "a")
		check(t, f.s, "b", 2, 10)
		if err := f.s.Delete(ctx, "a"); err != nil {
			t.Fatalf("second delete: %v", err)
		}
		if err := f.s.Delete(ctx, "b"); err != nil {
			t.Fatal(err)
		}
		if l := f.list(t); len(l) > 0 {
			t.Fatalf("deleted blobs left: %v", l)
		}
	})
}

func TestBadKeys(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		for _, key := range []string{"", strings.Repeat("k", blob.MaxKeyLen+1), "a\x00b", "bad\xffutf8"} {
			c := &counter{r: newPayload(1, 10)}
			_, perr := f.s.Put(ctx, key, c, 10)
			_, oerr := f.s.Open(ctx, key)
			_, serr := f.s.Stat(ctx, key)
			derr := f.s.Delete(ctx, key)
			for i, err := range []error{perr, oerr, serr, derr} {
				if models.KindOf(err) != models.Invalid {
					t.Errorf("key %q, method %d: %v, want Invalid", key, i, err)
				}
			}
			if c.n != 0 {
				t.Errorf("key %q: Put read the body", key)
			}
		}
		put(t, f.s, strings.Repeat("é", blob.MaxKeyLen/2), 1, 10) // the longest key
		if l := f.list(t); len(l) == 0 || len(f.garbage(t)) > 0 {
			t.Fatalf("store holds %v", l)
		}
	})
}

// TestKeysStayInTheDirectory: a key is never a path; every blob is a file two levels down, named by hex.
func TestKeysStayInTheDirectory(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	root := filepath.Join(parent, "blobs")
	s, err := blob.NewDir(root)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(root); err != nil || fi.Mode().Perm() != 0o750 {
		t.Fatalf("root: %v, %v; want mode 0750", fi, err)
	}
	keys := []string{"../x", "../../x", "/etc/passwd", "a/../../b", ".", "..", "x/y", `..\x`, "x", "X", "ictcore/documents/12"}
	for i, key := range keys {
		put(t, s, key, byte(i), 100)
	}
	for i, key := range keys {
		check(t, s, key, byte(i), 100)
	}
	if names := dirNames(t, parent); !slices.Equal(names, []string{"blobs"}) {
		t.Fatalf("beside the root: %v", names)
	}
	files := 0
	for _, sub := range dirNames(t, root) {
		for _, name := range dirNames(t, filepath.Join(root, sub)) {
			if len(name) != 64 || strings.Trim(name, "0123456789abcdef") != "" || name[:2] != sub {
				t.Errorf("file %s/%s", sub, name)
			}
			files++
		}
	}
	if files != len(keys) {
		t.Fatalf("%d files for %d keys", files, len(keys))
	}
}

func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestReaderRacingReplace: a directory reader reads the blob it opened to its end; a database reader reads
// that blob's bytes until they are gone, then fails with Conflict, never mixing two blobs.
func TestReaderRacingReplace(t *testing.T) {
	t.Parallel()
	for _, op := range []string{"replace", "delete"} {
		t.Run(op, func(t *testing.T) {
			t.Parallel()
			eachStore(t, func(t *testing.T, f fixture) {
				const key, n = "k", 2 * mib
				put(t, f.s, key, 1, n)
				r, err := f.s.Open(t.Context(), key)
				if err != nil {
					t.Fatal(err)
				}
				defer r.Close()
				first := make([]byte, 1)
				if _, err := io.ReadFull(r, first); err != nil {
					t.Fatal(err)
				}
				if op == "replace" {
					put(t, f.s, key, 2, n)
				} else if err := f.s.Delete(t.Context(), key); err != nil {
					t.Fatal(err)
				}
				rest, err := io.ReadAll(r)
				want, _ := io.ReadAll(newPayload(1, n))
				if _, dir := f.s.(*blob.Dir); dir {
					if err != nil || !bytes.Equal(append(first, rest...), want) {
						t.Fatalf("dir reader: %d bytes, %v; want the opened blob whole", 1+len(rest), err)
					}
					return
				}
				if models.KindOf(err) != models.Conflict {
					t.Fatalf("db reader: %d bytes, %v; want Conflict", 1+len(rest), err)
				}
				if got := append(first, rest...); !bytes.HasPrefix(want, got) {
					t.Fatalf("db reader answered %d bytes that are not the opened blob's", len(got))
				}
			})
		})
	}
}

// TestReaderChecksContent: bytes changed behind the store's back are an error at the end, not io.EOF.
func TestReaderChecksContent(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, f fixture) {
		put(t, f.s, "k", 1, 100)
		f.corrupt(t, "k")
		r, err := f.s.Open(t.Context(), "k")
		if err == nil {
			_, err = io.ReadAll(r)
			r.Close()
		}
		if err == nil {
			t.Fatal("changed content read without error")
		}
	})
}

// TestSweep: a sweep removes what a killed process left and spares a live upload; an upload a sweep
// took for dead fails and leaves nothing.
func TestSweep(t *testing.T) {
	t.Parallel()
	eachStore(t, func(t *testing.T, f fixture) {
		ctx := t.Context()
		put(t, f.s, "kept", 1, 1000)

		// started begins a Put of n bytes of seed under key and returns once its first 300 KiB are in
		// (a database chunk is written); finish sends the rest and answers the Put's error.
		started := func(key string, seed byte, n int64) (finish func() error) {
			pr, pw := io.Pipe()
			done := make(chan error, 1)
			go func() {
				_, err := f.s.Put(ctx, key, pr, n)
				pr.CloseWithError(err) // a failed Put stops the writer
				done <- err
			}()
			src := newPayload(seed, n)
			if _, err := io.CopyN(pw, src, 300<<10); err != nil {
				t.Fatal(err)
			}
			return func() error {
				_, err := io.Copy(pw, src)
				pw.CloseWithError(err)
				return <-done
			}
		}

		finish := started("live", 2, mib)
		f.plant(t)
		if err := f.s.Sweep(ctx, time.Hour); err != nil {
			t.Fatal(err)
		}
		if err := finish(); err != nil {
			t.Fatalf("the live upload failed: %v", err)
		}
		check(t, f.s, "live", 2, mib)
		check(t, f.s, "kept", 1, 1000)
		if g := f.garbage(t); len(g) > 0 {
			t.Fatalf("the sweep left: %v", g)
		}

		finish = started("swept", 3, mib)
		if err := f.s.Sweep(ctx, -time.Minute); err != nil { // everything is stale
			t.Fatal(err)
		}
		if err := finish(); err == nil {
			t.Fatal("a swept upload succeeded")
		}
		if _, err := f.s.Stat(ctx, "swept"); models.KindOf(err) != models.NotFound {
			t.Fatalf("swept upload: %v", err)
		}
		check(t, f.s, "kept", 1, 1000)
		if g := f.garbage(t); len(g) > 0 {
			t.Fatalf("the swept upload left: %v", g)
		}
	})
}

// TestTwoNodes: two stores on one Postgres database, as two processes would have, share their blobs.
func TestTwoNodes(t *testing.T) {
	t.Parallel()
	if !slices.Contains(apitest.Kinds(t), "postgres") {
		t.Skip("Postgres is unreachable")
	}
	db1 := apitest.NewDB(t, "postgres")
	db2, err := models.Open(db1.Dialector.(*postgres.Dialector).Config.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = models.Close(db2) })
	n1, n2 := blob.NewDB(db1), blob.NewDB(db2)

	put(t, n1, "ictcore/documents/1", 1, 3*mib)
	check(t, n2, "ictcore/documents/1", 1, 3*mib)
	put(t, n2, "ictcore/documents/1", 2, mib)
	check(t, n1, "ictcore/documents/1", 2, mib)
	if err := n1.Delete(t.Context(), "ictcore/documents/1"); err != nil {
		t.Fatal(err)
	}
	if _, err := n2.Stat(t.Context(), "ictcore/documents/1"); models.KindOf(err) != models.NotFound {
		t.Fatalf("after delete on the other node: %v", err)
	}
}

func TestNewChoosesByStore(t *testing.T) {
	t.Parallel()
	apitest.EachKind(t, func(t *testing.T, kind string) {
		dir := filepath.Join(t.TempDir(), "media")
		s, err := blob.New(apitest.NewDB(t, kind), dir)
		if err != nil {
			t.Fatal(err)
		}
		_, isDir := s.(*blob.Dir)
		_, isDB := s.(*blob.DB)
		_, statErr := os.Stat(dir)
		switch {
		case kind == "sqlite" && (!isDir || statErr != nil):
			t.Fatalf("sqlite: %T, dir %v; want a directory store", s, statErr)
		case kind == "postgres" && (!isDB || statErr == nil):
			t.Fatalf("postgres: %T, dir %v; want the database store and no directory", s, statErr)
		}
	})
}
