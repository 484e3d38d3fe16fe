// Package queue is Switchboard's kept job queue: River, on the store Switchboard runs on. Jobs are rows in
// River's tables (created by models.Migrate, step 9), inserted in the same transaction as the change that
// calls for them, so a job exists exactly when its change committed. A node works them under a lease: a
// killed node's jobs are rescued and worked again by a node that lives on (see RescueAfter), and a
// stopped node finishes what it took first (Stop).
//
// On the embedded SQLite store one River client (riversqlite) over gorm's own *sql.DB both inserts and
// works: SQLite has one writer at a time, so River's writes pass the same in-process write gate as ours.
// On Postgres the working client uses riverpgxv5 over a pgx pool of its own (from the same URL), which
// gives it LISTEN/NOTIFY; jobs are inserted through a second, insert-only client on riverdatabasesql over
// gorm's *sql.DB, the only way River can insert inside a transaction gorm began. Its NOTIFY reaches the
// working clients of every node at commit.
//
// Kinds of work register their workers (Workers) before Start; the dialer's campaigns and schedules
// will add theirs the same way.
package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"

	"switchboard/models"
)

// Config tunes the queue; zero values take the defaults.
type Config struct {
	Log *slog.Logger
	// Workers is how many jobs one node works at once; 0: DefaultWorkers. Attempts spend most of their
	// time waiting for a far end, not on the store, so this is well above the store's connections.
	Workers int
	// PollInterval is how often a node looks for jobs besides being told of new ones (River's
	// FetchPollInterval, 1 s); FetchCooldown is the least time between two looks (0:
	// DefaultFetchCooldown).
	PollInterval, FetchCooldown time.Duration
	// JobTimeout bounds one job's run (its context ends then); 0: DefaultJobTimeout.
	JobTimeout time.Duration
	// RescueAfter is when a job still running is taken for lost (its node killed) and run again; 0:
	// DefaultRescueAfter. It must exceed JobTimeout, or live jobs would be run twice.
	RescueAfter time.Duration
}

// The defaults.
const (
	DefaultWorkers = 50
	// DefaultFetchCooldown: River's 100 ms capped a node at Workers jobs per 100 ms (the sends bench: 490
	// sends/s with 50 workers; 686 with 10 ms). Looks only come this often while jobs keep arriving.
	DefaultFetchCooldown = 10 * time.Millisecond
	DefaultJobTimeout    = 2 * time.Minute
	DefaultRescueAfter   = 5 * time.Minute
	// stopCancelWait bounds the wait for jobs whose contexts Stop has cancelled (they only write their
	// outcome back, which is quick).
	stopCancelWait = 5 * time.Second
)

// Queue is one node's River clients.
type Queue struct {
	db      *gorm.DB
	cfg     Config
	workers *river.Workers

	mu     sync.RWMutex           // guards the clients, set by Start and cleared by Stop
	insert *river.Client[*sql.Tx] // inserts inside gorm's transactions
	work   interface {
		Stop(context.Context) error
		StopAndCancel(context.Context) error
	}
	pool *pgxpool.Pool // Postgres: the working client's own pool

	periodic []*river.PeriodicJob // registered by Every before Start
	lanes    map[string]int       // queues of their own and their workers, registered by Lane before Start
}

// New answers a queue over the store db; register workers, then Start it.
func New(db *gorm.DB, cfg Config) *Queue {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	if cfg.Workers <= 0 {
		cfg.Workers = DefaultWorkers
	}
	if cfg.FetchCooldown <= 0 {
		cfg.FetchCooldown = DefaultFetchCooldown
	}
	if cfg.JobTimeout <= 0 {
		cfg.JobTimeout = DefaultJobTimeout
	}
	if cfg.RescueAfter <= 0 {
		cfg.RescueAfter = DefaultRescueAfter
	}
	return &Queue{db: db, cfg: cfg, workers: river.NewWorkers()}
}

// Every has a job of the kind args makes inserted every interval, and once at Start, by one node of the
// deployment (River's elected leader), from Start on. Register it, like its worker, before Start.
func (q *Queue) Every(interval time.Duration, args func() river.JobArgs) {
	q.periodic = append(q.periodic, river.NewPeriodicJob(river.PeriodicInterval(interval),
		func() (river.JobArgs, *river.InsertOpts) { return args(), nil }, &river.PeriodicJobOpts{RunOnStart: true}))
}

// Lane gives jobs inserted with InsertOpts.Queue name a queue of their own, worked by workers of its
// own on each node: they never wait behind the default queue's jobs, nor hold its workers while they
// wait (the dialer's ticks). Register it, like its workers, before Start.
func (q *Queue) Lane(name string, workers int) {
	if q.lanes == nil {
		q.lanes = map[string]int{}
	}
	q.lanes[name] = workers
}

// Workers is the bundle the kinds of work add their workers to (river.AddWorker), before Start.
func (q *Queue) Workers() *river.Workers { return q.workers }

// errNotStarted answers an insert before Start (or after Stop): the change that called for the job is
// refused rather than committed without it.
var errNotStarted = models.Errorf(models.Busy, "the job queue is not running")

// Start builds the clients and starts working jobs, until Stop. The clients are not tied to ctx: a
// signal that ends ctx must not stop the workers before the HTTP server has drained (cmd/switchboard
// stops them in order).
func (q *Queue) Start(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.insert != nil {
		return errors.New("queue: started twice")
	}
	sqlDB, err := q.db.DB()
	if err != nil {
		return err
	}
	cfg := &river.Config{
		Logger:               q.cfg.Log.With("component", "queue"),
		Workers:              q.workers,
		Queues:               map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: q.cfg.Workers}},
		FetchPollInterval:    q.cfg.PollInterval,
		FetchCooldown:        q.cfg.FetchCooldown,
		JobTimeout:           q.cfg.JobTimeout,
		RescueStuckJobsAfter: q.cfg.RescueAfter,
		PeriodicJobs:         q.periodic,
	}
	for name, workers := range q.lanes {
		cfg.Queues[name] = river.QueueConfig{MaxWorkers: workers}
	}
	ctx = context.WithoutCancel(ctx)
	if !models.IsPostgres(q.db) {
		c, err := river.NewClient(riversqlite.New(sqlDB), cfg)
		if err != nil {
			return fmt.Errorf("queue: %w", err)
		}
		if err := c.Start(ctx); err != nil {
			return fmt.Errorf("queue: %w", err)
		}
		q.insert, q.work = c, c
		return nil
	}
	dialector, ok := q.db.Dialector.(*postgres.Dialector)
	if !ok || dialector.Config == nil || dialector.Config.DSN == "" {
		return errors.New("queue: the Postgres store was opened without a URL to open the queue's pool from")
	}
	pool, err := pgxpool.New(ctx, dialector.Config.DSN)
	if err != nil {
		return fmt.Errorf("queue: %w", err)
	}
	c, err := river.NewClient(riverpgxv5.New(pool), cfg)
	if err == nil {
		err = c.Start(ctx)
	}
	if err != nil {
		pool.Close()
		return fmt.Errorf("queue: %w", err)
	}
	// The inserting client tells the workers of new jobs by a NOTIFY in the inserting transaction, which
	// River skips when it sent one less than FetchCooldown ago. At its default of 100 ms a job inserted
	// just after another could commit after the fetch that NOTIFY caused, and then waited for the next
	// poll, up to a second: a third of the sends bench's runs took 1.1 s longer (4.2–4.3 s against 3.1–3.2).
	// At River's least, 1 ms, nearly every inserting transaction notifies.
	ins, err := river.NewClient(riverdatabasesql.New(sqlDB), &river.Config{Logger: cfg.Logger, Workers: q.workers,
		FetchCooldown: river.FetchCooldownMin})
	if err != nil {
		_ = c.StopAndCancel(ctx)
		pool.Close()
		return fmt.Errorf("queue: %w", err)
	}
	q.insert, q.work, q.pool = ins, c, pool
	return nil
}

// InsertTx adds a job in the transaction tx (a gorm transaction on the queue's store): the job exists
// exactly when tx commits.
func (q *Queue) InsertTx(tx *gorm.DB, args river.JobArgs, opts *river.InsertOpts) error {
	ins, sqlTx, err := q.inserter(tx)
	if err != nil {
		return err
	}
	_, err = ins.InsertTx(tx.Statement.Context, sqlTx, args, opts)
	return err
}

// inserter answers the inserting client and tx's own database/sql transaction.
func (q *Queue) inserter(tx *gorm.DB) (*river.Client[*sql.Tx], *sql.Tx, error) {
	q.mu.RLock()
	ins := q.insert
	q.mu.RUnlock()
	if ins == nil {
		return nil, nil, errNotStarted
	}
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return nil, nil, fmt.Errorf("queue: insert outside a transaction (%T)", tx.Statement.ConnPool)
	}
	return ins, sqlTx, nil
}

// InsertManyTx adds jobs in the transaction tx in one statement (a campaign's releases).
func (q *Queue) InsertManyTx(tx *gorm.DB, params []river.InsertManyParams) error {
	if len(params) == 0 {
		return nil
	}
	ins, sqlTx, err := q.inserter(tx)
	if err != nil {
		return err
	}
	_, err = ins.InsertManyFastTx(tx.Statement.Context, sqlTx, params)
	return err
}

// InsertManyIDsTx adds jobs in the transaction tx, as InsertManyTx does, and answers their ids.
func (q *Queue) InsertManyIDsTx(tx *gorm.DB, params []river.InsertManyParams) ([]int64, error) {
	if len(params) == 0 {
		return nil, nil
	}
	ins, sqlTx, err := q.inserter(tx)
	if err != nil {
		return nil, err
	}
	res, err := ins.InsertManyTx(tx.Statement.Context, sqlTx, params)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, len(res))
	for i, r := range res {
		ids[i] = r.Job.ID
	}
	return ids, nil
}

// Stop stops taking jobs and waits for the jobs under way to finish, until ctx ends; then it cancels
// their contexts (a delivery puts its attempt back in the queue) and waits a little more. It closes the
// queue's own connections; the store is the caller's to close, after Stop.
func (q *Queue) Stop(ctx context.Context) error {
	// Not under the lock: jobs finishing meanwhile insert their follow-ups through InsertTx.
	q.mu.RLock()
	work, pool := q.work, q.pool
	q.mu.RUnlock()
	if work == nil {
		return nil
	}
	err := work.Stop(ctx)
	if err != nil {
		cancelCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopCancelWait)
		err = work.StopAndCancel(cancelCtx)
		cancel()
	}
	q.mu.Lock()
	q.insert, q.work, q.pool = nil, nil, nil
	q.mu.Unlock()
	if pool != nil {
		pool.Close()
	}
	return err
}
