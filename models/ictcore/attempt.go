package ictcore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"switchboard/models"
)

// Attempts are made in batches: a delivery job claims the oldest queued spools (ClaimQueued), makes
// them, and records their outcomes together (FinishAttempts), so the statements per attempt shrink with
// the batch (the sends bench: about 20 statements for each attempt made alone). Each spool still has its
// own job, inserted with it, so every spool is claimed by some job however the batches fall.

// A job claims queued spools (ClaimQueued: job_id set, still queued), then starts them a few at a time
// just before their gateway calls (StartClaimed), so a rerun of a job whose node died can tell the
// attempts it never made (claimed, queued: put back, ReleaseClaimed) from those it was making (started:
// their outcome is unknown, StartedBy).

// ClaimQueued takes up to limit unclaimed queued spools, oldest first, for job jobID and answers them. A
// spool is claimed by one job only: on Postgres the rows are locked as they are picked (SKIP LOCKED, so
// two jobs take different spools), on SQLite the write transactions run one at a time.
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

// StartClaimed moves claimed spools of job jobID to started: their attempts begin now.
func StartClaimed(ctx context.Context, db *gorm.DB, jobID int64, ids []int64) error {
	return writeOne(db.WithContext(ctx), func(tx *gorm.DB) error {
		return tx.Table(spools.name).Where("spool_id IN ? AND job_id = ? AND status = ?", ids, jobID, SpoolQueued).
			Updates(map[string]any{"status": SpoolStarted, "time_start": time.Now().Unix()}).Error
	})
}

// ReleaseClaimed puts back the spools job jobID claimed and never started (a rerun of the job).
func ReleaseClaimed(ctx context.Context, db *gorm.DB, jobID int64) error {
	return writeOne(db.WithContext(ctx), func(tx *gorm.DB) error {
		return tx.Table(spools.name).Where("job_id = ? AND status = ?", jobID, SpoolQueued).Update("job_id", nil).Error
	})
}

// StartedBy answers the spools job jobID started and did not finish: found by a rerun of the job, they
// are attempts a killed node was making, whose outcome is unknown.
func StartedBy(ctx context.Context, db *gorm.DB, jobID int64) ([]Spool, error) {
	var ss []Spool
	err := db.WithContext(ctx).Table(spools.name).Where("status = ? AND job_id = ?", SpoolStarted, jobID).Find(&ss).Error
	return ss, err
}

// RequeueSpools puts claimed or started spools back in the queue, when their worker stopped before the
// gateway could make the attempts (the process is shutting down): the job's next run, or another job,
// delivers them.
func RequeueSpools(ctx context.Context, db *gorm.DB, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return writeOne(db.WithContext(ctx), func(tx *gorm.DB) error {
		return tx.Table(spools.name).Where("spool_id IN ? AND status IN ?", ids, []string{SpoolQueued, SpoolStarted}).
			Updates(map[string]any{"status": SpoolQueued, "time_start": nil, "job_id": nil}).Error
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

// FinishAttempts records the outcomes of claimed spools, their results, and what follows for their
// transmissions, in one transaction: completed; invalid; or failed, when no try is left (or NoRetry), else
// pending_retry with retry scheduling the next try. A spool that has ended (finished meanwhile) is left
// as it is, and so is a transmission no longer processing (deleted meanwhile).
// Spools with the same outcome are written by one statement, and so are their transmissions.
func FinishAttempts(ctx context.Context, db *gorm.DB, ended []Ended, retry Retry) error {
	if len(ended) == 0 {
		return nil
	}
	return db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := time.Now().Unix()
		type spoolKey struct {
			status, response, gateway string
			connected                 bool
			provider                  int64
		}
		groups := map[spoolKey][]int64{}
		byID := make(map[int64]*Ended, len(ended))
		for i := range ended {
			e := &ended[i]
			e.Response, e.Gateway, e.Reason = clip(e.Response, 255), clip(e.Gateway, 32), clip(e.Reason, 255)
			k := spoolKey{e.Status, e.Response, e.Gateway, e.Connected, deref(e.ProviderID)}
			groups[k] = append(groups[k], e.SpoolID)
			byID[e.SpoolID] = e
		}
		var done []Spool // the spools this call ended: transmission and owner
		for k, ids := range groups {
			var provider *int64
			if k.provider != 0 {
				provider = &k.provider
			}
			set, args := "status = ?, response = ?, time_end = ?, provider_id = ?, gateway = ?",
				[]any{k.status, k.response, now, provider, k.gateway}
			if k.connected {
				set, args = set+", time_connect = ?", append(args, now)
			}
			var rows []Spool
			// Queued: claimed and found invalid before any attempt.
			if err := tx.Raw("UPDATE spools SET "+set+" WHERE spool_id IN ? AND status IN ? RETURNING spool_id, transmission_id, user_id",
				append(args, ids, []string{SpoolQueued, SpoolStarted})...).Scan(&rows).Error; err != nil {
				return err
			}
			done = append(done, rows...)
		}
		var results []SpoolResult
		for _, s := range done {
			for _, r := range byID[s.ID].Results {
				results = append(results, SpoolResult{SpoolID: s.ID, ApplicationID: r.ApplicationID, Type: clip(r.Type, 80),
					Name: clip(r.Name, 80), Data: clip(r.Data, 255), DateCreated: now, UserID: s.UserID})
			}
		}
		if err := insertResults(tx, results); err != nil {
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
			if err := tx.Raw("UPDATE transmissions SET status = ?, response = ?, updated_at = ? WHERE transmission_id IN ? AND status = ? RETURNING campaign_id",
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

// insertResults stores step results. On Postgres it is one statement whose columns arrive as arrays
// (unnest), 7 parameters whatever the count, where a VALUES list takes 7 per row to bind and parse: a
// batch of 100 simulator attempts writes 600 results.
func insertResults(tx *gorm.DB, rs []SpoolResult) error {
	if len(rs) == 0 {
		return nil
	}
	if !models.IsPostgres(tx) {
		return tx.CreateInBatches(&rs, 500).Error
	}
	var (
		spools, dates, users []int64
		apps                 []*int64
		types, names, data   []string
	)
	for _, r := range rs {
		spools, apps, dates, users = append(spools, r.SpoolID), append(apps, r.ApplicationID), append(dates, r.DateCreated), append(users, r.UserID)
		types, names, data = append(types, r.Type), append(names, r.Name), append(data, r.Data)
	}
	// On the transaction's connection directly: gorm would spread each slice into a list of parameters.
	_, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, `INSERT INTO spool_results
		(spool_id, application_id, type, name, data, date_created, user_id)
		SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::bigint[])`,
		spools, apps, types, names, data, dates, users)
	return err
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

// save adds the counts to the campaigns' progress, in id order (two transactions lock rows alike).
func (p campaignProgress) save(tx *gorm.DB) error {
	ids := slices.Sorted(maps.Keys(p))
	for _, id := range ids {
		if err := tx.Exec("UPDATE campaigns SET contact_ended = contact_ended + ?, contact_failed = contact_failed + ? WHERE campaign_id = ?",
			p[id][0], p[id][1], id).Error; err != nil {
			return err
		}
	}
	return nil
}

// failTransmission records a failed attempt on its transmission: failed, or pending_retry with the retry
// scheduled when tries are left, and answers it (nil: deleted meanwhile). The tries are read under a lock
// so a send cannot slip in.
func failTransmission(tx *gorm.DB, id int64, e *Ended, now int64, retry Retry) (*Transmission, error) {
	q := tx.Table(transmissions.name).Where("transmission_id = ? AND status = ?", id, StatusProcessing)
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

// TransmissionsByID loads the transmissions of ids that exist, by id (a batch's reads).
func TransmissionsByID(ctx context.Context, db *gorm.DB, ids []int64) (map[int64]*Transmission, error) {
	var ts []Transmission
	if err := db.WithContext(ctx).Table(transmissions.name).Where("transmission_id IN ?", ids).Find(&ts).Error; err != nil {
		return nil, err
	}
	out := make(map[int64]*Transmission, len(ts))
	for i := range ts {
		out[ts[i].ID] = &ts[i]
	}
	return out, nil
}

// ContactsByID loads the contacts of ids that exist, by id (a batch's reads). Without the visibility
// filter: a transmission is only ever made for a visible contact (contactExists, a campaign's prepare),
// and a visible contact stays visible (an import once done is final), while the filter's subquery was about a
// tenth of the statements found running in samples of the sends bench.
func ContactsByID(ctx context.Context, db *gorm.DB, ids []int64) (map[int64]*Contact, error) {
	var cs []Contact
	if err := db.WithContext(ctx).Table("contacts").Where("contact_id IN ?", ids).Find(&cs).Error; err != nil {
		return nil, err
	}
	out := make(map[int64]*Contact, len(cs))
	for i := range cs {
		out[cs[i].ID] = &cs[i]
	}
	return out, nil
}
