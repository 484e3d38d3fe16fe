package ucontact

import (
	"context"
	"crypto/rand"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/models"
)

// Where a call comes from.
const (
	OriginAgentCall   = "agentcall"   // AgentCall's two-step call
	OriginDialerTask  = "dialertask"  // DialerTask
	OriginSchedule    = "schedule"    // ScheduleDialerCall
	OriginUpload      = "uploadbase"  // a line of Dialers/uploadbase
	OriginWebcallback = "webcallback" // Webcallback
	OriginReschedule  = "reschedule"  // a DispositionCall's schedule
)

// A call's status. A dialer call is pending until its job claims it (dialing), then ends answered,
// no_answer, busy, failed or do_not_call; canceled when its campaign was deleted first. AgentCall's call is
// ringing: Switchboard places no real call, it records it and publishes the event.
const (
	CallPending   = "pending"
	CallDialing   = "dialing"
	CallRinging   = "ringing"
	CallAnswered  = "answered"
	CallNoAnswer  = "no_answer"
	CallBusy      = "busy"
	CallFailed    = "failed"
	CallDoNotCall = "do_not_call"
	CallCanceled  = "canceled"
)

// Call is a row of ucontact_calls.
type Call struct {
	ID           int64  `gorm:"primaryKey;column:id"`
	GUID         string `gorm:"column:guid"`
	Origin       string
	CampaignID   int64
	Campaign     string
	Agent        string
	Phone        string
	CallerID     string `gorm:"column:callerid"`
	Tech         string
	Context      string
	Destination  string
	Alternatives string
	Data         string
	Source       string
	Bulk         bool
	Automatic    bool
	Ref          string
	UploadID     int64
	CallDate     int64 `gorm:"column:calldate"`
	Status       string
	Reason       string
	CreatedBy    int64
	CreatedAt    int64
	DialedAt     int64
}

// TableName is the table of uContact calls.
func (Call) TableName() string { return "ucontact_calls" }

// UniqueID answers the call's Accolades-style id, `<seconds>.<sequence>`: the second the call was made
// and its own number, so it is unique and grows with time (ambiguity 33).
func (c *Call) UniqueID() string {
	return strconv.FormatInt(c.CreatedAt, 10) + "." + strconv.FormatInt(c.ID, 10)
}

// Variables answers the call's data (`k=v`, several joined by `:`) as call variables, with its GUID,
// campaign and origin: what its call events carry. An item without `=` is skipped.
func (c *Call) Variables() map[string]string {
	vars := ParseVariables(c.Data)
	vars["guid"], vars["origin"] = c.GUID, c.Origin
	if c.Campaign != "" {
		vars["campaign"] = c.Campaign
	}
	return vars
}

// ParseVariables reads `k=v` items joined by `:` (the vendor's `data`); an item without `=` or with an
// empty key is skipped.
func ParseVariables(data string) map[string]string {
	vars := map[string]string{}
	for item := range strings.SplitSeq(data, ":") {
		if k, v, ok := strings.Cut(item, "="); ok && k != "" {
			vars[k] = v
		}
	}
	return vars
}

// NewGUID answers a random (version 4) GUID in lower case, as the vendor's calls have.
func NewGUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// CreateAgentCall records a two-step call (status ringing), giving it its GUID.
func CreateAgentCall(ctx context.Context, db *gorm.DB, c *Call) error {
	now := time.Now().Unix()
	c.ID, c.GUID, c.Origin, c.Status, c.CreatedAt, c.CallDate, c.DialedAt = 0, NewGUID(), OriginAgentCall, CallRinging, now, now, now
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return tx.Create(c).Error })
}

// Enqueue inserts the jobs of calls (or SMS) just stored, in the transaction that stored them.
type Enqueue[T any] func(tx *gorm.DB, rows []T) error

// QueueCalls stores dialer calls of one campaign (each pending, with its GUID; CreatedAt now) and their jobs
// in one transaction. The campaign must still exist then (locked against a concurrent delete on Postgres),
// else NotFound and nothing is stored.
func QueueCalls(ctx context.Context, db *gorm.DB, campaign *Campaign, calls []Call, enqueue Enqueue[Call]) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return queueCalls(tx, campaign, calls, enqueue)
	})
}

func queueCalls(tx *gorm.DB, campaign *Campaign, calls []Call, enqueue Enqueue[Call]) error {
	if err := holdCampaign(tx, campaign); err != nil {
		return err
	}
	now := time.Now().Unix()
	for i := range calls {
		c := &calls[i]
		c.ID, c.GUID, c.Status, c.CreatedAt = 0, NewGUID(), CallPending, now
		c.CampaignID, c.Campaign = campaign.ID, campaign.Name
	}
	if err := tx.CreateInBatches(calls, 500).Error; err != nil {
		return err
	}
	return enqueue(tx, calls)
}

// holdCampaign checks, inside tx, that the campaign still exists, and on Postgres keeps it from being
// deleted until tx ends (SQLite's writers take turns anyway).
func holdCampaign(tx *gorm.DB, c *Campaign) error {
	q := tx.Model(&Campaign{}).Where("id = ?", c.ID)
	if models.IsPostgres(tx) {
		q = q.Clauses(clause.Locking{Strength: "SHARE"})
	}
	var ids []int64
	if err := q.Pluck("id", &ids).Error; err != nil {
		return err
	}
	if len(ids) == 0 {
		return models.Errorf(models.NotFound, "campaign %q was deleted meanwhile", c.Name)
	}
	return nil
}

// GetCall loads call id.
func GetCall(ctx context.Context, db *gorm.DB, id int64) (*Call, error) {
	return models.TakeOne[Call](db.WithContext(ctx).Where("id = ?", id),
		func() error { return models.Errorf(models.NotFound, "uContact call %d not found", id) })
}

// SetCallStatus moves call id from status from to status to, with a reason, when it is still in from;
// it answers whether it moved (false: another run moved it first, or the campaign was deleted).
func SetCallStatus(ctx context.Context, db *gorm.DB, id int64, from, to, reason string) (bool, error) {
	return setStatus(ctx, db, &Call{}, "dialed_at", id, from, to, reason)
}

func setStatus(ctx context.Context, db *gorm.DB, model any, atCol string, id int64, from, to, reason string) (bool, error) {
	var n int64
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Model(model).Where("id = ? AND status = ?", id, from).
			Updates(map[string]any{"status": to, "reason": reason, atCol: time.Now().Unix()})
		n = res.RowsAffected
		return res.Error
	})
	return n > 0, err
}

// FindCallByGUID answers the call of that GUID, or nil when there is none.
func FindCallByGUID(tx *gorm.DB, guid string) (*Call, error) {
	if guid == "" {
		return nil, nil
	}
	var cs []Call
	if err := tx.Where("guid = ?", guid).Limit(1).Find(&cs).Error; err != nil || len(cs) == 0 {
		return nil, err
	}
	return &cs[0], nil
}
