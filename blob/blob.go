// Package blob stores media and files (ICTCore fax documents and recordings, later Collect! files) as
// streamed blobs under keys their callers choose: in a directory on the embedded SQLite store, and in the
// database itself when Postgres is the store, so that every node serving one database reads the blobs any
// of them stored. Memory stays flat whatever the size: content is copied through fixed buffers both ways.
package blob

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"

	"switchboard/models"
)

// Store keeps blobs by key. Keys are opaque to it; every method refuses a bad one (Invalid, see MaxKeyLen)
// and answers errors of the models kinds.
type Store interface {
	// Put streams r into the blob named key and answers what it stored. It replaces a previous blob of
	// that key only once the new one is complete: a failed Put (r fails, ctx ends, more than max bytes)
	// leaves the old blob as it was and nothing of its own behind. It reads at most max+1 bytes of r, and
	// answers TooLarge when there are more than max.
	Put(ctx context.Context, key string, r io.Reader, max int64) (Info, error)
	// Open answers a reader of the blob named key, or NotFound. ctx bounds the reads too; close the
	// reader when done.
	Open(ctx context.Context, key string) (Reader, error)
	// Stat answers the Info of the blob named key, or NotFound.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes the blob named key; a missing one is not an error.
	Delete(ctx context.Context, key string) error
	// Sweep removes what a killed process left behind: partial uploads untouched for olderThan. Run it at
	// start with StaleAfter (and now and then on long-lived nodes); several nodes may sweep at once.
	Sweep(ctx context.Context, olderThan time.Duration) error
}

// Info describes a stored blob.
type Info struct {
	Size int64
	// SHA256 is the digest of the content, and its stamp: equal content, equal stamp (a strong ETag).
	SHA256 [sha256.Size]byte
	// Modified is when the Put that stored the blob finished (the database store keeps seconds).
	Modified time.Time
}

// Reader streams one blob. Having read to the end, it answers io.EOF only if the bytes were as many and
// had the digest that Put recorded; otherwise an error.
type Reader interface {
	io.ReadCloser
	Info() Info
}

// MaxKeyLen bounds a key, in bytes: room for any path-like name, and small enough for a B-tree entry.
const MaxKeyLen = 1024

// StaleAfter is how long a partial upload may go untouched before a sweep takes it for abandoned by a
// killed process. Uploads arrive at a minimum rate (server.BodyTimeouts), so a live one touches its
// blob far more often than this.
const StaleAfter = 10 * time.Minute

// New answers the store for db: blobs in Postgres when db is Postgres, in the directory dir otherwise.
func New(db *gorm.DB, dir string) (Store, error) {
	if models.IsPostgres(db) {
		return NewDB(db), nil
	}
	return NewDir(dir)
}

// checkKey refuses what is not a key: empty, longer than MaxKeyLen, a NUL, or not UTF-8 (Postgres text
// refuses those two, and both stores must accept the same keys).
func checkKey(key string) error {
	switch {
	case key == "":
		return models.Errorf(models.Invalid, "blob key is empty")
	case len(key) > MaxKeyLen:
		return models.Errorf(models.Invalid, "blob key is longer than %d bytes", MaxKeyLen)
	case strings.IndexByte(key, 0) >= 0:
		return models.Errorf(models.Invalid, "blob key contains NUL")
	case !utf8.ValidString(key):
		return models.Errorf(models.Invalid, "blob key is not UTF-8")
	}
	return nil
}

func checkPut(key string, max int64) error {
	if max < 0 {
		return fmt.Errorf("blob: negative size limit %d", max)
	}
	return checkKey(key)
}

func notFound(key string) error { return models.Errorf(models.NotFound, "no blob %q", key) }

// source is what Put reads of r: at most max+1 bytes, failing with TooLarge once more than max arrived and
// with ctx's error once ctx has ended.
type source struct {
	ctx  context.Context
	r    io.Reader
	max  int64
	left int64 // max minus what arrived so far
}

func newSource(ctx context.Context, r io.Reader, max int64) *source {
	return &source{ctx: ctx, r: r, max: max, left: max}
}

func (s *source) Read(p []byte) (int, error) {
	if err := s.ctx.Err(); err != nil {
		return 0, err
	}
	if room := s.left + 1; room > 0 && int64(len(p)) > room { // room <= 0: max is MaxInt64, no cap
		p = p[:room]
	}
	n, err := s.r.Read(p)
	if int64(n) > s.left {
		return 0, models.Errorf(models.TooLarge, "blob is larger than %d bytes", s.max)
	}
	s.left -= int64(n)
	return n, err
}

// errCorrupt: the stored bytes are not those Put recorded (a damaged or altered file or row).
var errCorrupt = errors.New("blob: stored content does not match its size or SHA-256")

// reader is both stores' Reader: it hashes what src yields and checks it against info at the end.
type reader struct {
	ctx    context.Context
	info   Info
	src    io.Reader    // the stored content; io.EOF after info.Size bytes, or sooner when it is short
	done   func() error // releases src; nil when there is nothing to release
	h      hash.Hash
	n      int64
	closed bool
}

func newReader(ctx context.Context, info Info, src io.Reader, done func() error) *reader {
	return &reader{ctx: ctx, info: info, src: src, done: done, h: sha256.New()}
}

func (r *reader) Info() Info { return r.info }

func (r *reader) Read(p []byte) (int, error) {
	if r.closed {
		return 0, os.ErrClosed
	}
	if err := r.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := r.src.Read(p)
	r.h.Write(p[:n])
	r.n += int64(n)
	if r.n > r.info.Size {
		return n, errCorrupt
	}
	if err == io.EOF && (r.n != r.info.Size || [sha256.Size]byte(r.h.Sum(nil)) != r.info.SHA256) {
		return n, errCorrupt
	}
	return n, err
}

func (r *reader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if r.done == nil {
		return nil
	}
	return r.done()
}
