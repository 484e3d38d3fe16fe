package blob

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"gorm.io/gorm"

	"switchboard/models"
)

// DB stores blobs in the database itself, as rows of blob_chunks under a row of blobs (migration step 4):
// the Postgres store's blobs, which every node serving that database shares. It works on SQLite too.
//
// Put inserts a 'writing' blob under a new blob_id and writes the content as it arrives, chunkSize bytes a
// row, each chunk in a short transaction of its own that also refreshes the blob's updated_at and fails if
// a sweep took the blob for abandoned: a slow upload holds no transaction or lock between chunks. One short
// transaction then retires the key's current blob ('dead') and makes the new one current. A dead blob's
// chunks are deleted right after, a batch a statement, then its row; a failed Put retires and deletes its
// own blob the same way, under a context that outlives the request. Sweep deletes what a killed process
// left ('writing' or 'dead' blobs untouched for a while).
//
// Open resolves the key's current blob_id once and reads its chunks one query each. A reader that races a
// replace or a Delete of its blob reads that blob's own bytes until its chunks are gone, then fails with
// Conflict: it never answers bytes of two blobs. (Keeping replaced chunks for a grace period would let it
// finish, at the price of garbage that only a periodic sweep reclaims and of deletes that free nothing;
// replacing media while it is read is rare, and a retry reads the new blob.)
type DB struct {
	db *gorm.DB
}

const (
	// chunkSize is the content of one blob_chunks row: big enough that per-row costs vanish, small
	// enough that a reader or writer holds little.
	chunkSize = 256 << 10
	// purgeBatch is how many chunks one statement of a purge deletes (16 MiB).
	purgeBatch = 64
	// commitLockClass is the first key of the two-key advisory locks that commits take on Postgres (a key
	// space apart from migrate's one-key lock).
	commitLockClass = 7002
	// cleanupTimeout bounds deleting a retired blob once its Put or Delete has answered; what it leaves,
	// Sweep finishes.
	cleanupTimeout = 2 * time.Minute
)

// errSwept: a sweep took the Put's blob for abandoned (it went StaleAfter without a chunk).
var errSwept = models.Errorf(models.Busy, "the upload was interrupted, retry it")

// blobRow is a row of blobs.
type blobRow struct {
	ID        int64 `gorm:"primaryKey;column:blob_id"`
	BlobKey   string
	State     string // 'writing', 'current' or 'dead'
	Size      int64
	SHA256    string `gorm:"column:sha256"` // hex
	CreatedAt int64
	UpdatedAt int64
}

func (blobRow) TableName() string { return "blobs" }

func (r blobRow) info() (Info, error) {
	info := Info{Size: r.Size, Modified: time.Unix(r.UpdatedAt, 0)}
	if n, err := hex.Decode(info.SHA256[:], []byte(r.SHA256)); err != nil || n != sha256.Size {
		return Info{}, fmt.Errorf("blob %q: %w", r.BlobKey, errCorrupt)
	}
	return info, nil
}

// NewDB answers the store in db, which must be migrated.
func NewDB(db *gorm.DB) *DB { return &DB{db: db} }

// Put implements Store.
func (s *DB) Put(ctx context.Context, key string, r io.Reader, max int64) (Info, error) {
	if err := checkPut(key, max); err != nil {
		return Info{}, err
	}
	now := time.Now().Unix()
	row := blobRow{BlobKey: key, State: "writing", CreatedAt: now, UpdatedAt: now}
	if err := s.db.WithContext(ctx).Create(&row).Error; err != nil {
		return Info{}, err
	}
	info, err := s.write(ctx, row.ID, newSource(ctx, r, max))
	if err == nil {
		err = s.commit(ctx, row.ID, key, &info)
	}
	if err != nil {
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		// Only a writing blob is retired: if the commit went through after all, the blob stays current.
		if s.db.WithContext(cctx).Exec("UPDATE blobs SET state = 'dead', updated_at = ? WHERE blob_id = ? AND state = 'writing'",
			time.Now().Unix(), row.ID).Error == nil {
			_ = s.purge(cctx, row.ID)
		}
		return Info{}, err
	}
	return info, nil
}

// write stores the content of src as blob id's chunks and answers its size and digest.
func (s *DB) write(ctx context.Context, id int64, src io.Reader) (Info, error) {
	buf := make([]byte, chunkSize)
	h := sha256.New()
	var size int64
	for seq := int64(0); ; seq++ {
		n, err := fill(src, buf)
		if n > 0 {
			h.Write(buf[:n])
			size += int64(n)
			if werr := s.writeChunk(ctx, id, seq, buf[:n]); werr != nil {
				return Info{}, werr
			}
		}
		if err == io.EOF {
			return Info{Size: size, SHA256: [sha256.Size]byte(h.Sum(nil))}, nil
		}
		if err != nil {
			return Info{}, err
		}
	}
}

// fill reads src into buf until buf is full or src fails; it answers io.EOF only at src's end. (Not
// io.ReadFull, which answers io.ErrUnexpectedEOF for an end after some bytes: the error net/http gives for
// a body cut short, which must fail the Put, not end it.)
func fill(src io.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := src.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// writeChunk stores one chunk. The update comes first: on Postgres it holds the blob's row until the
// chunk commits, so a sweep claiming the blob waits and then finds it fresh, and a blob a sweep claimed
// first gets no more chunks.
func (s *DB) writeChunk(ctx context.Context, id, seq int64, data []byte) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Exec("UPDATE blobs SET updated_at = ? WHERE blob_id = ? AND state = 'writing'", time.Now().Unix(), id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return errSwept
		}
		return tx.Exec("INSERT INTO blob_chunks (blob_id, seq, data) VALUES (?, ?, ?)", id, seq, data).Error
	})
}

// commit makes blob id the current blob of key, retiring the one it replaces, in one short transaction,
// then deletes the retired one. On Postgres the commits of one key take turns (a transaction advisory lock
// on a hash of the key): two at once would each retire the same old blob, and the later would then meet
// the unique index on current keys. SQLite runs one write transaction at a time anyway.
func (s *DB) commit(ctx context.Context, id int64, key string, info *Info) error {
	var old []int64
	now := time.Now().Unix()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if models.IsPostgres(tx) {
			if err := tx.Exec("SELECT pg_advisory_xact_lock(?, ?)", commitLockClass, keyLock(key)).Error; err != nil {
				return err
			}
		}
		if err := tx.Raw("UPDATE blobs SET state = 'dead', updated_at = ? WHERE blob_key = ? AND state = 'current' RETURNING blob_id",
			now, key).Scan(&old).Error; err != nil {
			return err
		}
		res := tx.Exec("UPDATE blobs SET state = 'current', size = ?, sha256 = ?, updated_at = ? WHERE blob_id = ? AND state = 'writing'",
			info.Size, hex.EncodeToString(info.SHA256[:]), now, id)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected != 1 {
			return errSwept
		}
		return nil
	})
	if err != nil {
		return err
	}
	info.Modified = time.Unix(now, 0)
	s.purgeAll(ctx, old)
	return nil
}

// keyLock answers the advisory lock of key within commitLockClass: keys that share one merely take turns.
func keyLock(key string) int32 {
	sum := sha256.Sum256([]byte(key))
	return int32(binary.BigEndian.Uint32(sum[:]))
}

// Open implements Store.
func (s *DB) Open(ctx context.Context, key string) (Reader, error) {
	row, info, err := s.current(ctx, key)
	if err != nil {
		return nil, err
	}
	return newReader(ctx, info, &chunks{ctx: ctx, db: s.db, id: row.ID, key: key, size: info.Size}, nil), nil
}

// Stat implements Store.
func (s *DB) Stat(ctx context.Context, key string) (Info, error) {
	_, info, err := s.current(ctx, key)
	return info, err
}

// current answers key's current blob.
func (s *DB) current(ctx context.Context, key string) (blobRow, Info, error) {
	if err := checkKey(key); err != nil {
		return blobRow{}, Info{}, err
	}
	var row blobRow
	err := s.db.WithContext(ctx).Where("blob_key = ? AND state = 'current'", key).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return blobRow{}, Info{}, notFound(key)
	}
	if err != nil {
		return blobRow{}, Info{}, err
	}
	info, err := row.info()
	return row, info, err
}

// chunks reads one blob's chunks in order, a query each, through one buffer.
type chunks struct {
	ctx  context.Context
	db   *gorm.DB
	id   int64
	key  string
	size int64
	seq  int64 // the next chunk
	got  int64 // bytes fetched so far
	buf  []byte
	off  int
}

func (c *chunks) Read(p []byte) (int, error) {
	if c.off == len(c.buf) {
		if c.got >= c.size {
			return 0, io.EOF
		}
		if err := c.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.buf[c.off:])
	c.off += n
	return n, nil
}

func (c *chunks) next() (err error) {
	rows, err := c.db.WithContext(c.ctx).Raw("SELECT data FROM blob_chunks WHERE blob_id = ? AND seq = ?", c.id, c.seq).Rows()
	if err != nil {
		return err
	}
	defer func() {
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
	}()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return models.Errorf(models.Conflict, "blob %q was replaced or deleted while it was read, retry", c.key)
	}
	var data sql.RawBytes // the driver's memory, valid until the next call on rows: copied at once
	if err := rows.Scan(&data); err != nil {
		return err
	}
	if len(data) == 0 {
		return fmt.Errorf("blob %q: %w", c.key, errCorrupt)
	}
	c.buf = append(c.buf[:0], data...)
	c.off = 0
	c.seq++
	c.got += int64(len(data))
	return nil
}

// Delete implements Store.
func (s *DB) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	var ids []int64
	if err := s.db.WithContext(ctx).Raw("UPDATE blobs SET state = 'dead', updated_at = ? WHERE blob_key = ? AND state = 'current' RETURNING blob_id",
		time.Now().Unix(), key).Scan(&ids).Error; err != nil {
		return err
	}
	s.purgeAll(ctx, ids)
	return nil
}

// Sweep implements Store: it deletes the blobs that are not current and untouched for olderThan, the
// uploads and the deletes of a killed process.
func (s *DB) Sweep(ctx context.Context, olderThan time.Duration) error {
	db := s.db.WithContext(ctx)
	cutoff := time.Now().Add(-olderThan).Unix()
	var ids []int64
	if err := db.Raw("SELECT blob_id FROM blobs WHERE state <> 'current' AND updated_at < ?", cutoff).Scan(&ids).Error; err != nil {
		return err
	}
	for _, id := range ids {
		// The claim: a live Put refreshes updated_at with every chunk, so it is not claimed; of several
		// sweepers, one wins.
		res := db.Exec("UPDATE blobs SET state = 'dead', updated_at = ? WHERE blob_id = ? AND state <> 'current' AND updated_at < ?",
			time.Now().Unix(), id, cutoff)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			continue
		}
		if err := s.purge(ctx, id); err != nil {
			return err
		}
	}
	return nil
}

// purgeAll deletes blobs just retired. The caller has its answer already (the retire is what counts), so a
// failure is left to Sweep, and the client's going away does not stop it.
func (s *DB) purgeAll(ctx context.Context, ids []int64) {
	if len(ids) == 0 {
		return
	}
	cctx, cancel := cleanupContext(ctx)
	defer cancel()
	for _, id := range ids {
		_ = s.purge(cctx, id)
	}
}

// purge deletes a dead blob: its chunks, purgeBatch a statement, then its row. A blob that is not dead is
// left alone; dead is final, so one look is enough.
func (s *DB) purge(ctx context.Context, id int64) error {
	db := s.db.WithContext(ctx)
	var state string
	err := db.Raw("SELECT state FROM blobs WHERE blob_id = ?", id).Row().Scan(&state)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && state != "dead") {
		return nil
	}
	if err != nil {
		return err
	}
	var top sql.NullInt64
	if err := db.Raw("SELECT max(seq) FROM blob_chunks WHERE blob_id = ?", id).Row().Scan(&top); err != nil {
		return err
	}
	for lo := int64(0); top.Valid && lo <= top.Int64; lo += purgeBatch {
		if err := db.Exec("DELETE FROM blob_chunks WHERE blob_id = ? AND seq >= ? AND seq < ?", id, lo, lo+purgeBatch).Error; err != nil {
			return err
		}
	}
	return db.Exec("DELETE FROM blobs WHERE blob_id = ? AND state = 'dead'", id).Error
}

// cleanupContext answers the context that deletes what a Put or Delete retired: it outlives ctx (the
// client may have gone), for cleanupTimeout at most.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}
