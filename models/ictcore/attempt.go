package ictcore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/models"
)

// Attempts are made in batches: each queued spool names its delivery job from the start (one job per
// batch of spools, queueSpools), the job makes its spools' attempts, and records their outcomes together
// (FinishAttempts), so the statements per attempt shrink with the batch. The job starts them a few at a
// time just before their gateway calls (StartSpools), so a rerun of a job whose node died can tell the
// attempts it never made (still queued: made now) from those it was making (started: their outcome is
// unknown, StartedBy).

// A delivery job whose batch had room is inserted open (OpenBatch): later sends of the same node add
// their spools to it (JoinBatch) until the job seals it (SealBatch), just before it reads its spools. A
// join holds the batch's row until its transaction ends, and the seal waits for it, so a spool that
// names a job is always committed before that job reads its spools.

// OpenBatch marks job jobID open in tx, the transaction that inserts it.
func OpenBatch(tx *gorm.DB, jobID int64) error {
	return tx.Exec("INSERT INTO delivery_batches (job_id) VALUES (?)", jobID).Error
}

// JoinBatch answers, in tx, whether job jobID is still open; when it is, spools tx inserts naming it are
// made by it (the batch's row stays locked until tx ends, so the job cannot seal it before).
func JoinBatch(tx *gorm.DB, jobID int64) (bool, error) {
	q := "SELECT job_id FROM delivery_batches WHERE job_id = ?"
	if models.IsPostgres(tx) {
		q += " FOR SHARE"
	}
	var open []int64
	err := tx.Raw(q, jobID).Scan(&open).Error
	return len(open) == 1, err
}

// SealBatch closes job jobID's batch to joins, once every join under way has committed or failed.
func SealBatch(ctx context.Context, db *gorm.DB, jobID int64) error {
	return writeOne(db.WithContext(ctx), func(tx *gorm.DB) error {
		return tx.Exec("DELETE FROM delivery_batches WHERE job_id = ?", jobID).Error
	})
}

// QueuedFor answers the queued spools of job jobID, oldest first.
func QueuedFor(ctx context.Context, db *gorm.DB, jobID int64) ([]Spool, error) {
	var ss []Spool
	err := db.WithContext(ctx).Table(spools.name).Where("job_id = ? AND status = ?", jobID, SpoolQueued).Order("spool_id").Find(&ss).Error
	return ss, err
}

// ClaimQueued takes up to limit queued spools that name no job, oldest first, for job jobID and answers
// them: the spools of jobs from before spools named their job (found through the job_id index, where
// the spools that name no job are those few). A spool is claimed by one job only: on
// Postgres the rows are locked as they are picked (SKIP LOCKED, so two jobs take different spools), on
// SQLite the write transactions run one at a time.
func ClaimQueued(ctx context.Context, db *gorm.DB, jobID int64, limit int) ([]Spool, error) {
	pick := "SELECT spool_id FROM spools WHERE status = ? AND job_id IS NULL ORDER BY spool_id LIMIT ?"
	if models.IsPostgres(db) {
		pick += " FOR UPDATE SKIP LOCKED"
	}
	var claimed []Spool
	err := writeOne(db.WithContext(ctx), func(tx *gorm.DB) error {
		return tx.Raw("UPDATE spools SET job_id = ? WHERE spool_id IN ("+pick+") RETURNING *", jobID, SpoolQueued, limit).Scan(&claimed).Error
	})
	return claimed, err
}

// StartSpools moves queued spools of job jobID to started: their attempts begin now.
func StartSpools(ctx context.Context, db *gorm.DB, jobID int64, ids []int64) error {
	return writeOne(db.WithContext(ctx), func(tx *gorm.DB) error {
		return tx.Table(spools.name).Where("spool_id IN ? AND job_id = ? AND status = ?", ids, jobID, SpoolQueued).
			Updates(map[string]any{"status": SpoolStarted, "time_start": time.Now().Unix()}).Error
	})
}

// StartedBy answers the spools job jobID started and did not finish: found by a rerun of the job, they
// are attempts a killed node was making, whose outcome is unknown.
func StartedBy(ctx context.Context, db *gorm.DB, jobID int64) ([]Spool, error) {
	var ss []Spool
	err := db.WithContext(ctx).Table(spools.name).Where("status = ? AND job_id = ?", SpoolStarted, jobID).Find(&ss).Error
	return ss, err
}

// RequeueSpools puts started spools back in the queue, when their worker stopped before the gateway
// could make the attempts (the process is shutting down): the next run of their job delivers them.
func RequeueSpools(ctx context.Context, db *gorm.DB, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return writeOne(db.WithContext(ctx), func(tx *gorm.DB) error {
		return tx.Table(spools.name).Where("spool_id IN ? AND status = ?", ids, SpoolStarted).
			Updates(map[string]any{"status": SpoolQueued, "time_start": nil}).Error
	})
}

// Outcome is how an attempt ended.
type Outcome struct {
	Status     string // SpoolCompleted, SpoolFailed or SpoolInvalid
	Response   string // the far end's answer, or why there was none
	Reason     string // why the message was not delivered (the transmission's response); empty on success
	Connected  bool   // the far end answered (a call): time_connect is set
	NoRetry    bool   // a failure not to retry automatically
	ProviderID *int64
	Gateway    string
	Results    []SpoolResult // Type, Name and Data of each step result
}

// Ended is the outcome of one started spool.
type Ended struct {
	SpoolID int64
	Outcome
}

// Retry schedules, in the transaction tx that records a failed attempt, the automatic retry of t (whose
// TryDone counts the failed attempt).
type Retry func(tx *gorm.DB, t *Transmission) error

// FinishAttempts records the outcomes of a job's spools, their results, and what follows for their
// transmissions, in one transaction: completed; invalid; or failed, when no try is left (or NoRetry), else
// pending_retry with retry scheduling the next try. A spool that has ended (finished meanwhile) is left
// as it is, and so is a transmission no longer processing (deleted meanwhile).
// The spools are written by one statement (on Postgres), and transmissions with the same outcome too.
func FinishAttempts(ctx context.Context, db *gorm.DB, ended []Ended, retry Retry) error {
	if len(ended) == 0 {
		return nil
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := time.Now().Unix()
		byID := make(map[int64]*Ended, len(ended))
		for i := range ended {
			e := &ended[i]
			e.Response, e.Gateway, e.Reason = clip(e.Response, 255), clip(e.Gateway, 32), clip(e.Reason, 255)
			byID[e.SpoolID] = e
		}
		done, err := endSpools(tx, ended, now) // the spools this call ended: transmission and owner
		if err != nil {
			return err
		}
		// The transmissions: completed and invalid ones by their outcome, failed ones one by one, as
		// whether a retry follows depends on each one's tries.
		type txKey struct{ status, response string }
		settled := map[txKey][]int64{}
		var failed []*Ended
		txOf := map[int64]int64{} // spool → transmission, for the failed
		for _, s := range done {
			e := byID[s.ID]
			switch e.Status {
			case SpoolCompleted:
				settled[txKey{StatusCompleted, ""}] = append(settled[txKey{StatusCompleted, ""}], s.TransmissionID)
			case SpoolInvalid:
				k := txKey{StatusInvalid, e.Reason}
				settled[k] = append(settled[k], s.TransmissionID)
			default:
				failed, txOf[s.ID] = append(failed, e), s.TransmissionID
			}
		}
		progress := campaignProgress{}
		for k, ids := range settled {
			var ended []Transmission
			if err := tx.Raw("UPDATE transmissions SET status = ?, response = ?, updated_at = ? WHERE transmission_id IN ? AND "+rowStatus+" = ? RETURNING campaign_id",
				k.status, k.response, now, ids, StatusProcessing).Scan(&ended).Error; err != nil {
				return err
			}
			for _, t := range ended {
				progress.add(t.CampaignID, k.status != StatusCompleted)
			}
		}
		for _, e := range failed {
			t, err := failTransmission(tx, txOf[e.SpoolID], e, now, retry)
			if err != nil {
				return err
			}
			if t != nil && t.Status == StatusFailed {
				progress.add(t.CampaignID, true)
			}
		}
		return progress.save(tx)
	})
}

// endSpools records the outcomes of the spools still queued (found invalid before any attempt) or
// started, with their results, and answers those it ended (id, transmission, owner). On Postgres it is
// one statement whose columns arrive as arrays (unnest), whatever the count; on SQLite, where a statement
// costs no round trip, one a spool.
func endSpools(tx *gorm.DB, ended []Ended, now int64) ([]Spool, error) {
	n := len(ended)
	var (
		ids, providers                      = make([]int64, n), make([]*int64, n)
		statuses, responses, gateways, docs = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		connected                           = make([]bool, n)
	)
	for i := range ended {
		e := &ended[i]
		rs := make([]SpoolResult, len(e.Results))
		for j, r := range e.Results {
			rs[j] = SpoolResult{ID: e.SpoolID*100 + int64(j), ApplicationID: r.ApplicationID, Type: clip(r.Type, 80),
				Name: clip(r.Name, 80), Data: clip(r.Data, 255), DateCreated: now}
		}
		doc, err := json.Marshal(rs)
		if err != nil {
			return nil, err
		}
		ids[i], providers[i], statuses[i], responses[i], gateways[i], docs[i], connected[i] =
			e.SpoolID, e.ProviderID, e.Status, e.Response, e.Gateway, string(doc), e.Connected
	}
	var done []Spool
	if models.IsPostgres(tx) {
		// On the transaction's connection directly: gorm would spread each slice into a list of parameters.
		rows, err := tx.Statement.ConnPool.QueryContext(tx.Statement.Context, `UPDATE spools s SET status = v.status,
			response = v.response, time_end = $1, provider_id = v.provider, gateway = v.gateway, results = v.results,
			time_connect = CASE WHEN v.connected THEN $1 ELSE s.time_connect END
			FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::bool[], $8::text[])
				AS v(id, status, response, provider, gateway, connected, results)
			WHERE s.spool_id = v.id AND s.status IN ($9, $10)
			RETURNING s.spool_id, s.transmission_id, s.user_id`,
			now, ids, statuses, responses, providers, gateways, connected, docs, SpoolQueued, SpoolStarted)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var sp Spool
			if err := rows.Scan(&sp.ID, &sp.TransmissionID, &sp.UserID); err != nil {
				return nil, err
			}
			done = append(done, sp)
		}
		return done, rows.Err()
	}
	for i := range ended {
		var connect *int64
		if connected[i] {
			connect = &now
		}
		var rows []Spool
		if err := tx.Raw(`UPDATE spools SET status = ?, response = ?, time_end = ?, provider_id = ?, gateway = ?, results = ?,
			time_connect = COALESCE(?, time_connect) WHERE spool_id = ? AND status IN ? RETURNING spool_id, transmission_id, user_id`,
			statuses[i], responses[i], now, providers[i], gateways[i], docs[i], connect, ids[i],
			[]string{SpoolQueued, SpoolStarted}).Scan(&rows).Error; err != nil {
			return nil, err
		}
		done = append(done, rows...)
	}
	return done, nil
}

// campaignProgress counts, per campaign, the transmissions one FinishAttempts ended [ended, failed].
type campaignProgress map[int64]*[2]int64

func (p campaignProgress) add(campaign *int64, failed bool) {
	if campaign == nil {
		return
	}
	c := p[*campaign]
	if c == nil {
		c = &[2]int64{}
		p[*campaign] = c
	}
	c[0]++
	if failed {
		c[1]++
	}
}

// save adds the counts as progress rows (campaign_progress), one statement for all: no delivery waits on
// a campaign's row, which its tick holds while it releases (foldProgress adds them to the counters).
func (p campaignProgress) save(tx *gorm.DB) error {
	if len(p) == 0 {
		return nil
	}
	rows := make([]progressRow, 0, len(p))
	for _, id := range slices.Sorted(maps.Keys(p)) {
		rows = append(rows, progressRow{CampaignID: id, Ended: p[id][0], Failed: p[id][1]})
	}
	return tx.Create(&rows).Error
}

// failTransmission records a failed attempt on its transmission: failed, or pending_retry with the retry
// scheduled when tries are left, and answers it (nil: deleted meanwhile). The tries are read under a lock
// so a send cannot slip in.
func failTransmission(tx *gorm.DB, id int64, e *Ended, now int64, retry Retry) (*Transmission, error) {
	q := tx.Table(transmissions.name).Where("transmission_id = ? AND "+rowStatus+" = ?", id, StatusProcessing)
	if models.IsPostgres(tx) {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var t Transmission
	if err := q.Take(&t).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, nil // deleted meanwhile
		}
		return nil, err
	}
	t.Status = StatusFailed
	if !e.NoRetry && t.TryDone < t.TryAllowed {
		t.Status = StatusPendingRetry
		if err := retry(tx, &t); err != nil {
			return nil, fmt.Errorf("schedule the retry of transmission %d: %w", t.ID, err)
		}
	}
	return &t, tx.Table(transmissions.name).Where("transmission_id = ?", t.ID).
		Updates(map[string]any{"status": t.Status, "response": e.Reason, "updated_at": now}).Error
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// writeOne runs a single-statement write: as it is on Postgres (one round trip, no transaction around
// it), in a transaction on SQLite, where write transactions queue in order on the store's gate
// (models/sqlitegate.go) instead of polling for SQLite's lock.
func writeOne(db *gorm.DB, write func(tx *gorm.DB) error) error {
	if models.IsPostgres(db) {
		return write(db)
	}
	return db.Transaction(write)
}

// Target is what an attempt reads of its transmission and of the transmission's contact.
type Target struct {
	ProgramID             int64
	AccountID, CampaignID *int64
	ContactID             int64
	Contact               *Contact // its ID, Phone and Email only; nil: the contact was deleted
}

// AttemptTargets loads the targets of the transmissions of ids that exist, by transmission id (a batch's
// reads), in one query of the columns an attempt uses: two queries of whole rows, scanned by gorm's
// reflection, were a tenth of the sends bench's client CPU. Contacts are read without the visibility
// filter: a transmission is only ever made for a visible contact (contactExists, a campaign's prepare),
// and a visible contact stays visible (an import once done is final), while the filter's subquery was
// about a tenth of the statements found running in samples of the sends bench.
func AttemptTargets(ctx context.Context, db *gorm.DB, ids []int64) (map[int64]*Target, error) {
	rows, err := db.WithContext(ctx).Raw(`SELECT t.transmission_id, t.program_id, t.account_id, t.campaign_id, t.contact_id,
		c.contact_id, c.phone, c.email FROM transmissions t LEFT JOIN contacts c ON c.contact_id = t.contact_id
		WHERE t.transmission_id IN ?`, ids).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := make(map[int64]*Target, len(ids))
	for rows.Next() {
		var (
			id           int64
			t            Target
			contact      sql.NullInt64
			phone, email sql.NullString
		)
		if err := rows.Scan(&id, &t.ProgramID, &t.AccountID, &t.CampaignID, &t.ContactID, &contact, &phone, &email); err != nil {
			return nil, err
		}
		if contact.Valid {
			t.Contact = &Contact{ID: contact.Int64, Phone: phone.String, Email: email.String}
		}
		out[id] = &t
	}
	return out, rows.Err()
}
