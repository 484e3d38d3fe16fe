package ictcore

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/cronspec"
	"switchboard/models"
)

// Schedules fire an action on a transmission (send) or, with the dialer, a campaign (start, stop) at a
// time or at every match of ICTCore's cron-like fields. Each row has exactly one job waiting on the queue
// for its NextRun; the job fires only while the row still has that NextRun, so cancelling is deleting the
// rows and a re-armed schedule's old job finds nothing to do.

// Schedule targets and actions.
const (
	TargetTransmission = "transmission"
	TargetCampaign     = "campaign"
	ActionSend         = "send"
)

// Schedule is one schedule.
type Schedule struct {
	ID       int64 `gorm:"primaryKey;column:schedule_id"`
	Target   string
	TargetID int64
	Action   string
	// The cron-like fields as given (empty: `*`); all empty for a one-shot schedule.
	Year, Month, Day, Weekday, Hour, Minute string
	Recurring                               bool
	TimeZone                                string // IANA name the fields are read in
	NextRun                                 int64  // unix seconds
	UserID                                  int64  // the target's owner
	CreatedAt                               int64
}

// When is a schedule request: one of the one-shot fields, or cron-like fields (Recurring: every match)
// read in time zone Zone (nil: UTC). Nothing at all means at once (review R5: the guide's schedule
// requests have no body).
type When struct {
	Fields    cronspec.Fields
	Zone      *time.Location
	Delay     *int64 // seconds from now
	Timestamp *int64 // unix seconds
	Datetime  *time.Time
	Recurring bool
}

// first checks w and answers its first firing after now.
func (w When) first(now time.Time) (time.Time, error) {
	oneShot := 0
	var at time.Time
	if w.Delay != nil {
		oneShot, at = oneShot+1, now.Add(time.Duration(*w.Delay)*time.Second)
	}
	if w.Timestamp != nil {
		oneShot, at = oneShot+1, time.Unix(*w.Timestamp, 0)
	}
	if w.Datetime != nil {
		oneShot, at = oneShot+1, *w.Datetime
	}
	switch {
	case oneShot > 1:
		return time.Time{}, models.Errorf(models.Invalid, "give one of delay, timestamp and datetime")
	case oneShot == 1 && (!w.Fields.Empty() || w.Recurring):
		return time.Time{}, models.Errorf(models.Invalid, "delay, timestamp and datetime fire once: they do not mix with year, month, day, weekday, hour, minute or is_recurring")
	case oneShot == 1:
		return later(at, now), nil // a time already past fires at once
	case w.Fields.Empty() && w.Recurring:
		return time.Time{}, models.Errorf(models.Invalid, "is_recurring needs at least one of year, month, day, weekday, hour and minute")
	case w.Fields.Empty():
		return now, nil
	}
	spec, err := cronspec.Parse(w.Fields)
	if err != nil {
		return time.Time{}, models.Errorf(models.Invalid, "%s", err)
	}
	next, ok := spec.Next(now, w.Zone)
	if !ok {
		return time.Time{}, models.Errorf(models.Invalid, "the schedule never fires: no minute before %d matches it", cronspec.MaxYear+1)
	}
	return next, nil
}

// Arm puts on the queue, in tx, the job that fires schedule s at s.NextRun.
type Arm func(tx *gorm.DB, s *Schedule) error

var schedules = table{"schedules", "schedule_id", "schedule"}

// ScheduleTransmission schedules sending a transmission the owner may see. A completed or invalid
// transmission has nothing left to send (Conflict).
func ScheduleTransmission(ctx context.Context, db *gorm.DB, o Owner, id int64, w When, arm Arm) (*Schedule, error) {
	return schedule(ctx, db, TargetTransmission, id, ActionSend, w, arm, func(tx *gorm.DB) (int64, error) {
		// Share-locked, so a delete of the transmission waits for the schedule (and then removes it).
		q := o.scope(tx.Table(transmissions.name)).Where("transmission_id = ?", id)
		if models.IsPostgres(tx) {
			q = q.Clauses(lockShare)
		}
		var t Transmission
		if err := q.Take(&t).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return 0, transmissions.notFound(id)
			}
			return 0, err
		}
		if t.Status == StatusCompleted || t.Status == StatusInvalid {
			return 0, models.Errorf(models.Conflict, "transmission %d is %s: there is nothing left to send", id, t.Status)
		}
		return t.UserID, nil
	})
}

// ScheduleCampaign schedules a campaign's start or stop (action); whether the campaign can then start
// or stop is decided when the schedule fires.
func ScheduleCampaign(ctx context.Context, db *gorm.DB, o Owner, id int64, action string, w When, arm Arm) (*Schedule, error) {
	return schedule(ctx, db, TargetCampaign, id, action, w, arm, func(tx *gorm.DB) (int64, error) {
		q := o.scope(tx.Table(campaigns.name)).Where("campaign_id = ?", id)
		if models.IsPostgres(tx) {
			q = q.Clauses(lockShare)
		}
		var c Campaign
		if err := q.Take(&c).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return 0, campaigns.notFound(id)
			}
			return 0, err
		}
		return c.UserID, nil
	})
}

// schedule checks w, lets target check (and lock) the target and answer its owner, and stores the
// schedule with its first firing armed, in one transaction.
func schedule(ctx context.Context, db *gorm.DB, target string, id int64, action string, w When, arm Arm, check func(tx *gorm.DB) (int64, error)) (*Schedule, error) {
	now := time.Now()
	at, err := w.first(now)
	if err != nil {
		return nil, err
	}
	s := &Schedule{Target: target, TargetID: id, Action: action, Year: w.Fields.Year, Month: w.Fields.Month,
		Day: w.Fields.Day, Weekday: w.Fields.Weekday, Hour: w.Fields.Hour, Minute: w.Fields.Minute, Recurring: w.Recurring,
		TimeZone: zoneName(w.Zone), NextRun: at.Unix(), CreatedAt: now.Unix()}
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.UserID, err = check(tx); err != nil {
			return err
		}
		if err := tx.Table(schedules.name).Create(s).Error; err != nil {
			return err
		}
		return arm(tx, s)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// CancelTransmissionSchedules deletes every schedule of a transmission the owner may see.
func CancelTransmissionSchedules(ctx context.Context, db *gorm.DB, o Owner, id int64) error {
	return cancelSchedules(ctx, db, transmissions, TargetTransmission, o, id)
}

// CancelCampaignSchedules deletes every schedule of a campaign the owner may see.
func CancelCampaignSchedules(ctx context.Context, db *gorm.DB, o Owner, id int64) error {
	return cancelSchedules(ctx, db, campaigns, TargetCampaign, o, id)
}

func cancelSchedules(ctx context.Context, db *gorm.DB, t table, target string, o Owner, id int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := exists(tx, t, o, id); err != nil {
			return err
		}
		return deleteSchedules(tx, target, id)
	})
}

// deleteSchedules removes a target's schedules, in the transaction that deletes or cancels it.
func deleteSchedules(tx *gorm.DB, target string, id int64) error {
	return tx.Table(schedules.name).Where("target = ? AND target_id = ?", target, id).Delete(nil).Error
}

// Fire runs the action of schedule id for its firing due at due (unix seconds), in one transaction
// with re-arming a recurring schedule for its next match, or deleting a spent one. A schedule that is
// gone, or was re-armed for another time, fires nothing. An action refused for what its target has
// become (a transmission already sent, a deleted one) is answered as refused, not err: the schedule moves
// on all the same. err is a store failure; nothing changed then.
func Fire(ctx context.Context, db *gorm.DB, id, due int64, run func(tx *gorm.DB, s *Schedule) error, arm Arm) (fired *Schedule, refused, err error) {
	err = db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		q := tx.Table(schedules.name).Where("schedule_id = ? AND next_run = ?", id, due)
		if models.IsPostgres(tx) {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var s Schedule
		if err := q.Take(&s).Error; err != nil {
			if errors.Is(err, gorm.ErrRecordNotFound) {
				return nil
			}
			return err
		}
		fired = &s
		if refused = run(tx, &s); refused != nil {
			switch models.KindOf(refused) {
			case models.Internal, models.Busy:
				return refused // the store failed: the job runs again
			}
		}
		if s.Recurring {
			if next, ok := nextRun(&s, time.Unix(due, 0)); ok {
				s.NextRun = next.Unix()
				if err := tx.Table(schedules.name).Where("schedule_id = ?", id).Update("next_run", s.NextRun).Error; err != nil {
					return err
				}
				return arm(tx, &s)
			}
		}
		return tx.Table(schedules.name).Where("schedule_id = ?", id).Delete(nil).Error
	})
	if err != nil {
		return nil, nil, err
	}
	return fired, refused, nil
}

// nextRun answers the match of a recurring schedule after t, and false when it has none left.
func nextRun(s *Schedule, t time.Time) (time.Time, bool) {
	spec, err := cronspec.Parse(cronspec.Fields{Year: s.Year, Month: s.Month, Day: s.Day, Weekday: s.Weekday, Hour: s.Hour, Minute: s.Minute})
	if err != nil {
		return time.Time{}, false // stored only after parsing, so never
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		loc = time.UTC // a zone this node's tzdata lacks: read the fields in UTC rather than stop
	}
	// A node down past some matches fires once on its return, not once per missed match.
	return spec.Next(later(t, time.Now().Add(-time.Minute)), loc)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func zoneName(loc *time.Location) string {
	if loc == nil {
		return "UTC"
	}
	return loc.String()
}
