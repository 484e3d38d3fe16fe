// Package dialer runs ICTCore campaigns: start and stop, and the engine's ticks on the job queue that
// turn a campaign's group into transmissions and release their attempts at the campaign's cpm
// (models/ictcore/campaign_tick.go), delivered by the delivery package's jobs. Campaign start and stop
// schedules fire through the schedules package.
package dialer

import (
	"cmp"
	"context"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"gorm.io/gorm"

	"switchboard/models"
	"switchboard/models/ictcore"
	"switchboard/queue"
	"switchboard/schedules"
)

// Config is what the dialer is built from.
type Config struct {
	DB        *gorm.DB
	Queue     *queue.Queue
	Log       *slog.Logger
	Enqueue   ictcore.Enqueue    // adds the delivery jobs of released attempts (delivery.Service.Enqueue)
	Schedules *schedules.Service // campaign start and stop schedules; nil: none
	// Clock is the engine's time (pacing and tick times); nil: time.Now. Tests move it by hand.
	Clock func() time.Time
	// Region reads national phone numbers (an ISO country code, PHONE_DEFAULT_REGION; empty: only
	// +E.164 numbers tell their zone); Zone is the time zone of contacts whose number tells none (nil: UTC).
	Region string
	Zone   *time.Location
	// MaxWait bounds one tick's wait for its due time (0: DefaultMaxWait): a campaign waiting hours for a
	// calling window looks again this often, and a test's Clock, moved by hand, is seen within it.
	MaxWait time.Duration
	// Workers is how many ticks one node runs at once, on the ticks' own queue (0: DefaultWorkers): a
	// running campaign's chain holds one while its next tick waits for its due time, up to a second.
	Workers int
}

// DefaultMaxWait is the longest a tick waits before looking at its campaign again; inProcessWait the
// longest it waits holding its worker instead of snoozing; DefaultWorkers the ticks a node runs at once.
const (
	DefaultMaxWait = time.Minute
	inProcessWait  = time.Second
	DefaultWorkers = 20
)

// tickQueue is the ticks' own queue (queue.Lane). On the deliveries' queue a tick waited behind the
// deliveries its last release queued, and the workers idled while it released the next (the share bench,
// two workers a node: half a second every 5,000 attempts); and a tick waiting for its due time held a
// worker the deliveries needed (with the tick first in line, a node of two workers ran at half speed).
const tickQueue = "dialer_ticks"

// Service starts, stops and runs campaigns.
type Service struct {
	db        *gorm.DB
	queue     *queue.Queue
	log       *slog.Logger
	enqueue   ictcore.Enqueue
	schedules *schedules.Service
	now       func() time.Time
	region    string
	zone      string
	maxWait   time.Duration
}

// Schedule actions of campaigns.
const (
	ActionStart = "start"
	ActionStop  = "stop"
)

// New builds the dialer and registers its tick worker (and schedule actions) before the queue starts.
func New(c Config) *Service {
	s := &Service{db: c.DB, queue: c.Queue, log: c.Log, enqueue: c.Enqueue, schedules: c.Schedules, now: c.Clock,
		region: c.Region, zone: "UTC", maxWait: c.MaxWait}
	if s.maxWait <= 0 {
		s.maxWait = DefaultMaxWait
	}
	if c.Zone != nil {
		s.zone = c.Zone.String()
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	if s.now == nil {
		s.now = time.Now
	}
	c.Queue.Lane(tickQueue, cmp.Or(c.Workers, DefaultWorkers))
	river.AddWorker(c.Queue.Workers(), &tickWorker{s: s})
	if s.schedules != nil {
		s.schedules.Handle(ActionStart, func(ctx context.Context, tx *gorm.DB, sc *ictcore.Schedule) error {
			return ictcore.StartCampaign(ctx, tx, ictcore.AnyOwner, sc.TargetID, s.now(), s.arm)
		})
		s.schedules.Handle(ActionStop, func(ctx context.Context, tx *gorm.DB, sc *ictcore.Schedule) error {
			return ictcore.StopCampaign(ctx, tx, ictcore.AnyOwner, sc.TargetID)
		})
	}
	return s
}

// Start starts or resumes a campaign the owner may see.
func (s *Service) Start(ctx context.Context, o ictcore.Owner, id int64) error {
	return ictcore.StartCampaign(ctx, s.db, o, id, s.now(), s.arm)
}

// Stop pauses a running campaign the owner may see.
func (s *Service) Stop(ctx context.Context, o ictcore.Owner, id int64) error {
	return ictcore.StopCampaign(ctx, s.db, o, id)
}

// Update changes a campaign's fields; a new cpm paces from now.
func (s *Service) Update(ctx context.Context, o ictcore.Owner, id int64, f ictcore.CampaignFields) (*ictcore.Campaign, error) {
	return ictcore.UpdateCampaign(ctx, s.db, o, id, f, s.now())
}

// errNoSchedules answers a schedule request on a dialer built without schedules.
var errNoSchedules = models.Errorf(models.Busy, "schedules are not running on this node")

// Schedule schedules a campaign's start or stop (action) and answers the schedule's id.
func (s *Service) Schedule(ctx context.Context, o ictcore.Owner, id int64, action string, w ictcore.When) (int64, error) {
	if s.schedules == nil {
		return 0, errNoSchedules
	}
	sc, err := ictcore.ScheduleCampaign(ctx, s.db, o, id, action, w, s.schedules.Arm)
	if err != nil {
		return 0, err
	}
	return sc.ID, nil
}

// Unschedule cancels every schedule of a campaign the owner may see.
func (s *Service) Unschedule(ctx context.Context, o ictcore.Owner, id int64) error {
	return ictcore.CancelCampaignSchedules(ctx, s.db, o, id)
}

// tickArgs is one tick of a campaign's chain, due at Due (unix ms of the dialer's clock).
type tickArgs struct {
	CampaignID int64 `json:"campaign_id"`
	Seq        int64 `json:"seq"`
	Due        int64 `json:"due"`
}

func (tickArgs) Kind() string { return "ictcore_campaign_tick" }

func (tickArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 25, Queue: tickQueue}
}

// arm queues the next tick of c's chain (ictcore.ArmTick).
func (s *Service) arm(tx *gorm.DB, c *ictcore.Campaign, at time.Time) error {
	return s.queue.InsertTx(tx, tickArgs{CampaignID: c.ID, Seq: c.TickSeq, Due: at.UnixMilli()}, nil)
}

type tickWorker struct {
	river.WorkerDefaults[tickArgs]
	s *Service
}

// Work runs the tick once it is due. Like the retry job it is inserted at once: a wait under a second
// happens here (a snoozed job is only fetched at the queue's next poll, up to a second late: the pacing
// bench measured a campaign at cpm 600 ten transmissions behind after a minute); a longer one snoozes.
func (w *tickWorker) Work(ctx context.Context, job *river.Job[tickArgs]) error {
	now := w.s.now()
	if wait := time.UnixMilli(job.Args.Due).Sub(now); wait > 0 {
		wait = min(wait, w.s.maxWait)
		if wait > inProcessWait {
			return river.JobSnooze(wait)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		now = w.s.now()
	}
	t, err := ictcore.TickCampaign(ctx, w.s.db, job.Args.CampaignID, job.Args.Seq, ictcore.TickEnv{Now: now, Enqueue: w.s.enqueue,
		Arm: w.s.arm, Region: w.s.region, Zone: w.s.zone})
	if err != nil {
		return err
	}
	switch {
	case !t.Current:
	case t.Status == ictcore.CampaignBroken:
		w.s.log.WarnContext(ctx, "campaign broken", "campaign_id", job.Args.CampaignID, "reason", t.Reason)
	case t.Status == ictcore.CampaignCompleted:
		w.s.log.InfoContext(ctx, "campaign completed", "campaign_id", job.Args.CampaignID)
	}
	return nil
}
