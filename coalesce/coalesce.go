// Package coalesce runs concurrent calls as batches (group commit): calls that arrive while a batch is
// running wait and form the next one, so each batch pays one round of fixed costs (a transaction, its
// commit) for all of its calls. An idle caller's call runs at once, alone: batching adds no wait (but
// see Linger).
package coalesce

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Batcher batches calls of Q answered by A. One batch runs at a time.
type Batcher[Q, A any] struct {
	run    func(ctx context.Context, qs []Q) ([]A, error)
	max    int
	linger time.Duration
	sleep  func(time.Duration) // time.Sleep; tests replace it

	mu      sync.Mutex
	waiting []*call[Q, A]
	running bool
}

type call[Q, A any] struct {
	ctx  context.Context
	q    Q
	a    A
	err  error
	done chan struct{}
}

// New answers a Batcher whose batches hold at most max calls. run answers one A per Q, in order, or an
// error that answers every call of the batch. It runs on a context without the callers' cancellation:
// a batch is shared, and one caller giving up must not undo the others' work.
func New[Q, A any](max int, run func(ctx context.Context, qs []Q) ([]A, error)) *Batcher[Q, A] {
	return &Batcher[Q, A]{run: run, max: max, sleep: time.Sleep}
}

// Linger makes a batch that would hold fewer calls than the batch before it wait up to d first, so that
// the callers that batch just answered can join it: clients that call again at once otherwise settle
// into alternating half batches, and two of those cost nearly twice one full batch (the commit delay of
// a database's group commit). It answers b. The wait follows only a batch of several calls: an idle
// caller's call still runs at once.
func (b *Batcher[Q, A]) Linger(d time.Duration) *Batcher[Q, A] {
	b.linger = d
	return b
}

// Do runs q in the next batch and answers its A. A caller whose ctx ends while it waits gets ctx's error
// at once; if its batch had already started, its work may still be done.
func (b *Batcher[Q, A]) Do(ctx context.Context, q Q) (A, error) {
	c := &call[Q, A]{ctx: ctx, q: q, done: make(chan struct{})}
	b.mu.Lock()
	b.waiting = append(b.waiting, c)
	lead := !b.running
	b.running = true
	b.mu.Unlock()
	if lead {
		go b.drain(context.WithoutCancel(ctx))
	}
	select {
	case <-c.done:
		return c.a, c.err
	case <-ctx.Done():
		var zero A
		return zero, ctx.Err()
	}
}

// drain runs batches until no call waits.
func (b *Batcher[Q, A]) drain(ctx context.Context) {
	last := 0 // the calls of the batch before
	for {
		b.mu.Lock()
		if w := len(b.waiting); b.linger > 0 && w > 0 && w < min(last, b.max) {
			b.mu.Unlock()
			b.sleep(b.linger)
			b.mu.Lock()
		}
		n := min(len(b.waiting), b.max)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		batch := b.waiting[:n:n]
		b.waiting = b.waiting[n:]
		b.mu.Unlock()
		last = n
		b.runBatch(ctx, batch)
	}
}

func (b *Batcher[Q, A]) runBatch(ctx context.Context, batch []*call[Q, A]) {
	live := batch[:0:0]
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.err = err // gave up before its batch started: not run
			close(c.done)
			continue
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	qs := make([]Q, len(live))
	for i, c := range live {
		qs[i] = c.q
	}
	as, err := b.safeRun(ctx, qs)
	for i, c := range live {
		if err != nil {
			c.err = err
		} else {
			c.a = as[i]
		}
		close(c.done)
	}
}

// safeRun runs a batch, turning a panic into the batch's error: the callers are answered and later
// batches still run.
func (b *Batcher[Q, A]) safeRun(ctx context.Context, qs []Q) (as []A, err error) {
	defer func() {
		if r := recover(); r != nil {
			as, err = nil, fmt.Errorf("coalesce: batch panicked: %v", r)
		}
	}()
	as, err = b.run(ctx, qs)
	if err == nil && len(as) != len(qs) {
		err = fmt.Errorf("coalesce: %d answers for %d calls", len(as), len(qs))
	}
	return as, err
}
