package queue

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// A Kind names a periodic job (its River kind): an empty type of the caller's, so each kind is a type of
// its own, as River registers workers by the job arguments' type.
type Kind interface{ Kind() string }

// Periodic has work run every interval, and once at Start, by one node of the deployment, as a job of
// kind K: one at a time, never retried (the next run catches up what one missed). Register it before
// Start.
func Periodic[K Kind](q *Queue, interval time.Duration, work func(ctx context.Context) error) {
	river.AddWorker(q.Workers(), &periodicWorker[K]{work: work})
	q.Every(interval, func() river.JobArgs { return periodicArgs[K]{interval: interval} })
}

type periodicArgs[K Kind] struct {
	interval time.Duration // not stored: only InsertOpts reads it, at insert
}

func (periodicArgs[K]) Kind() string {
	var k K
	return k.Kind()
}

// InsertOpts: one job a period (River's uniqueness by period), one attempt.
func (a periodicArgs[K]) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 1, UniqueOpts: river.UniqueOpts{ByPeriod: a.interval}}
}

type periodicWorker[K Kind] struct {
	river.WorkerDefaults[periodicArgs[K]]
	work func(ctx context.Context) error
}

func (w *periodicWorker[K]) Work(ctx context.Context, _ *river.Job[periodicArgs[K]]) error {
	return w.work(ctx)
}
