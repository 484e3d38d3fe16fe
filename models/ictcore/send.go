package ictcore

import (
	"context"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/models"
)

// SendRequest is one send of a batch: transmission ID, as Owner may see it.
type SendRequest struct {
	Owner Owner
	ID    int64
}

// Sent answers one SendRequest: the attempt's queued spool, or why none started (NotFound, or Locked with
// ICTCore's messages).
type Sent struct {
	Spool *Spool
	Err   error
}

// SendTransmissions starts the attempts of several sends in one transaction, as SendTransmission does
// for one: per owner among them, one conditional update and the new spools' insert, then the spools'
// delivery jobs through enqueue. It answers one Sent per request, in order; its own error is the
// store's, and then nothing of the batch was written. A transmission sent twice in the batch starts
// once: the later request answers "already in process", as the later of two concurrent sends does.
func SendTransmissions(ctx context.Context, db *gorm.DB, reqs []SendRequest, enqueue EnqueueMany) ([]Sent, error) {
	var sent []Sent
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		sent = make([]Sent, len(reqs))
		byOwner := map[Owner][]int64{}
		for _, r := range reqs {
			byOwner[r.Owner] = append(byOwner[r.Owner], r.ID)
		}
		now := time.Now().Unix()
		started := make(map[SendRequest]*Spool, len(reqs))
		for o, tids := range byOwner {
			ss, err := startAttempts(tx, o, tids, now, sendDue)
			if err != nil {
				return err
			}
			for i := range ss {
				started[SendRequest{Owner: o, ID: ss[i].TransmissionID}] = &ss[i]
			}
		}
		var ids []int64 // the new spools, in request order
		for i, r := range reqs {
			if sp, ok := started[r]; ok {
				sent[i].Spool = sp
				ids = append(ids, sp.ID)
				delete(started, r) // a second request for it finds it in process
				continue
			}
			why := whyNotSent(tx, r)
			if k := models.KindOf(why); k != models.NotFound && k != models.Locked {
				return why // the store failed
			}
			sent[i].Err = why
		}
		if len(ids) == 0 {
			return nil
		}
		return enqueue(tx, ids)
	})
	if err != nil {
		return nil, err
	}
	return sent, nil
}

// due is the condition a transmission must meet for an attempt to start: a SQL condition on transmissions
// and its arguments.
type due struct {
	cond string
	args []any
}

// sendDue: a send or a retry by hand starts from pending, pending_retry or failed.
var sendDue = due{"status IN ?", []any{sendable}}

// startAttempts moves the transmissions among ids that o may see and that meet d to processing with one
// more try, and answers the queued spool of each. On Postgres that is one statement (the update feeding
// the insert): the sends bench timed the two statements at half or more of a batch's time.
func startAttempts(tx *gorm.DB, o Owner, ids []int64, now int64, d due) ([]Spool, error) {
	if models.IsPostgres(tx) {
		cond, args := d.cond, append([]any{StatusProcessing, now, now, ids}, d.args...)
		if o != AnyOwner {
			cond, args = cond+" AND user_id = ?", append(args, int64(o))
		}
		var ss []Spool
		err := tx.Raw(`WITH moved AS (UPDATE transmissions SET status = ?, try_done = try_done + 1, last_run = ?, updated_at = ?
			WHERE transmission_id IN ? AND `+cond+` RETURNING transmission_id, service_flag, account_id, user_id)
			INSERT INTO spools (transmission_id, time_spool, status, response, service_flag, account_id, gateway, user_id)
			SELECT transmission_id, ?, ?, '', service_flag, account_id, '', user_id FROM moved ORDER BY transmission_id
			RETURNING *`, append(args, now, SpoolQueued)...).Scan(&ss).Error
		return ss, err
	}
	var moved []Transmission // the update's RETURNING: no second read
	res := o.scope(tx.Model(&moved).Clauses(clause.Returning{Columns: []clause.Column{
		{Name: "transmission_id"}, {Name: "service_flag"}, {Name: "account_id"}, {Name: "user_id"}}}).
		Where("transmission_id IN ?", ids).Where(d.cond, d.args...)).
		Updates(map[string]any{"status": StatusProcessing, "try_done": gorm.Expr("try_done + 1"), "last_run": now, "updated_at": now})
	if res.Error != nil || len(moved) == 0 {
		return nil, res.Error
	}
	ss := make([]Spool, len(moved))
	for i, t := range moved {
		ss[i] = Spool{TransmissionID: t.ID, TimeSpool: now, Status: SpoolQueued, ServiceFlag: t.ServiceFlag,
			AccountID: t.AccountID, UserID: t.UserID}
	}
	return ss, tx.CreateInBatches(&ss, 1000).Error
}

// whyNotSent answers why a request's transmission did not move: it is not there for its owner
// (NotFound), or its status forbids a send (Locked); any other error is the store's.
func whyNotSent(tx *gorm.DB, r SendRequest) error {
	t, err := getOwned[Transmission](tx.Statement.Context, tx, transmissions, r.Owner, r.ID)
	if err != nil {
		return err
	}
	switch t.Status {
	case StatusInvalid:
		return models.Errorf(models.Locked, "Invalid transmission, unable to process")
	case StatusCompleted:
		return models.Errorf(models.Locked, "Transmission completed, request denied")
	}
	return models.Errorf(models.Locked, "Transmission already in process")
}
