package models

import (
	"context"
	"database/sql/driver"
	"slices"
	"sync"
	"time"
)

// SQLite has one writer at a time, and a writer that finds the lock taken polls for it (busy_timeout:
// sleeps of 1 to 100 ms). A CSV import that commits batch after batch takes the lock again microseconds
// after releasing it, so polling writers kept missing the gaps: the bench measured single creates during
// a million-row import at p99 1.75 s and up to 7.6 s, near the 10 s busy_timeout where they would fail.
// The gate queues this process's write transactions in arrival order instead, so a create waits for
// at most the batch in progress (the import writes SQLite transactions of 1000 rows for that reason).
// SQLite's own lock still guards against other processes and against writes outside a transaction.

// writeGate is a first-in, first-out lock whose waits end with their context or after gateWait. (A
// sync.Mutex promises no order; a channel's waiters are served in order only as the runtime happens to.)
type writeGate struct {
	mu    sync.Mutex
	held  bool
	queue []chan struct{} // waiters in arrival order; closing one hands it the gate
}

// gateWait bounds the wait for the gate as busy_timeout bounds the wait for SQLite's lock; past it the
// transaction fails as busy (503 with Retry-After), as it would have without the gate.
const gateWait = 10 * time.Second

func (g *writeGate) acquire(ctx context.Context) error {
	g.mu.Lock()
	if !g.held {
		g.held = true
		g.mu.Unlock()
		return nil
	}
	turn := make(chan struct{})
	g.queue = append(g.queue, turn)
	g.mu.Unlock()
	t := time.NewTimer(gateWait)
	defer t.Stop()
	var err error
	select {
	case <-turn:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-t.C:
		err = Errorf(Busy, "the store is busy with other writes, retry")
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if i := slices.Index(g.queue, turn); i >= 0 {
		g.queue = slices.Delete(g.queue, i, i+1)
		return err
	}
	// Handed the gate as the wait ended: pass it on.
	g.handOn()
	return err
}

func (g *writeGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.handOn()
}

// handOn gives the gate to the first waiter, or frees it; g.mu is held.
func (g *writeGate) handOn() {
	if len(g.queue) == 0 {
		g.held = false
		return
	}
	close(g.queue[0])
	g.queue = g.queue[1:]
}

// waiting answers how many wait for the gate (tests).
func (g *writeGate) waiting() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.queue)
}

// gatedConnector opens the driver's connections wrapped so that write transactions pass the gate.
type gatedConnector struct {
	dsn  string
	drv  driver.Driver
	gate *writeGate
}

func (c *gatedConnector) Connect(context.Context) (driver.Conn, error) {
	cn, err := c.drv.Open(c.dsn)
	if err != nil {
		return nil, err
	}
	return &gatedConn{cn.(sqliteConn), c.gate}, nil
}

func (c *gatedConnector) Driver() driver.Driver { return c.drv }

// sqliteConn is what the SQLite driver's connections implement (and all database/sql needs of them).
type sqliteConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
}

type gatedConn struct {
	sqliteConn
	gate *writeGate
}

// BeginTx waits for the gate, then begins (immediate, so SQLite's lock is taken at once); read-only
// transactions skip the gate, as they skip SQLite's write lock.
func (c *gatedConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if opts.ReadOnly {
		return c.sqliteConn.BeginTx(ctx, opts)
	}
	if err := c.gate.acquire(ctx); err != nil {
		return nil, err
	}
	tx, err := c.sqliteConn.BeginTx(ctx, opts)
	if err != nil {
		c.gate.release()
		return nil, err
	}
	return &gatedTx{Tx: tx, release: sync.OnceFunc(c.gate.release)}, nil
}

// Begin is the pre-context form; database/sql calls BeginTx.
func (c *gatedConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

type gatedTx struct {
	driver.Tx
	release func()
}

func (t *gatedTx) Commit() error {
	defer t.release()
	return t.Tx.Commit()
}

func (t *gatedTx) Rollback() error {
	defer t.release()
	return t.Tx.Rollback()
}
