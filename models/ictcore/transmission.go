package ictcore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"

	"switchboard/models"
)

// ICTCore's transmissions (migration step 8): one message or call for one contact with one program. A
// transmission is sent in attempts, one spool each, recorded with the step results of that attempt.
//
//	pending ──send──▶ processing ──▶ completed
//	   ▲                  │   └────▶ invalid   (what to send cannot be built: a deleted message, no recipient)
//	   │                  └────────▶ failed    (no tries left)  ──send──▶ processing
//	   └── pending_retry ◀┘ (tries left: an automatic retry after a delay)
//
// A spool goes queued (sent) → started (a worker took it) → completed, failed or invalid. The moves are
// conditional updates, so two sends of one transmission, or two workers of one spool, cannot both win.

// Transmission statuses (the contract's TransmissionStatus).
const (
	StatusPending      = "pending"
	StatusPendingRetry = "pending_retry"
	StatusProcessing   = "processing"
	StatusCompleted    = "completed"
	StatusFailed       = "failed"
	StatusInvalid      = "invalid"
)

// sendable are the statuses a send or retry starts from (the contract: pending, pending_retry, failed).
var sendable = []string{StatusPending, StatusPendingRetry, StatusFailed}

// Spool statuses (the contract's SpoolStatus); the last three are final.
const (
	SpoolQueued    = "queued"
	SpoolStarted   = "started"
	SpoolCompleted = "completed"
	SpoolFailed    = "failed"
	SpoolInvalid   = "invalid"
)

// Transmission is one transmission.
type Transmission struct {
	ID          int64 `gorm:"primaryKey;column:transmission_id"`
	Title       string
	ServiceFlag int
	AccountID   *int64 // nil: the owner had no account
	ContactID   int64
	ProgramID   int64
	Origin      string
	Direction   string
	Status      string
	Response    string // why it failed or is invalid; empty otherwise
	TryAllowed  int
	TryDone     int
	LastRun     *int64
	CampaignID  *int64
	TimeZone    string // the contact's zone, for a campaign's calling window
	UserID      int64
	CreatedAt   int64
	UpdatedAt   int64
}

// Spool is one attempt of a transmission; UserID is the transmission's owner.
type Spool struct {
	ID             int64 `gorm:"primaryKey;column:spool_id"`
	TransmissionID int64
	TimeSpool      int64
	TimeStart      *int64
	TimeConnect    *int64
	TimeEnd        *int64
	Status         string
	Response       string
	ServiceFlag    int
	AccountID      *int64
	ProviderID     *int64
	Gateway        string
	UserID         int64
	JobID          *int64 // the delivery job that makes the attempt (not in the contract)
	// ResultsJSON holds its step results, a JSON array of SpoolResult, written with its outcome.
	ResultsJSON string `gorm:"column:results;default:'[]'"`
}

// SpoolResult is one step result of an attempt. Its ID is its spool's id × 100 plus its position;
// SpoolID and UserID are its spool's.
type SpoolResult struct {
	ID            int64  `json:"spool_result_id"`
	SpoolID       int64  `json:"-"`
	ApplicationID *int64 `json:"application_id"`
	Type          string `json:"type"`
	Name          string `json:"name"`
	Data          string `json:"data"`
	DateCreated   int64  `json:"date_created"`
	UserID        int64  `json:"-"`
}

// results answers the spool's step results.
func (s *Spool) results() ([]SpoolResult, error) {
	var rs []SpoolResult
	if s.ResultsJSON != "" {
		if err := json.Unmarshal([]byte(s.ResultsJSON), &rs); err != nil {
			return nil, fmt.Errorf("results of spool %d: %w", s.ID, err)
		}
	}
	for i := range rs {
		rs[i].SpoolID, rs[i].UserID = s.ID, s.UserID
	}
	return rs, nil
}

var (
	transmissions = table{"transmissions", "transmission_id", "transmission"}
	spools        = table{"spools", "spool_id", "spool"}
)

// ProgramService answers the service_flag of a program type's transmissions and their default direction
// (notes/ictcore.md section 4.6).
func ProgramService(typ string) (service int, direction string) {
	switch typ {
	case "sendfax":
		return 2, "outbound"
	case "sendemail", "emailtofax":
		return 8, "outbound"
	case "sendsms":
		return 4, "outbound"
	case "voicemessage", "voicetts":
		return 1, "outbound"
	case "receivefax", "faxtoemail":
		return 2, "inbound"
	case "receiveemail":
		return 8, "inbound"
	case "receivesms":
		return 4, "inbound"
	}
	return 0, "outbound"
}

// Draft is what a new transmission is made from; nil and zero fields take the defaults.
type Draft struct {
	ProgramID    int64
	ContactID    *int64
	Phone, Email string // a new contact of the caller's, when ContactID is nil
	AccountID    *int64 // nil: the creator's default account (its newest active one), if it has one
	Title        *string
	Origin       *string
	ServiceFlag  *int
	Direction    string
	TryAllowed   int
	UserID       int64 // the creator, who owns the transmission
}

// CreateTransmission checks what d names (the program, the contact, the account must exist and be the
// owner's to use), creates the contact d describes when it names none, and stores the transmission, all
// in one transaction.
func CreateTransmission(ctx context.Context, db *gorm.DB, o Owner, d Draft) (*Transmission, error) {
	var t *Transmission
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := lockedProgram(tx, o, d.ProgramID)
		if err != nil {
			return err
		}
		t, err = createTransmission(tx, o, p, d)
		return err
	})
	return t, err
}

// CreateWithProgram creates a new program of the type of program base, its parameters copied from base
// and then edited by change, and a transmission with it (POST /programs/{id}/transmissions), in one
// transaction.
func CreateWithProgram(ctx context.Context, db *gorm.DB, o Owner, base int64, change func(*Program) error, d Draft) (*Transmission, error) {
	var t *Transmission
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		p, err := lockedProgram(tx, o, base)
		if err != nil {
			return err
		}
		p.ParentID = nil
		if err := change(p); err != nil {
			return err
		}
		p.UserID = d.UserID
		if err := createProgram(tx, o, p); err != nil {
			return err
		}
		t, err = createTransmission(tx, o, p, d)
		return err
	})
	return t, err
}

// lockedProgram loads a program the owner may use, share-locked on Postgres until the transaction ends.
func lockedProgram(tx *gorm.DB, o Owner, id int64) (*Program, error) {
	q := o.scope(tx.Table(programs.name)).Where("program_id = ?", id)
	if models.IsPostgres(tx) {
		q = q.Clauses(lockShare)
	}
	var p Program
	if err := q.Take(&p).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, programs.notFound(id)
		}
		return nil, err
	}
	return &p, nil
}

func createTransmission(tx *gorm.DB, o Owner, p *Program, d Draft) (*Transmission, error) {
	service, direction := ProgramService(p.Type)
	if d.ServiceFlag != nil && *d.ServiceFlag != service {
		return nil, models.Errorf(models.Invalid, "service_flag %d does not match program %d, a %s program (service_flag %d)",
			*d.ServiceFlag, p.ID, p.Type, service)
	}
	t := &Transmission{Title: p.Name, ServiceFlag: service, ProgramID: p.ID, Origin: p.Type, Direction: direction,
		Status: StatusPending, TryAllowed: max(d.TryAllowed, 1), UserID: d.UserID}
	if d.Title != nil {
		t.Title = *d.Title
	}
	if d.Origin != nil {
		t.Origin = *d.Origin
	}
	if d.Direction != "" {
		t.Direction = d.Direction
	}
	switch {
	case d.ContactID != nil:
		if err := contactExists(tx, o, *d.ContactID); err != nil {
			return nil, err
		}
		t.ContactID = *d.ContactID
	case d.Phone != "" || d.Email != "":
		c := &Contact{Phone: d.Phone, Email: d.Email, UserID: d.UserID}
		if err := CreateContact(tx.Statement.Context, tx, c); err != nil {
			return nil, err
		}
		t.ContactID = c.ID
	default:
		return nil, models.Errorf(models.Invalid, "contact is missing")
	}
	if d.AccountID != nil {
		if err := exists(tx, accounts, o, *d.AccountID); err != nil {
			return nil, err
		}
		t.AccountID = d.AccountID
	} else {
		var ids []int64
		err := tx.Table(accounts.name).Where("user_id = ? AND active = 1", d.UserID).
			Order("account_id DESC").Limit(1).Pluck("account_id", &ids).Error
		if err != nil {
			return nil, err
		}
		if len(ids) > 0 {
			t.AccountID = &ids[0]
		}
	}
	stamp(&t.CreatedAt, &t.UpdatedAt)
	if err := tx.Create(t).Error; err != nil {
		return nil, err
	}
	return t, nil
}

// contactExists answers NotFound unless the contact exists, is visible (not part of an unfinished import)
// and the owner may see it; on Postgres it share-locks the row until the transaction ends.
func contactExists(tx *gorm.DB, o Owner, id int64) error {
	q := o.scopeOn("contacts.user_id")(visible(tx.Table("contacts"))).Where("contacts.contact_id = ?", id)
	if models.IsPostgres(tx) {
		q = q.Clauses(lockShare)
	}
	var ids []int64
	if err := q.Pluck("contacts.contact_id", &ids).Error; err != nil {
		return err
	}
	if len(ids) == 0 {
		return models.Errorf(models.NotFound, "contact %d not found", id)
	}
	return nil
}

// GetTransmission loads a transmission the owner may see.
func GetTransmission(ctx context.Context, db *gorm.DB, o Owner, id int64) (*Transmission, error) {
	return getOwned[Transmission](ctx, db, transmissions, o, id)
}

// DeleteTransmission deletes a transmission and its schedules; its spools and results stay (as in
// ICTCore). One being processed is not deleted (Conflict): its attempt is under way and ends by writing
// to it, so the delete waits for the attempt's outcome instead of racing it.
func DeleteTransmission(ctx context.Context, db *gorm.DB, o Owner, id int64) error {
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := o.scope(tx.Table(transmissions.name)).Where("transmission_id = ? AND status <> ?", id, StatusProcessing).Delete(nil)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected > 0 {
			return deleteSchedules(tx, TargetTransmission, id)
		}
		if _, err := getOwned[Transmission](tx.Statement.Context, tx, transmissions, o, id); err != nil {
			return err
		}
		return models.Errorf(models.Conflict, "transmission %d is being processed; delete it once its attempt has ended", id)
	})
}

// CloneTransmission copies a transmission as a new pending one with no tries, no response and no last
// run, for the same owner, program, contact and account; it is not sent.
func CloneTransmission(ctx context.Context, db *gorm.DB, o Owner, id int64) (*Transmission, error) {
	var t *Transmission
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var err error
		if t, err = getOwned[Transmission](tx.Statement.Context, tx, transmissions, o, id); err != nil {
			return err
		}
		t.ID, t.Status, t.Response, t.TryDone, t.LastRun = 0, StatusPending, "", 0, nil
		stamp(&t.CreatedAt, &t.UpdatedAt)
		return tx.Create(t).Error
	})
	return t, err
}

// TransmissionFilter is the whitelist of the transmission list's parameters (the reference code's).
type TransmissionFilter struct {
	ID, ProgramID, AccountID, ContactID, CampaignID, UserID *int64
	Before, After                                           *int64 // created at, unix seconds, inclusive
	ServiceFlag                                             *int   // every bit of the mask set
	Direction                                               *string
	Title, Origin, Status, Response                         *string // contain, ignoring case
	Phone, Email                                            *string // the account's or the contact's contains
	AccountPhone, AccountEmail, ContactPhone, ContactEmail  *string
	models.ListQuery
}

// ListTransmissions answers a page of the owner's transmissions.
func ListTransmissions(ctx context.Context, db *gorm.DB, o Owner, f TransmissionFilter) (models.PageOf[Transmission], error) {
	return listOwned(ctx, db, transmissions, o, f.ListQuery, func(t *Transmission) int64 { return t.ID },
		models.Equal("transmission_id", f.ID), models.Equal("program_id", f.ProgramID),
		models.Equal("account_id", f.AccountID), models.Equal("contact_id", f.ContactID),
		models.Equal("campaign_id", f.CampaignID), models.Equal("user_id", f.UserID),
		models.AtMost("created_at", f.Before), models.AtLeast("created_at", f.After), mask(f.ServiceFlag),
		models.Equal("direction", f.Direction), models.Contains("title", f.Title), models.Contains("origin", f.Origin),
		models.Contains("status", f.Status), models.Contains("response", f.Response),
		either(refContains("account_id", "accounts", "account_id", "phone", f.Phone),
			refContains("contact_id", "contacts", "contact_id", "phone", f.Phone)),
		either(refContains("account_id", "accounts", "account_id", "email", f.Email),
			refContains("contact_id", "contacts", "contact_id", "email", f.Email)),
		whereOf(refContains("account_id", "accounts", "account_id", "phone", f.AccountPhone)),
		whereOf(refContains("account_id", "accounts", "account_id", "email", f.AccountEmail)),
		whereOf(refContains("contact_id", "contacts", "contact_id", "phone", f.ContactPhone)),
		whereOf(refContains("contact_id", "contacts", "contact_id", "email", f.ContactEmail)))
}

// mask keeps rows whose service_flag has every bit of *m set (ICTCore's (flag & v) = v).
func mask(m *int) models.Where {
	if m == nil {
		return nil
	}
	v := *m
	return func(q *gorm.DB) *gorm.DB { return q.Where("(service_flag & ?) = ?", v, v) }
}

// refCond is one "column IN (ids of another table's rows matching)" condition, as SQL and its argument.
type refCond func(q *gorm.DB) (string, any)

// refContains keeps rows whose col names a row of table (by its id column) whose field contains *v.
// A subquery rather than a join: the list keeps its own columns and its plain id order.
func refContains(col, table, id, field string, v *string) refCond {
	if v == nil {
		return nil
	}
	return func(q *gorm.DB) (string, any) {
		sub := models.Contains(field, v)(q.Session(&gorm.Session{NewDB: true}).Table(table).Select(id))
		return col + " IN (?)", sub
	}
}

// whereOf makes one condition a filter.
func whereOf(c refCond) models.Where {
	if c == nil {
		return nil
	}
	return func(q *gorm.DB) *gorm.DB {
		sql, arg := c(q)
		return q.Where(sql, arg)
	}
}

// either keeps rows matching a or b.
func either(a, b refCond) models.Where {
	if a == nil || b == nil {
		return nil
	}
	return func(q *gorm.DB) *gorm.DB {
		sa, aa := a(q)
		sb, ab := b(q)
		return q.Where("("+sa+" OR "+sb+")", aa, ab)
	}
}

// Spools and results.

// SpoolFilter is the whitelist of a transmission's spool list (its detail).
type SpoolFilter struct {
	ID, AccountID    *int64
	ServiceFlag      *int
	Status, Response *string // equal
	models.ListQuery
}

// ListSpools answers a page of the attempts of a transmission the owner may see, oldest first.
func ListSpools(ctx context.Context, db *gorm.DB, o Owner, transmissionID int64, f SpoolFilter) (models.PageOf[Spool], error) {
	if _, err := GetTransmission(ctx, db, o, transmissionID); err != nil {
		return models.PageOf[Spool]{}, err
	}
	return listOwned(ctx, db, spools, o, f.ListQuery, func(s *Spool) int64 { return s.ID },
		models.Equal("transmission_id", &transmissionID), models.Equal("spool_id", f.ID),
		models.Equal("account_id", f.AccountID), mask(f.ServiceFlag), models.Equal("status", f.Status),
		models.Equal("response", f.Response))
}

// GetSpool loads a spool the owner may see.
func GetSpool(ctx context.Context, db *gorm.DB, o Owner, id int64) (*Spool, error) {
	return getOwned[Spool](ctx, db, spools, o, id)
}

// ResultFilter is the whitelist of the result lists.
type ResultFilter struct {
	ID, ApplicationID *int64
	Type, Name        *string // equal
	Data              *string // contains
	models.ListQuery
}

// ListSpoolResults answers a page of the results of a spool the owner may see.
func ListSpoolResults(ctx context.Context, db *gorm.DB, o Owner, spoolID int64, f ResultFilter) (models.PageOf[SpoolResult], error) {
	s, err := GetSpool(ctx, db, o, spoolID)
	if err != nil {
		return models.PageOf[SpoolResult]{}, err
	}
	return listResults(s, f)
}

// ListLastResults answers a page of the results of the last attempt of a transmission the owner may see
// (as the reference code does); none when it was never sent.
func ListLastResults(ctx context.Context, db *gorm.DB, o Owner, transmissionID int64, f ResultFilter) (models.PageOf[SpoolResult], error) {
	if _, err := GetTransmission(ctx, db, o, transmissionID); err != nil {
		return models.PageOf[SpoolResult]{}, err
	}
	var last []Spool
	err := db.WithContext(ctx).Table(spools.name).Where("transmission_id = ?", transmissionID).
		Order("spool_id DESC").Limit(1).Find(&last).Error
	if err != nil || len(last) == 0 {
		return models.PageOf[SpoolResult]{Items: []SpoolResult{}, Total: zeroIf(f.Count)}, err
	}
	return listResults(&last[0], f)
}

func zeroIf(count bool) *int64 {
	if !count {
		return nil
	}
	var n int64
	return &n
}

// listResults filters and pages a spool's results as the store's lists do (models.Page).
func listResults(s *Spool, f ResultFilter) (models.PageOf[SpoolResult], error) {
	rs, err := s.results()
	if err != nil {
		return models.PageOf[SpoolResult]{}, err
	}
	kept := rs[:0]
	for _, r := range rs {
		if (f.ID == nil || r.ID == *f.ID) && (f.ApplicationID == nil || (r.ApplicationID != nil && *r.ApplicationID == *f.ApplicationID)) &&
			(f.Type == nil || r.Type == *f.Type) && (f.Name == nil || r.Name == *f.Name) &&
			(f.Data == nil || strings.Contains(strings.ToLower(r.Data), strings.ToLower(*f.Data))) {
			kept = append(kept, r)
		}
	}
	return models.Page(kept, f.ListQuery, func(r *SpoolResult) int64 { return r.ID }), nil
}

// Attempts.

// Enqueue adds, in the transaction tx of n new attempts, the jobs that will deliver them, and answers the
// job of each attempt, in order: the attempts and their jobs commit together or not at all.
type Enqueue func(tx *gorm.DB, n int) ([]int64, error)

// SendTransmission starts an attempt of a transmission the owner may see (send and retry): a sendable
// transmission (pending, pending_retry, failed) becomes processing with one more try, and gets a queued
// spool whose delivery enqueue schedules, in one transaction. One that is processing, completed or
// invalid answers Locked with ICTCore's messages; of two concurrent sends exactly one wins, because the
// move is one conditional update.
func SendTransmission(ctx context.Context, db *gorm.DB, o Owner, id int64, enqueue Enqueue) (*Spool, error) {
	sent, err := SendTransmissions(ctx, db, []SendRequest{{Owner: o, ID: id}}, enqueue)
	if err != nil {
		return nil, err
	}
	return sent[0].Spool, sent[0].Err
}

// RetryTransmission starts the automatic retry of a transmission that waits for it: still pending_retry
// with tryDone tries. It answers nil, nil when the transmission moved on meanwhile (sent by hand, deleted).
func RetryTransmission(ctx context.Context, db *gorm.DB, id int64, tryDone int, enqueue Enqueue) (*Spool, error) {
	var s *Spool
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := time.Now().Unix()
		moved, err := moveToProcessing(tx, AnyOwner, []int64{id}, now, due{rowStatus + " = ? AND try_done = ?", []any{StatusPendingRetry, tryDone}})
		if err != nil {
			return err
		}
		ss, err := queueSpools(tx, moved, now, enqueue)
		if err != nil || len(ss) == 0 {
			return err // none: moved on meanwhile
		}
		s = &ss[0]
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// clip cuts s to at most n bytes, on a rune boundary, to fit its column.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
}
