package collect

import (
	"context"
	"sync"
	"sync/atomic"

	"gorm.io/gorm"

	"switchboard/models"
	"switchboard/models/events"
)

// A Collect! request is authenticated by its session, read from the store (the session, its database and
// its operator), and that read was half the cost of a row GET. A node keeps what it read, by access token
// hash, as long as no session, operator or database has changed since: every such change is a revocation
// (logout, refresh, a replayed refresh token, an operator changed or deleted, a database deleted), which
// drops everything the node kept, at once after its commit, and on Postgres every other node's too, through
// a notice on the store's call-event channel (realtime.Relay hears it). A Postgres node that does not hear
// the other nodes (its relay is reconnecting) reads the store on every request until it does again. The
// embedded store is one process: its revocations are all made where the lookups are kept.

// RevocationNotice is the payload a revocation announces on Postgres.
const RevocationNotice = "collect-sessions-revoked"

// generations count, per store, the revocations this process made or heard; a kept lookup is good while
// its store is at the generation the lookup was read in. A store is its connection pool (Config.ConnPool):
// every handle of one opened store shares it, transactions and WithContext copies included, where each of
// those has a *gorm.Config of its own.
var generations sync.Map // gorm.ConnPool → *atomic.Uint64

func generationOf(db *gorm.DB) *atomic.Uint64 {
	if g, ok := generations.Load(db.Config.ConnPool); ok {
		return g.(*atomic.Uint64)
	}
	g, _ := generations.LoadOrStore(db.Config.ConnPool, new(atomic.Uint64))
	return g.(*atomic.Uint64)
}

// RevocationCount answers how many revocations of the store db this process has made or heard: it moves
// whenever a session may have ended.
func RevocationCount(db *gorm.DB) uint64 { return generationOf(db).Load() }

// LiveSessions answers which of the session ids ids are still in the store.
func LiveSessions(ctx context.Context, db *gorm.DB, ids []int64) (map[int64]bool, error) {
	var live []int64
	if err := db.WithContext(ctx).Model(&session{}).Where("id IN ?", ids).Pluck("id", &live).Error; err != nil {
		return nil, err
	}
	out := make(map[int64]bool, len(live))
	for _, id := range live {
		out[id] = true
	}
	return out, nil
}

// Revocations is a Postgres node's ear for the other nodes' revocations: its relay calls Heard for each
// notice and Listening as its LISTEN connection comes and goes.
type Revocations struct {
	gen       *atomic.Uint64
	listening atomic.Bool
}

// NewRevocations answers the ear for the store db, deaf until its relay listens.
func NewRevocations(db *gorm.DB) *Revocations { return &Revocations{gen: generationOf(db)} }

// Heard drops what the node kept: another node (or this one) revoked something.
func (r *Revocations) Heard() { r.gen.Add(1) }

// Listening tells whether the node hears revocations now; while it does not, lookups are not kept.
func (r *Revocations) Listening(on bool) {
	if on {
		r.gen.Add(1) // what was kept before the gap may be stale: start afresh
	}
	r.listening.Store(on)
	if !on {
		r.gen.Add(1)
	}
}

// revoking runs write, a transaction that ends or changes sessions, operators or databases, announces it
// to the other nodes inside it (Postgres), and drops this node's kept lookups after it.
func revoking(ctx context.Context, db *gorm.DB, write func(tx *gorm.DB) error) error {
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := write(tx); err != nil {
			return err
		}
		if models.IsPostgres(tx) {
			return events.Announce(tx, RevocationNotice)
		}
		return nil
	})
	generationOf(db).Add(1) // after the commit (after a rollback too: a needless drop costs one read)
	return err
}

// keptMax bounds the lookups a node keeps; past it they are all dropped and kept afresh.
const keptMax = 100_000

// kept is a node's session lookups by access token hash, each with the generation it was read in.
type kept struct {
	mu sync.Mutex
	m  map[string]keptLookup
}

type keptLookup struct {
	f   *found
	gen uint64
}

func (k *kept) get(hash string, gen uint64) (*found, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	l, ok := k.m[hash]
	if !ok || l.gen != gen {
		return nil, false
	}
	return l.f, true
}

func (k *kept) put(hash string, f *found, gen uint64) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.m == nil || len(k.m) >= keptMax {
		k.m = make(map[string]keptLookup)
	}
	k.m[hash] = keptLookup{f, gen}
}
