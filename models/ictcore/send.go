package ictcore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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
// for one: per owner among them, one conditional update; then the delivery jobs through enqueue and
// the new spools' insert, for all of them. It answers one Sent per request, in order; its own error is the
// store's, and then nothing of the batch was written. A transmission sent twice in the batch starts
// once: the later request answers "already in process", as the later of two concurrent sends does.
func SendTransmissions(ctx context.Context, db *gorm.DB, reqs []SendRequest, enqueue Enqueue) ([]Sent, error) {
	var sent []Sent
	err := db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		sent = make([]Sent, len(reqs))
		byOwner := map[Owner][]int64{}
		for _, r := range reqs {
			byOwner[r.Owner] = append(byOwner[r.Owner], r.ID)
		}
		now := time.Now().Unix()
		var moved []Transmission
		mover := map[int64]Owner{} // transmission → the owner whose request moved it
		for o, tids := range byOwner {
			m, err := moveToProcessing(tx, o, tids, now, sendDue)
			if err != nil {
				return err
			}
			for _, t := range m {
				mover[t.ID] = o
			}
			moved = append(moved, m...)
		}
		ss, err := queueSpools(tx, moved, now, enqueue)
		if err != nil {
			return err
		}
		started := make(map[SendRequest]*Spool, len(ss))
		for i := range ss {
			started[SendRequest{Owner: mover[ss[i].TransmissionID], ID: ss[i].TransmissionID}] = &ss[i]
		}
		for i, r := range reqs {
			if sp, ok := started[r]; ok {
				sent[i].Spool = sp
				delete(started, r) // a second request for it finds it in process
				continue
			}
			why := whyNotSent(tx, r)
			if k := models.KindOf(why); k != models.NotFound && k != models.Locked {
				return why // the store failed
			}
			sent[i].Err = why
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sent, nil
}

// due is the condition a transmission must meet for an attempt to start: a SQL condition on transmissions
// and its arguments. It tests rowStatus: the transmissions are found by id.
type due struct {
	cond string
	args []any
}

// rowStatus is the status column for a test on rows found by their ids: as an expression no index
// holds, so the ids' index finds them. Tested as the bare column, Postgres's planner scanned the status
// index whenever its statistics said the status was rare, which they do whenever a campaign's or a
// bench's rows have just changed status together: 4–5 ms to pick 10 rows out of 10,000 processing
// ones, against a tenth of a millisecond by id (EXPLAIN ANALYZE), and a sixth of the store's CPU in
// the sends bench profile.
const rowStatus = "(status || '')"

// sendDue: a send or a retry by hand starts from pending, pending_retry or failed.
var sendDue = due{rowStatus + " IN ?", []any{sendable}}

// moveToProcessing moves the transmissions among ids that o may see and that meet d to processing with
// one more try, and answers them (id, service, account, owner).
func moveToProcessing(tx *gorm.DB, o Owner, ids []int64, now int64, d due) ([]Transmission, error) {
	var moved []Transmission // the update's RETURNING: no second read
	res := o.scope(tx.Model(&moved).Clauses(clause.Returning{Columns: []clause.Column{
		{Name: "transmission_id"}, {Name: "service_flag"}, {Name: "account_id"}, {Name: "user_id"}}}).
		Where("transmission_id IN ?", ids).Where(d.cond, d.args...)).
		Updates(map[string]any{"status": StatusProcessing, "try_done": gorm.Expr("try_done + 1"), "last_run": now, "updated_at": now})
	return moved, res.Error
}

// queueSpools inserts a queued spool for each of the transmissions just moved to processing, each named
// after the delivery job enqueue adds for it, and answers them in transmission order (moved is sorted). A spool knows its job
// from the start, so no job has to claim spools from a shared queue: on Postgres those claims, skipping
// each other's locked rows and the dead index entries the claimed ones leave, took a quarter of the
// store's time in the sends bench.
func queueSpools(tx *gorm.DB, moved []Transmission, now int64, enqueue Enqueue) ([]Spool, error) {
	if len(moved) == 0 {
		return nil, nil
	}
	slices.SortFunc(moved, func(a, b Transmission) int { return cmp.Compare(a.ID, b.ID) })
	jobs, err := enqueue(tx, len(moved))
	if err != nil {
		return nil, err
	}
	if len(jobs) != len(moved) {
		return nil, fmt.Errorf("enqueue: %d jobs for %d attempts", len(jobs), len(moved))
	}
	ss := make([]Spool, len(moved))
	for i, t := range moved {
		ss[i] = Spool{TransmissionID: t.ID, TimeSpool: now, Status: SpoolQueued, ServiceFlag: t.ServiceFlag,
			AccountID: t.AccountID, UserID: t.UserID, JobID: &jobs[i]}
	}
	if !models.IsPostgres(tx) {
		return ss, tx.CreateInBatches(&ss, 1000).Error
	}
	// One statement whose columns arrive as arrays (unnest), whatever the count: a VALUES list binds and
	// parses 9 parameters a row.
	var (
		txs, services, users, jobIDs []int64
		accounts                     []*int64
	)
	for _, sp := range ss {
		txs, services, users, jobIDs = append(txs, sp.TransmissionID), append(services, int64(sp.ServiceFlag)), append(users, sp.UserID), append(jobIDs, *sp.JobID)
		accounts = append(accounts, sp.AccountID)
	}
	// On the transaction's connection directly: gorm would spread each slice into a list of parameters.
	rows, err := tx.Statement.ConnPool.QueryContext(tx.Statement.Context, `INSERT INTO spools
		(transmission_id, service_flag, account_id, user_id, job_id, time_spool, status, response, gateway)
		SELECT t, s, a, u, j, $6, $7, '', '' FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[]) AS x(t, s, a, u, j)
		RETURNING transmission_id, spool_id`, txs, services, accounts, users, jobIDs, now, SpoolQueued)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	idOf := make(map[int64]int64, len(ss)) // transmission → its new spool: RETURNING keeps no order
	for rows.Next() {
		var t, id int64
		if err := rows.Scan(&t, &id); err != nil {
			return nil, err
		}
		idOf[t] = id
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range ss {
		if ss[i].ID = idOf[ss[i].TransmissionID]; ss[i].ID == 0 {
			return nil, fmt.Errorf("spool of transmission %d not inserted", ss[i].TransmissionID)
		}
	}
	return ss, nil
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
