// Package schedules fires ICTCore schedules (models/ictcore/schedule.go) from the job queue: each
// schedule has one job due at its next run, which runs the action registered for the schedule's action
// name (delivery registers send; the dialer, campaign start and stop) and re-arms a recurring schedule
// in the same transaction.
package schedules

import (
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"switchboard/models"
	"switchboard/models/ictcore"
	"switchboard/queue"
)

// Action does what a schedule asks, in tx. An error of kind Internal or Busy is a store failure (the
// firing runs again); any other is a refusal the schedule moves past (logged).
type Action func(ctx context.Context, tx *gorm.DB, s *ictcore.Schedule) error

// Service arms and fires schedules.
type Service struct {
	db      *gorm.DB
	queue   *queue.Queue
	log     *slog.Logger
	actions map[string]Action
}

// New registers the firing worker on q (before q starts).
func New(db *gorm.DB, q *queue.Queue, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	s := &Service{db: db, queue: q, log: log, actions: map[string]Action{}}
	river.AddWorker(q.Workers(), &fireWorker{s: s})
	return s
}

// Handle registers the action run for schedules with that action name; call it before the queue starts.
func (s *Service) Handle(action string, fn Action) { s.actions[action] = fn }

// Arm puts the job that fires schedule sc at its NextRun on the queue, in tx (ictcore.Arm).
func (s *Service) Arm(tx *gorm.DB, sc *ictcore.Schedule) error {
	return s.queue.InsertTx(tx, fireArgs{ScheduleID: sc.ID, Due: sc.NextRun}, nil)
}

// fireArgs is the job of one firing of a schedule, due at Due (unix seconds).
type fireArgs struct {
	ScheduleID int64 `json:"schedule_id"`
	Due        int64 `json:"due"`
}

func (fireArgs) Kind() string { return "ictcore_schedule" }

func (fireArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{MaxAttempts: 10} }

type fireWorker struct {
	river.WorkerDefaults[fireArgs]
	s *Service
}

// Work fires the schedule once it is due. Like the retry job, it is inserted at once and snoozes until
// then: River promotes scheduled jobs only every few seconds, too coarse for a delay of a few seconds.
func (w *fireWorker) Work(ctx context.Context, job *river.Job[fireArgs]) error {
	if wait := time.Until(time.Unix(job.Args.Due, 0)); wait > 0 {
		return river.JobSnooze(wait)
	}
	return w.s.fire(ctx, job.Args.ScheduleID, job.Args.Due)
}

func (s *Service) fire(ctx context.Context, id, due int64) error {
	fired, refused, err := ictcore.Fire(ctx, s.db, id, due, func(tx *gorm.DB, sc *ictcore.Schedule) error {
		fn, ok := s.actions[sc.Action]
		if !ok {
			return models.Errorf(models.Invalid, "no action %q on this node", sc.Action)
		}
		return fn(ctx, tx, sc)
	}, s.Arm)
	if err != nil {
		return err
	}
	switch {
	case fired == nil:
		// Cancelled, or re-armed for another time: nothing to do.
	case refused != nil:
		s.log.WarnContext(ctx, "schedule fired, its action was refused", "schedule_id", id, "target", fired.Target,
			"target_id", fired.TargetID, "action", fired.Action, "reason", models.Message(refused))
	default:
		s.log.InfoContext(ctx, "schedule fired", "schedule_id", id, "target", fired.Target, "target_id", fired.TargetID,
			"action", fired.Action, "recurring", fired.Recurring)
	}
	return nil
}
