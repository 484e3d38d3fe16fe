package ictcore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/callhours"
	"switchboard/models"
)

// Campaign statuses (notes/ictcore.md 4.5). ICTCore's `ready` (transmissions prepared, not started) is
// not used: Switchboard prepares transmissions as the campaign runs, so a stopped campaign is paused.
const (
	CampaignNew       = "new"
	CampaignRunning   = "running"
	CampaignPaused    = "paused"
	CampaignCompleted = "completed"
	CampaignBroken    = "broken"
)

// Campaign is one campaign. The fields after ContactDone are the dialer's.
type Campaign struct {
	ID            int64 `gorm:"primaryKey;column:campaign_id"`
	ProgramID     *int64
	GroupID       *int64
	AccountID     *int64
	Cpm           int
	TryAllowed    int
	Status        string
	Reason        string // why it is broken
	ContactTotal  int64  // transmissions prepared
	ContactDone   int64  // transmissions released (no longer pending)
	ContactEnded  int64  // transmissions ended: completed, failed for good, or invalid
	ContactFailed int64  // of those, failed or invalid
	LastRun       *int64
	UserID        int64
	CreatedAt     int64
	UpdatedAt     int64

	CallingFrom     *int // calling window in the contact's local time: minutes of the day; nil: none
	CallingTo       *int
	CallingWeekdays string // cron-like weekday field
	Zones           string // time zones of its transmissions, comma-separated

	PreparedThrough int64 // the last group contact (by id) turned into a transmission
	PaceStart       int64 // unix ms: pacing counts releases from here (start, or a cpm change)
	PaceReleased    int64 // transmissions released since PaceStart
	TickSeq         int64 // the engine's current tick chain
}

var (
	campaigns = table{"campaigns", "campaign_id", "campaign"}
	groups    = table{"contact_groups", "group_id", "group"} // for exists; group.go has its own reads
)

// CampaignFields are a campaign's writable fields; nil: not given.
type CampaignFields struct {
	ProgramID, GroupID, AccountID *int64
	Cpm, TryAllowed               *int
	Calling                       *CallingHours // ClearCalling removes the window
	ClearCalling                  bool
}

// CallingHours is a calling window as the API gives it: "HH:MM" times and a weekday field.
type CallingHours struct{ From, To, Weekdays string }

// Window answers the campaign's calling window, and false when it has none.
func (c *Campaign) Window() (callhours.Window, bool) {
	if c.CallingFrom == nil || c.CallingTo == nil {
		return callhours.Window{}, false
	}
	w, err := callhours.Parse(hhmm(*c.CallingFrom), hhmm(*c.CallingTo), c.CallingWeekdays)
	return w, err == nil
}

// CallingHours answers the window as the API shows it (nil: none).
func (c *Campaign) CallingHours() *CallingHours {
	if c.CallingFrom == nil || c.CallingTo == nil {
		return nil
	}
	return &CallingHours{From: hhmm(*c.CallingFrom), To: hhmm(*c.CallingTo), Weekdays: c.CallingWeekdays}
}

func hhmm(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// CreateCampaign stores a new campaign of user userID; its program, group and account must exist and be
// the owner's (NotFound). The account defaults to the user's newest active account, as a transmission's.
func CreateCampaign(ctx context.Context, db *gorm.DB, o Owner, userID int64, f CampaignFields) (*Campaign, error) {
	c := &Campaign{Cpm: 2, TryAllowed: 1, Status: CampaignNew, UserID: userID}
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := c.apply(tx, o, f); err != nil {
			return err
		}
		if c.AccountID == nil {
			var ids []int64
			if err := tx.Table(accounts.name).Where("user_id = ? AND active = 1", userID).
				Order("account_id DESC").Limit(1).Pluck("account_id", &ids).Error; err != nil {
				return err
			}
			if len(ids) > 0 {
				c.AccountID = &ids[0]
			}
		}
		stamp(&c.CreatedAt, &c.UpdatedAt)
		return tx.Table(campaigns.name).Create(c).Error
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// apply checks and sets the fields given.
func (c *Campaign) apply(tx *gorm.DB, o Owner, f CampaignFields) error {
	for _, ref := range []struct {
		id  *int64
		t   table
		dst **int64
	}{{f.ProgramID, programs, &c.ProgramID}, {f.GroupID, groups, &c.GroupID}, {f.AccountID, accounts, &c.AccountID}} {
		if ref.id == nil {
			continue
		}
		if err := exists(tx, ref.t, o, *ref.id); err != nil {
			return err
		}
		*ref.dst = ref.id
	}
	if f.Cpm != nil {
		if *f.Cpm < 1 {
			return models.Errorf(models.Invalid, "cpm must be at least 1")
		}
		c.Cpm = *f.Cpm
	}
	if f.ClearCalling {
		c.CallingFrom, c.CallingTo, c.CallingWeekdays = nil, nil, ""
	}
	if f.Calling != nil {
		w, err := callhours.Parse(f.Calling.From, f.Calling.To, f.Calling.Weekdays)
		if err != nil {
			return models.Errorf(models.Invalid, "calling_hours: %s", err)
		}
		c.CallingFrom, c.CallingTo, c.CallingWeekdays = &w.From, &w.To, f.Calling.Weekdays
	}
	if f.TryAllowed != nil {
		if *f.TryAllowed < 1 {
			return models.Errorf(models.Invalid, "try_allowed must be at least 1")
		}
		c.TryAllowed = *f.TryAllowed
	}
	return nil
}

// GetCampaign loads a campaign the owner may see.
func GetCampaign(ctx context.Context, db *gorm.DB, o Owner, id int64) (*Campaign, error) {
	c, err := getOwned[Campaign](ctx, db, campaigns, o, id)
	if err != nil {
		return nil, err
	}
	return c, withProgress(db.WithContext(ctx), c)
}

// CampaignFilter is the whitelist of the campaign list's parameters.
type CampaignFilter struct {
	ID, ProgramID, GroupID, UserID *int64
	Status                         *string
	Before, After                  *int64 // created at, unix seconds, inclusive
	models.ListQuery
}

// ListCampaigns answers a page of the campaigns the owner may see.
func ListCampaigns(ctx context.Context, db *gorm.DB, o Owner, f CampaignFilter) (models.PageOf[Campaign], error) {
	page, err := listOwned(ctx, db, campaigns, o, f.ListQuery, func(c *Campaign) int64 { return c.ID },
		models.Equal("campaign_id", f.ID), models.Equal("program_id", f.ProgramID), models.Equal("group_id", f.GroupID),
		models.Equal("user_id", f.UserID), models.Equal("status", f.Status),
		models.AtMost("created_at", f.Before), models.AtLeast("created_at", f.After))
	if err != nil {
		return page, err
	}
	return page, withProgress(db.WithContext(ctx), pointers(page.Items)...)
}

func pointers[T any](vs []T) []*T {
	out := make([]*T, len(vs))
	for i := range vs {
		out[i] = &vs[i]
	}
	return out
}

// UpdateCampaign changes the fields given. A running campaign takes them at its next tick; a new cpm
// paces from now on.
func UpdateCampaign(ctx context.Context, db *gorm.DB, o Owner, id int64, f CampaignFields, now time.Time) (*Campaign, error) {
	var c *Campaign
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if c, err = lockCampaign(tx, o, id); err != nil {
			return err
		}
		old := c.Cpm
		if err := c.apply(tx, o, f); err != nil {
			return err
		}
		if c.Cpm != old {
			c.PaceStart, c.PaceReleased = now.UnixMilli(), 0
		}
		stampUpdate(&c.UpdatedAt)
		return tx.Table(campaigns.name).Save(c).Error
	})
	if err != nil {
		return nil, err
	}
	return c, withProgress(db.WithContext(ctx), c)
}

// DeleteCampaign deletes a campaign, its schedules and its transmissions still pending (never sent);
// those already sent stay, as the record of what was sent. A running campaign stops: its ticks find
// nothing.
func DeleteCampaign(ctx context.Context, db *gorm.DB, o Owner, id int64) error {
	return deleteOwned(ctx, db, campaigns, o, id, func(tx *gorm.DB) error {
		if err := deleteSchedules(tx, TargetCampaign, id); err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM campaign_progress WHERE campaign_id = ?", id).Error; err != nil {
			return err
		}
		return tx.Table(transmissions.name).Where("campaign_id = ? AND status = ?", id, StatusPending).Delete(nil).Error
	})
}

// lockCampaign loads a campaign the owner may see, locked for update on Postgres.
func lockCampaign(tx *gorm.DB, o Owner, id int64) (*Campaign, error) {
	q := o.scope(tx.Table(campaigns.name)).Where("campaign_id = ?", id)
	if models.IsPostgres(tx) {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var c Campaign
	if err := q.Take(&c).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, campaigns.notFound(id)
		}
		return nil, err
	}
	return &c, nil
}

// ArmTick puts on the queue, in tx, the engine's next tick of campaign c (its TickSeq) at time at.
type ArmTick func(tx *gorm.DB, c *Campaign, at time.Time) error

// StartCampaign starts (or resumes) a campaign: running, paced from now, with a new tick chain whose
// first tick arm queues at once. Its program (one that sends) and group (with contacts) must be set
// (Invalid); a running, completed or broken campaign answers Locked with ICTCore's messages.
func StartCampaign(ctx context.Context, db *gorm.DB, o Owner, id int64, now time.Time, arm ArmTick) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := lockCampaign(tx, o, id)
		if err != nil {
			return err
		}
		switch c.Status {
		case CampaignRunning:
			return models.Errorf(models.Locked, "Campaign already running")
		case CampaignCompleted:
			return models.Errorf(models.Locked, "Campaign completed, request denied")
		case CampaignBroken:
			return models.Errorf(models.Locked, "Campaign is broken, unable to process")
		}
		if c.ProgramID == nil {
			return models.Errorf(models.Invalid, "campaign %d has no program_id: set one before starting it", id)
		}
		if c.GroupID == nil {
			return models.Errorf(models.Invalid, "campaign %d has no group_id: set one before starting it", id)
		}
		prog, err := getOwned[Program](tx.Statement.Context, tx, programs, AnyOwner, *c.ProgramID)
		if models.KindOf(err) == models.NotFound {
			return models.Errorf(models.Invalid, "program %d of campaign %d was deleted: set another one", *c.ProgramID, id)
		}
		if err != nil {
			return err
		}
		if _, dir := ProgramService(prog.Type); dir != "outbound" {
			return models.Errorf(models.Invalid, "program %d is a %s program, which receives: a campaign sends", prog.ID, prog.Type)
		}
		var members []int64
		if err := tx.Table("contact_links").Where("group_id = ?", *c.GroupID).Limit(1).Pluck("contact_id", &members).Error; err != nil {
			return err
		}
		if len(members) == 0 && c.ContactTotal == 0 {
			return models.Errorf(models.Invalid, "group %d has no contacts: a campaign needs some to send to", *c.GroupID)
		}
		ts := now.Unix()
		c.Status, c.PaceStart, c.PaceReleased, c.TickSeq, c.LastRun, c.UpdatedAt = CampaignRunning, now.UnixMilli(), 0, c.TickSeq+1, &ts, ts
		if err := tx.Table(campaigns.name).Where("campaign_id = ?", id).Updates(map[string]any{"status": c.Status,
			"pace_start": c.PaceStart, "pace_released": 0, "tick_seq": c.TickSeq, "last_run": ts, "updated_at": ts}).Error; err != nil {
			return err
		}
		return arm(tx, c, now)
	})
}

// StopCampaign pauses a running campaign (Locked otherwise): no more releases; attempts under way end.
func StopCampaign(ctx context.Context, db *gorm.DB, o Owner, id int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		c, err := lockCampaign(tx, o, id)
		if err != nil {
			return err
		}
		if c.Status != CampaignRunning {
			return models.Errorf(models.Locked, "Campaign is not running")
		}
		return tx.Table(campaigns.name).Where("campaign_id = ?", id).Updates(map[string]any{"status": CampaignPaused,
			"tick_seq": c.TickSeq + 1, "updated_at": time.Now().Unix()}).Error
	})
}

// ActiveCampaigns answers up to limit running or paused campaigns, newest first (their progress, for
// metrics).
func ActiveCampaigns(ctx context.Context, db *gorm.DB, limit int) ([]Campaign, error) {
	var cs []Campaign
	err := db.WithContext(ctx).Table(campaigns.name).Where("status IN ?", []string{CampaignRunning, CampaignPaused}).
		Order("campaign_id DESC").Limit(limit).Find(&cs).Error
	if err != nil {
		return nil, err
	}
	return cs, withProgress(db.WithContext(ctx), pointers(cs)...)
}

// progressRow is one delivery transaction's share of a campaign's progress (campaign_progress).
type progressRow struct {
	ID         int64 `gorm:"primaryKey"`
	CampaignID int64
	Ended      int64
	Failed     int64
}

func (progressRow) TableName() string { return "campaign_progress" }

// foldProgress moves the progress rows of campaign c into its counters, on the row and in c, under the
// campaign's lock: its tick's.
func foldProgress(tx *gorm.DB, c *Campaign) error {
	var rows []progressRow
	if err := tx.Raw("DELETE FROM campaign_progress WHERE campaign_id = ? RETURNING ended, failed", c.ID).Scan(&rows).Error; err != nil || len(rows) == 0 {
		return err
	}
	var ended, failed int64
	for _, r := range rows {
		ended, failed = ended+r.Ended, failed+r.Failed
	}
	c.ContactEnded, c.ContactFailed = c.ContactEnded+ended, c.ContactFailed+failed
	return tx.Exec("UPDATE campaigns SET contact_ended = contact_ended + ?, contact_failed = contact_failed + ? WHERE campaign_id = ?",
		ended, failed, c.ID).Error
}

// withProgress adds to the counters of campaigns read from the store the progress rows not folded yet.
func withProgress(db *gorm.DB, cs ...*Campaign) error {
	if len(cs) == 0 {
		return nil
	}
	byID := make(map[int64]*Campaign, len(cs))
	ids := make([]int64, len(cs))
	for i, c := range cs {
		byID[c.ID], ids[i] = c, c.ID
	}
	var sums []progressRow
	if err := db.Raw("SELECT campaign_id, SUM(ended) AS ended, SUM(failed) AS failed FROM campaign_progress WHERE campaign_id IN ? GROUP BY campaign_id", ids).
		Scan(&sums).Error; err != nil {
		return err
	}
	for _, s := range sums {
		c := byID[s.CampaignID]
		c.ContactEnded, c.ContactFailed = c.ContactEnded+s.Ended, c.ContactFailed+s.Failed
	}
	return nil
}
