package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/models"
)

// Limits of a call event's fields (openapi/platform.yaml states the same).
const (
	MaxUniqueID      = 64
	MaxPhone         = 32
	MaxAgent         = 128
	MaxSource        = 16
	MaxVariables     = 50
	MaxVariableName  = 64
	MaxVariableValue = 1000
)

// Record is a stored call event with its row id (call_events.id, growing with every new event).
type Record struct {
	ID int64
	CallEvent
}

// row is a row of call_events (migration step 25).
type row struct {
	ID         int64  `gorm:"primaryKey;column:id"`
	UniqueID   string `gorm:"column:unique_id"`
	State      string
	Direction  string
	Phone      string
	Agent      string
	CallCenter bool
	Source     string
	Variables  string
	ReceivedAt int64
}

func (row) TableName() string { return "call_events" }

func toRow(e CallEvent) (row, error) {
	vars := ""
	if len(e.Variables) > 0 {
		b, err := json.Marshal(e.Variables)
		if err != nil {
			return row{}, err
		}
		vars = string(b)
	}
	return row{UniqueID: e.UniqueID, State: e.State, Direction: e.Direction, Phone: e.Phone, Agent: e.Agent,
		CallCenter: e.CallCenter, Source: e.Source, Variables: vars, ReceivedAt: e.ReceivedAt.UnixMilli()}, nil
}

func (r *row) record() (Record, error) {
	e := CallEvent{UniqueID: r.UniqueID, State: r.State, Direction: r.Direction, Phone: r.Phone, Agent: r.Agent,
		CallCenter: r.CallCenter, Source: r.Source, ReceivedAt: time.UnixMilli(r.ReceivedAt).UTC()}
	if r.Variables != "" {
		if err := json.Unmarshal([]byte(r.Variables), &e.Variables); err != nil {
			return Record{}, fmt.Errorf("call event %d: variables: %w", r.ID, err)
		}
	}
	return Record{ID: r.ID, CallEvent: e}, nil
}

// Validate checks an event before it is recorded: a direction and a state of the contract, a unique id,
// and fields within their limits. Its errors are of kind Invalid.
func Validate(e CallEvent) error {
	switch {
	case e.Direction != Inbound && e.Direction != Outbound:
		return models.Errorf(models.Invalid, "direction %q: want %s or %s", e.Direction, Inbound, Outbound)
	case e.State != Ringing && e.State != Answered && e.State != Ended:
		return models.Errorf(models.Invalid, "state %q: want %s, %s or %s", e.State, Ringing, Answered, Ended)
	case e.UniqueID == "" || utf8.RuneCountInString(e.UniqueID) > MaxUniqueID:
		return models.Errorf(models.Invalid, "unique_id must have 1 to %d characters", MaxUniqueID)
	case utf8.RuneCountInString(e.Phone) > MaxPhone:
		return models.Errorf(models.Invalid, "phone must have at most %d characters", MaxPhone)
	case utf8.RuneCountInString(e.Agent) > MaxAgent:
		return models.Errorf(models.Invalid, "agent must have at most %d characters", MaxAgent)
	case len(e.Source) > MaxSource:
		return models.Errorf(models.Invalid, "source must have at most %d characters", MaxSource)
	case len(e.Variables) > MaxVariables:
		return models.Errorf(models.Invalid, "at most %d call variables", MaxVariables)
	}
	for k, v := range e.Variables {
		if k == "" || utf8.RuneCountInString(k) > MaxVariableName {
			return models.Errorf(models.Invalid, "call variable name %q: 1 to %d characters", k, MaxVariableName)
		}
		if utf8.RuneCountInString(v) > MaxVariableValue {
			return models.Errorf(models.Invalid, "call variable %q: at most %d characters", k, MaxVariableValue)
		}
	}
	return nil
}

// Config is what a Recorder is built from.
type Config struct {
	DB    *gorm.DB
	Sinks []Sink
	// Local hands a new event to this node's listeners once it has committed, on a store without
	// LISTEN/NOTIFY (SQLite: one process). On Postgres it is not called: the event is announced with
	// pg_notify in its own transaction, and every node, this one included, hears it on its LISTEN
	// connection (realtime.Relay), so each node's listeners get it once.
	Local func(CallEvent)
	// Clock stamps ReceivedAt; nil: time.Now.
	Clock func() time.Time
}

// Recorder is the Publisher over the store (DESIGN §6): one transaction records the event, runs the
// sinks and (on Postgres) announces it; the listeners get it after the commit.
type Recorder struct {
	db       *gorm.DB
	sinks    []Sink
	local    func(CallEvent)
	clock    func() time.Time
	postgres bool
}

var _ Publisher = (*Recorder)(nil)

// NewRecorder builds the Publisher.
func NewRecorder(c Config) *Recorder {
	if c.Clock == nil {
		c.Clock = time.Now
	}
	return &Recorder{db: c.DB, sinks: c.Sinks, local: c.Local, clock: c.Clock, postgres: models.IsPostgres(c.DB)}
}

// Publish records e, runs the sinks in the same transaction and broadcasts it after the commit. An event
// is named by its UniqueID (the call) and its State: publishing one already stored (by this node or any
// other, also at the same moment) changes nothing, runs no sink, broadcasts nothing, and answers the
// stored event with fresh false. ReceivedAt is set to now (milliseconds) unless the publisher gave one.
func (r *Recorder) Publish(ctx context.Context, e CallEvent) (CallEvent, bool, error) {
	rec, fresh, err := r.PublishRecord(ctx, e)
	return rec.CallEvent, fresh, err
}

// PublishRecord is Publish answering the stored event's row id too.
func (r *Recorder) PublishRecord(ctx context.Context, e CallEvent) (Record, bool, error) {
	if err := Validate(e); err != nil {
		return Record{}, false, err
	}
	if e.ReceivedAt.IsZero() {
		e.ReceivedAt = r.clock()
	}
	e.ReceivedAt = time.UnixMilli(e.ReceivedAt.UnixMilli()).UTC() // what the store keeps
	if len(e.Variables) == 0 {
		e.Variables = nil
	}
	rw, err := toRow(e)
	if err != nil {
		return Record{}, false, err
	}
	var (
		stored Record
		fresh  bool
	)
	err = r.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// The unique index decides between concurrent publishers: on Postgres the second insert waits for
		// the first transaction and then does nothing; on SQLite write transactions take turns.
		res := tx.Clauses(clause.OnConflict{Columns: []clause.Column{{Name: "unique_id"}, {Name: "state"}}, DoNothing: true}).Create(&rw)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var prev row
			if err := tx.Where("unique_id = ? AND state = ?", e.UniqueID, e.State).Take(&prev).Error; err != nil {
				return err
			}
			stored, err = prev.record()
			return err
		}
		fresh, stored = true, Record{ID: rw.ID, CallEvent: e}
		for _, sink := range r.sinks {
			if err := sink(ctx, tx, e); err != nil {
				return err
			}
		}
		if r.postgres {
			return notify(tx, stored)
		}
		return nil
	})
	if err != nil {
		return Record{}, false, err
	}
	if fresh && !r.postgres && r.local != nil {
		r.local(stored.CallEvent)
	}
	return stored, fresh, nil
}

// Get loads the event of row id.
func Get(ctx context.Context, db *gorm.DB, id int64) (Record, error) {
	var rw row
	err := db.WithContext(ctx).Where("id = ?", id).Take(&rw).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Record{}, models.Errorf(models.NotFound, "call event %d not found", id)
	}
	if err != nil {
		return Record{}, err
	}
	return rw.record()
}

// Find loads the event of a call's unique id in one state.
func Find(ctx context.Context, db *gorm.DB, uniqueID, state string) (Record, error) {
	var rw row
	err := db.WithContext(ctx).Where("unique_id = ? AND state = ?", uniqueID, state).Take(&rw).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return Record{}, models.Errorf(models.NotFound, "call event %s (%s) not found", uniqueID, state)
	}
	if err != nil {
		return Record{}, err
	}
	return rw.record()
}

// Since answers up to limit events whose id is above afterID and that were received at notBefore or
// later, in id order: what a node whose LISTEN connection dropped missed meanwhile.
func Since(ctx context.Context, db *gorm.DB, afterID int64, notBefore time.Time, limit int) ([]Record, error) {
	var rows []row
	if err := db.WithContext(ctx).Where("id > ? AND received_at >= ?", afterID, notBefore.UnixMilli()).
		Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]Record, 0, len(rows))
	for i := range rows {
		rec, err := rows[i].record()
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}
