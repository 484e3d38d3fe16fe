package blob

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Dir stores each blob as one file under a directory: the embedded store's blobs.
//
// A key's file is root/hh/h, where h is the hex SHA-256 of the key and hh its first two digits. Hashing
// makes any key a fixed-length name of hex digits, so no key can name a path outside root (no "..", no
// separator, no reserved name, never too long for the file system) and no two keys share a file; the two
// digits spread the files over 256 directories, so none grows to millions of entries. The price: a
// file's name does not tell its key.
//
// A file starts with a header (fileMagic, the size, the SHA-256), so size and digest change with the
// content in one rename, and Stat need not read the content. Put writes a temporary file (tempPrefix) in
// the same directory, syncs it, renames it over the blob's name and syncs the directory: readers see the
// old file or the new one, never a part, and a reader that opened the old one reads it to its end.
type Dir struct {
	root string
}

const (
	fileMagic  = "sbblob1\n"
	headerLen  = len(fileMagic) + 8 + sha256.Size
	tempPrefix = ".put-"
	copyBuffer = 64 << 10
)

// NewDir answers the store in the directory root, which it creates (mode 0750) if missing.
func NewDir(root string) (*Dir, error) {
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("blob directory: %w", err)
	}
	return &Dir{root: root}, nil
}

// path answers the directory and the file of key's blob.
func (d *Dir) path(key string) (dir, file string) {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	dir = filepath.Join(d.root, h[:2])
	return dir, filepath.Join(dir, h)
}

// Put implements Store.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader, max int64) (Info, error) {
	if err := checkPut(key, max); err != nil {
		return Info{}, err
	}
	dir, file := d.path(key)
	if err := d.mkdir(dir); err != nil {
		return Info{}, err
	}
	f, err := os.CreateTemp(dir, tempPrefix+"*") // mode 0600: recordings are personal data
	if err != nil {
		return Info{}, fmt.Errorf("blob put: %w", err)
	}
	info, err := writeFile(f, newSource(ctx, r, max))
	if err == nil {
		err = ctx.Err() // the last chance to fail before the replace
	}
	if err == nil {
		err = os.Rename(f.Name(), file)
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return Info{}, err
	}
	if err := syncDir(dir); err != nil { // the new blob is in place, but might not survive a crash
		return Info{}, fmt.Errorf("blob put: %w", err)
	}
	return info, nil
}

// writeFile writes the header and the content to f, syncs and closes it.
func writeFile(f *os.File, src io.Reader) (Info, error) {
	info, err := func() (Info, error) {
		if _, err := f.Write(make([]byte, headerLen)); err != nil { // room for the header, written last
			return Info{}, err
		}
		h := sha256.New()
		// Neither side has WriteTo or ReadFrom, so the copy goes through this buffer only.
		n, err := io.CopyBuffer(io.MultiWriter(f, h), src, make([]byte, copyBuffer))
		if err != nil {
			return Info{}, err
		}
		info := Info{Size: n, SHA256: [sha256.Size]byte(h.Sum(nil))}
		if _, err := f.WriteAt(header(info), 0); err != nil {
			return Info{}, err
		}
		if err := f.Sync(); err != nil {
			return Info{}, err
		}
		fi, err := f.Stat()
		if err != nil {
			return Info{}, err
		}
		info.Modified = fi.ModTime()
		return info, nil
	}()
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	return info, err
}

func header(info Info) []byte {
	b := make([]byte, 0, headerLen)
	b = append(b, fileMagic...)
	b = binary.BigEndian.AppendUint64(b, uint64(info.Size))
	return append(b, info.SHA256[:]...)
}

// mkdir creates a blob directory if missing, and syncs root so that its entry survives a crash.
func (d *Dir) mkdir(dir string) error {
	err := os.Mkdir(dir, 0o750)
	switch {
	case err == nil:
		err = syncDir(d.root)
	case errors.Is(err, fs.ErrExist):
		err = nil
	}
	if err != nil {
		return fmt.Errorf("blob directory: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Open implements Store.
func (d *Dir) Open(ctx context.Context, key string) (Reader, error) {
	f, info, err := d.open(ctx, key)
	if err != nil {
		return nil, err
	}
	return newReader(ctx, info, io.NewSectionReader(f, int64(headerLen), info.Size), f.Close), nil
}

// Stat implements Store.
func (d *Dir) Stat(ctx context.Context, key string) (Info, error) {
	f, info, err := d.open(ctx, key)
	if err != nil {
		return Info{}, err
	}
	return info, f.Close()
}

// open opens key's file and reads its header.
func (d *Dir) open(ctx context.Context, key string) (*os.File, Info, error) {
	if err := checkKey(key); err != nil {
		return nil, Info{}, err
	}
	if err := ctx.Err(); err != nil {
		return nil, Info{}, err
	}
	_, file := d.path(key)
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, Info{}, notFound(key)
	}
	if err != nil {
		return nil, Info{}, fmt.Errorf("blob open: %w", err)
	}
	info, err := readHeader(f)
	if err != nil {
		_ = f.Close()
		return nil, Info{}, fmt.Errorf("blob %q: %w", key, err)
	}
	return f, info, nil
}

func readHeader(f *os.File) (Info, error) {
	b := make([]byte, headerLen)
	if _, err := io.ReadFull(f, b); err != nil {
		return Info{}, fmt.Errorf("%w: header: %v", errCorrupt, err)
	}
	if string(b[:len(fileMagic)]) != fileMagic {
		return Info{}, fmt.Errorf("%w: not a blob file", errCorrupt)
	}
	size := binary.BigEndian.Uint64(b[len(fileMagic):])
	info := Info{Size: int64(size), SHA256: [sha256.Size]byte(b[len(fileMagic)+8:])}
	fi, err := f.Stat()
	if err != nil {
		return Info{}, err
	}
	if info.Size < 0 || fi.Size() != int64(headerLen)+info.Size {
		return Info{}, fmt.Errorf("%w: %d bytes of file for %d of content", errCorrupt, fi.Size(), info.Size)
	}
	info.Modified = fi.ModTime()
	return info, nil
}

// Delete implements Store.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	dir, file := d.path(key)
	err := os.Remove(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("blob delete: %w", err)
	}
	return nil
}

// Sweep implements Store: it removes the temporary files of Puts that a killed process left, by their
// modification time (a live Put writes its file as the upload arrives).
func (d *Dir) Sweep(ctx context.Context, olderThan time.Duration) error {
	cutoff := time.Now().Add(-olderThan)
	dirs, err := os.ReadDir(d.root)
	if err != nil {
		return fmt.Errorf("blob sweep: %w", err)
	}
	for _, sub := range dirs {
		if !sub.IsDir() {
			continue
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		dir := filepath.Join(d.root, sub.Name())
		entries, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("blob sweep: %w", err)
		}
		for _, e := range entries {
			if !strings.HasPrefix(e.Name(), tempPrefix) {
				continue
			}
			fi, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) { // renamed or removed meanwhile
				continue
			}
			if err != nil {
				return fmt.Errorf("blob sweep: %w", err)
			}
			if fi.ModTime().Before(cutoff) {
				if err := os.Remove(filepath.Join(dir, e.Name())); err != nil && !errors.Is(err, fs.ErrNotExist) {
					return fmt.Errorf("blob sweep: %w", err)
				}
			}
		}
	}
	return nil
}
